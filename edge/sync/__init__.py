"""MQTT sync between the device outbox and the cloud (orders out; acks, status and catalog deltas in)."""

from edge.sync.client import SyncClient
from edge.sync.connection import Backoff, ConnectionSpec
from edge.sync.options import SyncOptions, SyncStats

__all__ = ["Backoff", "ConnectionSpec", "SyncClient", "SyncOptions", "SyncStats"]
