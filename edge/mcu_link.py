"""The device's [firmware] settings mapped onto the firmware bridge's constructor.

`firmware_bridge` is a library: it knows nothing of the device's config, and its constructor has no
defaults of its own, so the defaults live in one place (`edge.config.FirmwareSettings`) and this
module is the one mapping between the two.
"""

from __future__ import annotations

from typing import Any

from edge.config import FirmwareSettings
from firmware_bridge.link import McuBridge


def bridge_options(firmware: FirmwareSettings) -> dict[str, Any]:
    """The [firmware] section as McuBridge's keyword arguments (serial_port aside)."""
    return {"baudrate": firmware.baudrate, "heartbeat_seconds": firmware.heartbeat_seconds,
            "ack_timeout": firmware.ack_timeout_seconds, "retries": firmware.retries,
            "reconnect_seconds": firmware.reconnect_seconds}


def bridge_for(firmware: FirmwareSettings, port: str | None = None, **kwargs: Any) -> McuBridge:
    """A bridge (not started) set up from the [firmware] section; port overrides serial_port."""
    return McuBridge(port or firmware.serial_port, **bridge_options(firmware), **kwargs)
