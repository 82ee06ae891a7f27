"""The sync loop's knobs (from [broker] in the device config) and the counters it keeps."""

from __future__ import annotations

from dataclasses import dataclass

from edge.config import BrokerSettings


@dataclass(frozen=True)
class SyncOptions:
    """Timing and protocol for one SyncClient; the defaults are [broker]'s (edge.config.BrokerSettings)."""

    protocol: str
    """"auto" (MQTT 5, falling back to 3.1.1), "5" or "3.1.1"."""
    ack_timeout: float
    """Seconds without the cloud's ack before an order is published again (doubling per attempt)."""
    backoff_initial: float
    """First reconnect delay (seconds); doubles per failed attempt, half fixed and half random (equal jitter)."""
    backoff_max: float
    """Longest reconnect delay (seconds)."""
    max_inflight: int
    """Orders published but not yet acknowledged by the broker at any one time (messages)."""

    @classmethod
    def from_broker(cls, broker: BrokerSettings | None = None) -> SyncOptions:
        """The options a [broker] section asks for; no section means its defaults."""
        b = broker or BrokerSettings()
        return cls(protocol=b.protocol, ack_timeout=b.ack_timeout_seconds, backoff_initial=b.backoff_initial_seconds,
                   backoff_max=b.backoff_max_seconds, max_inflight=b.max_inflight)


@dataclass
class SyncStats:
    """Counters for logs, `orders sync --json` and the soak benchmark."""

    connects: int = 0
    disconnects: int = 0
    published: int = 0
    """Order publications, re-sends included."""
    republished: int = 0
    acks: int = 0
    """Acks that moved an order (duplicates not counted)."""
    statuses: int = 0
    cancels_sent: int = 0
    deltas: int = 0
    """Catalog payloads handed to the catalog."""
    dropped: int = 0
    """Incoming payloads refused as malformed, oversized or of an unknown version."""
    protocol: str = ""
    """MQTT version of the current or last session."""
