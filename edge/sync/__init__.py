"""MQTT sync between the device outbox and the cloud (orders out; acks, status and catalog deltas in)."""

from edge.sync.client import SyncClient, SyncOptions, SyncStats
from edge.sync.connection import Backoff, ConnectionSpec

__all__ = ["Backoff", "ConnectionSpec", "SyncClient", "SyncOptions", "SyncStats"]
