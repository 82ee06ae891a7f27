"""A real DeviceLoop over the fakes of tests/loop_fakes.py, and the moves the fast loop tests share.

`Bench` feeds level-coded frames on the stream clock and keeps every event the loop reports;
`benches()` makes benches for one test, closes them, and checks that the loop made no move outside
TRANSITIONS. `thinking`, `speaking` and `listening` bring a bench into that state and hold it there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from edge.config import Settings, load_settings
from edge.events import AudioChunk, LoopEvent, Reply, StageFailed, State, StateChanged, TurnFinished
from edge.pipeline import DeviceLoop
from edge.stages import Stages
from firmware_bridge import MuteGate
from firmware_bridge.events import ButtonPressed
from tests.loop_fakes import (
    ENDPOINT_FRAMES,
    RATE,
    SILENCE,
    SPEECH,
    WAIT,
    WAKE,
    FakeSynthesizer,
    RecordingSink,
    ScriptedRecognizer,
    ScriptedResponder,
    ScriptedWake,
    until,
)

QUESTION = Reply("How many bags?", expects_answer=True)
"""A reply that asks: the loop listens on without a wake word."""

TRANSITIONS = {
    ("idle", "wake"), ("wake", "listening"), ("listening", "thinking"), ("thinking", "speaking"),
    ("speaking", "idle"), ("speaking", "listening"), ("listening", "idle"), ("thinking", "idle"),
    ("thinking", "listening"), ("thinking", "wake"), ("speaking", "wake"),
}
"""Every move the loop may make; any other is a bug (checked after every test here)."""


@contextmanager
def benches() -> Iterator[Any]:
    """make(*lines, **options) -> Bench for one test; every bench is closed and its moves checked after."""
    made: list[Bench] = []

    def make(*lines: str, **options: Any) -> Bench:
        made.append(Bench(*lines, **options))
        return made[-1]

    yield make
    for b in made:
        b.close()
        assert b.transitions() <= TRANSITIONS, b.transitions() - TRANSITIONS


def press(kind: str) -> ButtonPressed:
    return ButtonPressed(kind, "talk" if kind.startswith("ptt") else "action", 0.0)


def thinking(b: Bench) -> None:
    """Hold the responder, ask, and wait until the loop is thinking about it."""
    b.responder.flowing.clear()
    b.responder.entered.clear()
    b.wake_word()
    b.say()
    assert b.responder.entered.wait(WAIT) and b.loop.state == State.THINKING


def speaking(b: Bench) -> None:
    """Hold the voice after the first word, ask, and wait until the loop is speaking."""
    b.synthesizer.flowing.clear()
    b.wake_word()
    b.say()
    assert until(lambda: b.loop.state == State.SPEAKING), b.loop.state


def listening(b: Bench) -> None:
    b.wake_word()
    assert b.loop.state == State.LISTENING


def bench_settings(profile: str = "speaker", **asr: Any) -> Settings:
    settings = load_settings(environ={})
    return dataclasses.replace(settings, device=dataclasses.replace(settings.device, profile=profile),
                               asr=dataclasses.replace(settings.asr, **asr))


class Bench:
    """A DeviceLoop over the fakes, with a microphone that feeds level-coded frames on the stream clock."""

    def __init__(self, *lines: str, profile: str = "speaker", replies: dict[str, Reply] | None = None,
                 muted: bool = False, settle_words: str = "", online: bool | None = None, **asr: Any) -> None:
        self.settings = bench_settings(profile, **asr)
        self.frame = RATE * self.settings.audio.frame_ms // 1000
        self.gate: MuteGate[AudioChunk] = MuteGate(muted=muted)
        self.wake = ScriptedWake(self.settings.wake.phrase)
        self.asr = ScriptedRecognizer(list(lines))
        self.responder = ScriptedResponder(replies, settle_words)
        self.synthesizer = FakeSynthesizer()
        self.sinks: dict[int, RecordingSink] = {}
        self.sink_fails = False
        self.leds: list[str] = []
        self.led_fails = False
        self.online = online
        self.events: list[LoopEvent] = []
        self.clock = 0.0
        stages = Stages(gate=self.gate, wake=self.wake, asr=self.asr, responder=self.responder,
                        synthesizer=self.synthesizer, open_sink=self._open_sink, set_led=self._set_led,
                        online=lambda: self.online)
        self.loop = DeviceLoop(stages, self.settings, self.events.append).start()

    def _open_sink(self, number: int) -> RecordingSink:
        if self.sink_fails:
            raise OSError("no speaker")
        self.sinks[number] = RecordingSink()
        return self.sinks[number]

    def _set_led(self, pattern: str) -> None:
        self.leds.append(pattern)
        if self.led_fails:
            raise OSError("the MCU is rebooting")

    # -- the microphone ----------------------------------------------------------------------------
    def feed(self, level: float, frames: int = 1) -> None:
        for chunk in self.chunks([level] * frames):
            self.loop.feed(chunk)

    def chunks(self, levels: list[float]) -> list[AudioChunk]:
        """Frames of these levels on the stream clock (a source for loop.run)."""
        chunks = []
        for level in levels:
            chunks.append(AudioChunk(np.full(self.frame, level, np.float32), RATE, self.clock))
            self.clock += self.frame / RATE
        return chunks

    def silence(self, frames: int = 1) -> None:
        self.feed(SILENCE, frames)

    def seconds(self, seconds: float) -> int:
        """Frames in `seconds` of audio."""
        return round(seconds * RATE / self.frame)

    def wake_word(self) -> None:
        self.silence(2)
        self.feed(WAKE)

    def say(self, frames: int = 5) -> None:
        """Speech, then the quiet that ends it (the endpoint)."""
        self.feed(SPEECH, frames)
        self.silence(ENDPOINT_FRAMES)

    def request(self) -> None:
        """The wake word, a request, and the wait for the answer."""
        self.wake_word()
        self.say()
        assert self.loop.wait_quiet(WAIT)

    # -- what the loop reported --------------------------------------------------------------------
    def states(self) -> list[str]:
        return [e.state.value for e in self.of(StateChanged)]

    def transitions(self) -> set[tuple[str, str]]:
        return {(e.previous.value, e.state.value) for e in self.of(StateChanged)}

    def turns(self) -> list[TurnFinished]:
        return self.of(TurnFinished)

    def failures(self) -> list[str]:
        return [e.stage for e in self.of(StageFailed)]

    def of(self, kind: type) -> list[Any]:
        return [e for e in list(self.events) if isinstance(e, kind)]

    def close(self) -> None:
        self.responder.flowing.set()
        self.synthesizer.flowing.set()
        self.loop.close()
