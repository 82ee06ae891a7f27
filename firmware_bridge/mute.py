"""The mute switch as a hard gate in front of wake word and ASR.

A privacy switch that the software merely "respects" tends to leak: one stage forgets to check a
flag, or a buffer filled before the switch flipped is decoded after it. So the device loop puts a
MuteGate at the very front of the audio path and hands every microphone frame through `passes()`;
while muted it returns None, so no later stage receives a sample, not even silence. Listeners hear
about every change so the loop can also drop what its stages had buffered before the switch moved.

The state comes from the MCU bridge (MuteChanged events, including the state reported in every
handshake and heartbeat). If the link drops, the gate keeps the last state it was told: a lost
cable must not unmute a muted device. A device loop with an MCU configured should start the gate
closed (the default) so nothing passes before the MCU has said where the switch is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

from firmware_bridge.events import BridgeEvent, MuteChanged

if TYPE_CHECKING:
    from firmware_bridge.link import McuBridge

log = logging.getLogger("firmware_bridge.mute")

Frame = TypeVar("Frame")


class MuteGate(Generic[Frame]):
    """Passes audio frames only while the mute switch is off."""

    def __init__(self, muted: bool = True) -> None:
        self._muted = muted
        self._lock = threading.Lock()
        self._listeners: list[Callable[[bool], None]] = []
        self.passed = 0
        """Frames let through so far."""
        self.blocked = 0
        """Frames stopped so far."""

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        """Close (True) or open (False) the gate, then tell the listeners if that was a change."""
        with self._lock:
            changed = muted != self._muted
            self._muted = muted
        if changed:
            log.info("microphone %s", "muted: no audio reaches wake word or ASR" if muted else "unmuted")
            for listener in list(self._listeners):
                try:
                    listener(muted)
                except Exception:
                    log.exception("mute listener failed")

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """listener(muted) runs on every change, e.g. to reset the wake word and VAD buffers."""
        self._listeners.append(listener)

    def on_event(self, event: BridgeEvent) -> None:
        """A McuBridge subscriber: follows MuteChanged, ignores everything else."""
        if isinstance(event, MuteChanged):
            self.set_muted(event.muted)

    def attach(self, bridge: McuBridge) -> MuteGate[Frame]:
        """Follow this bridge's mute switch from now on (and its current state, if it has one)."""
        bridge.subscribe(self.on_event)
        if bridge.muted is not None:
            self.set_muted(bridge.muted)
        return self

    def passes(self, frame: Frame) -> Frame | None:
        """The frame unchanged while unmuted; None while muted."""
        with self._lock:
            if self._muted:
                self.blocked += 1
                return None
            self.passed += 1
            return frame

    def filter(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """The frames of a stream that arrive while unmuted, in order."""
        for frame in frames:
            if self.passes(frame) is not None:
                yield frame
