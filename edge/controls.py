"""The MCU's controls as the device loop takes them: what a button press means, and the hand-over
of buttons, the DSP wake trigger and the mute switch from the bridge thread to the audio thread.

The car has push-to-talk: holding the talk button opens the microphone and releasing it ends the
request; a tap opens it for one request that ends on silence. The speaker has no push-to-talk: its
tap only interrupts (and then listens) while the device thinks or speaks. A press that interrupts
stops the reply at once (barge-in, `stops_speech`), before the audio thread gets to the press.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from edge.events import State
from firmware_bridge.events import ButtonPressed, DspWake, MuteChanged

Control = ButtonPressed | DspWake | MuteChanged
"""What reaches the loop from the MCU (MuteChanged via the mute gate, the rest via the bridge)."""


def stops_speech(kind: str, *, push_to_talk: bool) -> bool:
    """Does a press of `kind` interrupt a reply the moment it arrives (on the bridge thread)? A tap
    does; push-to-talk only on a device that has it (elsewhere the press opens nothing, and a reply
    stopped for it would leave the loop speaking with nobody listening)."""
    return kind == "short" or (kind == "ptt_down" and push_to_talk)


class Press(Enum):
    """What the loop does about a press."""

    OPEN = "open"
    """Open the microphone for one request that ends on silence."""
    OPEN_HELD = "open-held"
    """Open the microphone until the button is released."""
    HOLD = "hold"
    """Already listening: the release, not silence, now ends the request."""
    RELEASE = "release"
    """Push-to-talk released: the request ends with what was heard."""


def button_action(kind: str, *, push_to_talk: bool, state: State, listening: bool, held: bool) -> Press | None:
    """The action for a press of `kind` ("short", "long", "ptt_down", "ptt_up"); None: nothing.

    listening: a request is open (state wake or listening); held: that request waits for a release.
    """
    if kind == "ptt_up":
        return Press.RELEASE if listening and held else None
    if kind == "ptt_down" and push_to_talk:
        return Press.HOLD if listening else Press.OPEN_HELD
    if kind == "short" and not listening and (push_to_talk or state != State.IDLE):
        return Press.OPEN
    return None


class ControlInbox:
    """Controls queued on the bridge thread, handled on the audio thread (which alone touches the
    wake word and the recognizer) at its next frame, each by its type's handler."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Control] = queue.SimpleQueue()

    def put(self, event: Control) -> None:
        self._queue.put(event)

    def drain(self, handlers: Mapping[type, Callable[[Any], None]]) -> None:
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return
            handlers[type(event)](event)
