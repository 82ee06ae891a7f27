"""The device's settings for its two links to the outside: the MQTT broker and the microcontroller.

Sections of `edge.config.Settings` (`[broker]`, `[firmware]`), kept in their own module so edge/config.py
stays one screenful per stage; `edge.config` re-exports both. Defaults, units and bounds live here, once:
`edge.sync.options` and `edge.mcu_link` map them onto the sync client and the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from edge.config_load import between, bound


@dataclass(frozen=True)
class BrokerSettings:
    """The MQTT broker the device syncs orders and catalog deltas through."""

    url: str = ""
    """mqtt://host:port or mqtts://host:port; empty means the simulator starts an embedded broker."""

    username: str = ""
    """MQTT username (per device; defaults to the device id when empty)."""

    password: str = ""
    """MQTT password."""

    ca_file: str = ""
    """CA certificate (PEM) for mqtts:// URLs; empty uses the system store."""

    keepalive_seconds: int = field(default=30, metadata=between(5, 3600))
    """MQTT keep-alive interval (seconds)."""

    protocol: Literal["auto", "5", "3.1.1"] = "auto"
    """MQTT version: "auto" tries 5 and falls back to 3.1.1 when the broker refuses it (amqtt)."""

    client_id: str = ""
    """Fixed MQTT client id for the persistent session; empty means "voiceshop-<device id>"."""

    session_expiry_seconds: int = field(default=604800, metadata=bound(
        lambda v: 0 <= v <= 4294967295, "between 0 and 2^32-1"))
    """How long the broker keeps the device's session and queued messages while offline (seconds, MQTT 5)."""

    backoff_initial_seconds: float = field(default=0.5, metadata=between(0.01, 60))
    """First reconnect delay; doubles per failed attempt; each delay is half fixed,
    half random (equal jitter), so a fleet does not reconnect in one instant (seconds)."""

    backoff_max_seconds: float = field(default=60.0, metadata=between(0.1, 3600))
    """Longest reconnect delay (seconds)."""

    ack_timeout_seconds: float = field(default=30.0, metadata=between(0.1, 86400))
    """An order not acked by the cloud this long after publishing is published again; doubles per attempt (seconds)."""

    max_inflight: int = field(default=100, metadata=between(1, 65535))
    """Orders published but not yet acknowledged by the broker (PUBACK) at any one time (messages)."""


@dataclass(frozen=True)
class FirmwareSettings:
    """Serial link to the device's microcontroller."""

    serial_port: str = ""
    """Serial device (e.g. /dev/ttyACM0); empty means no MCU (or --sim-mcu)."""

    baudrate: int = field(default=115200, metadata=between(300, 4_000_000))
    """Serial baud rate (bits per second)."""

    heartbeat_seconds: float = field(default=1.0, metadata=between(0.01, 60))
    """Interval between heartbeats to the MCU (seconds); 3 silent intervals end the link."""

    ack_timeout_seconds: float = field(default=0.25, metadata=between(0.005, 10))
    """Wait this long for the MCU's ACK before re-sending a request (seconds)."""

    retries: int = field(default=3, metadata=between(0, 20))
    """Re-sends of an unanswered request before giving up (count)."""

    reconnect_seconds: float = field(default=0.5, metadata=between(0.01, 300))
    """Wait between attempts to reopen a vanished serial port (seconds)."""
