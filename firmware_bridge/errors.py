"""What McuBridge raises to its callers; the device loop catches BridgeError and carries on."""

from __future__ import annotations

from firmware_bridge.protocol import NackReason


class BridgeError(Exception):
    """Base of everything McuBridge raises to callers."""


class NotConnected(BridgeError):
    """No handshaken link right now; the message says why (the last error)."""


class AckTimeout(BridgeError):
    """The MCU did not answer a request after all retries."""


class Nacked(BridgeError):
    """The MCU refused a request."""

    def __init__(self, message: str, reason: NackReason | int) -> None:
        super().__init__(message)
        self.reason = reason


class VersionMismatch(BridgeError):
    """The MCU speaks another protocol major; the link stays down until that changes."""
