"""What the bridge tells the rest of the device: small typed events, decoupled from wire ids.

The device loop subscribes to these (or reads McuBridge.events) and never sees frames, seqs or
retransmissions: a button press arrives once even when the MCU had to send it three times.
Timestamps are time.monotonic() seconds on the host, taken when the frame was decoded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ButtonPressed:
    """A button was pressed, or push-to-talk went down or up."""

    kind: str
    """"short", "long", "ptt_down" or "ptt_up"."""
    button: str
    """"action" (the main button) or "talk" (a dedicated push-to-talk button)."""
    timestamp: float


@dataclass(frozen=True)
class MuteChanged:
    """The mute switch state the host knows changed (emitted only on a change, or after a handshake)."""

    muted: bool
    source: str
    """"switch" (a MUTE message), "heartbeat" (state seen in a heartbeat) or "handshake"."""
    timestamp: float


@dataclass(frozen=True)
class VolumeChanged:
    """The user changed the volume on the device (0-100)."""

    level: int
    timestamp: float


@dataclass(frozen=True)
class DspWake:
    """The MCU's own keyword spotter fired."""

    score: float
    """Confidence 0-1 (the wire's 0-255 scaled)."""
    keyword: int
    timestamp: float


@dataclass(frozen=True)
class LinkUp:
    """The handshake completed: the MCU speaks our protocol major."""

    firmware: str
    version: str
    """The MCU's protocol version, "major.minor"."""
    muted: bool
    volume: int
    timestamp: float


@dataclass(frozen=True)
class LinkDown:
    """A handshaken link was lost (port vanished, heartbeats stopped, MCU rebooted)."""

    reason: str
    timestamp: float


BridgeEvent = ButtonPressed | MuteChanged | VolumeChanged | DspWake | LinkUp | LinkDown
