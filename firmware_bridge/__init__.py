"""The host side of the serial link to the device's microcontroller, and a simulated MCU.

    from firmware_bridge import McuBridge, MuteGate
    with McuBridge("/dev/ttyACM0", baudrate=115200, heartbeat_seconds=1.0, ack_timeout=0.25, retries=3,
                   reconnect_seconds=0.5) as bridge:    # the device passes its [firmware] settings
        bridge.wait_connected(5.0)
        gate = MuteGate().attach(bridge)     # no audio passes while the mute switch is on
        bridge.set_led("listening")          # waits for the MCU's ACK

The wire protocol is specified in PROTOCOL.md beside this file.
"""

from firmware_bridge.errors import AckTimeout, BridgeError, Nacked, NotConnected, VersionMismatch
from firmware_bridge.events import (
    BridgeEvent,
    ButtonPressed,
    DspWake,
    LinkDown,
    LinkUp,
    MuteChanged,
    VolumeChanged,
)
from firmware_bridge.link import McuBridge, McuInfo
from firmware_bridge.mute import MuteGate
from firmware_bridge.protocol import LedPattern

__all__ = [
    "AckTimeout", "BridgeError", "BridgeEvent", "ButtonPressed", "DspWake", "LedPattern", "LinkDown",
    "LinkUp", "McuBridge", "McuInfo", "MuteChanged", "MuteGate", "Nacked", "NotConnected",
    "VersionMismatch", "VolumeChanged",
]
