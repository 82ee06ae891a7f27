"""Small fakes for every stage the device loop drives (tests/loop_rig.py wires them to a real DeviceLoop).

No model is loaded: the microphone's frames carry a level that says what they are (silence, the
wake word, speech), the recognizer turns each burst of speech into the next line of its script,
the responder answers from a table, and the synthesizer yields one known chunk per word into a sink
that records it. The mute gate is the real `firmware_bridge.MuteGate`, and MCU events are the real
`firmware_bridge.events` types. Each fake can be held (to catch the loop thinking or speaking) or
told to fail, so barge-in, mute, push-to-talk and a failing stage can be provoked in any state.
The real-model tests (test_pipeline_loop.py) stay the end-to-end proof.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.config import WakeSettings
from edge.events import (
    AudioChunk,
    Endpoint,
    FinalTranscript,
    RecognizerEvent,
    Reply,
    SpeechStarted,
    SynthesizedAudio,
    WakeDetected,
)

RATE = 16000
SILENCE, SPEECH, WAKE = 0.0, 0.3, 0.8
"""Sample levels a frame is filled with: what the fake wake word and recognizer hear in it."""
ENDPOINT_FRAMES = 3
"""Quiet frames after speech before the fake recognizer reports an endpoint."""
VOICE_RATE = 1000
WORD_SAMPLES = 100
"""The fake voice: one 0.1 s chunk per word of the reply."""
WAIT = 10.0
"""Upper bound for waiting on the loop's threads (never reached when the loop works)."""


def until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll until predicate() holds or timeout passes; the predicate's last answer."""
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.002)
    return predicate()


def _has(chunk: AudioChunk, level: float) -> bool:
    return bool(np.any(np.abs(np.asarray(chunk.samples) - level) < 1e-3))


class ScriptedWake:
    """Fires once at the first frame of each run of WAKE-level frames."""

    def __init__(self, phrase: str = WakeSettings.phrase) -> None:
        self.phrase = phrase
        self.frames = 0
        self.resets = 0
        self.fail: Exception | None = None
        self._in_phrase = False

    def process(self, chunk: AudioChunk) -> list[WakeDetected]:
        self.frames += 1
        if self.fail is not None:
            raise self.fail
        heard = _has(chunk, WAKE)
        fired = heard and not self._in_phrase
        self._in_phrase = heard
        return [WakeDetected(self.phrase, 0.9, chunk.timestamp + chunk.duration)] if fired else []

    def reset(self) -> None:
        self.resets += 1
        self._in_phrase = False


class ScriptedRecognizer:
    """A VAD + ASR that hears SPEECH-level samples: each burst becomes the next line of the script,
    final after ENDPOINT_FRAMES quiet frames, with an Endpoint."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = deque(lines)
        self.alternatives: dict[str, tuple[tuple[str, float], ...]] = {}
        """A line's other readings, as the beam gives them (FinalTranscript.alternatives)."""
        self.frames = 0
        self.resets = 0
        self.flushes = 0
        self.fail: Exception | None = None
        self._start: float | None = None
        self._end = 0.0
        self._quiet = 0

    def process(self, chunk: AudioChunk) -> list[RecognizerEvent]:
        self.frames += 1
        if self.fail is not None:
            raise self.fail
        events: list[RecognizerEvent] = []
        if _has(chunk, SPEECH):
            if self._start is None:
                self._start = chunk.timestamp
                events.append(SpeechStarted(chunk.timestamp))
            self._end, self._quiet = chunk.timestamp + chunk.duration, 0
        elif self._start is not None:
            self._quiet += 1
            if self._quiet >= ENDPOINT_FRAMES:
                events += [self._final(), Endpoint(chunk.timestamp + chunk.duration)]
        return events

    def flush(self) -> list[RecognizerEvent]:
        self.flushes += 1
        return [self._final()] if self._start is not None else []

    def reset(self) -> None:
        self.resets += 1
        self._start, self._quiet = None, 0

    def _final(self) -> FinalTranscript:
        assert self._start is not None
        text = self.lines.popleft() if self.lines else ""
        final = FinalTranscript(text, self._start, self._end, alternatives=self.alternatives.get(text, ()))
        self._start, self._quiet = None, 0
        return final


@dataclass(frozen=True)
class FakeTurn:
    user: str
    intent: str | None
    confidence: float | None
    slots: dict[str, Any]
    reply: Reply


class ScriptedResponder:
    """Answers from a table (default "You said <text>."); a reply with expects_answer leaves a question
    pending until the next answer or the timeout. `hold` keeps answer() waiting (the loop thinks)."""

    def __init__(self, replies: dict[str, Reply] | None = None, settle_words: str = "") -> None:
        self.replies = replies or {}
        self.settle_words = settle_words
        self.asked: list[str] = []
        self.alternatives: list[tuple[tuple[str, float], ...]] = []
        self.timeouts = 0
        self.pending = False
        self.fail: Exception | None = None
        self.flowing = threading.Event()
        self.flowing.set()
        self.entered = threading.Event()
        """Set when answer() has been called (and may be held)."""

    def answer(self, text: str, alternatives: Sequence[tuple[str, float]] = ()) -> tuple[FakeTurn, float, float]:
        self.asked.append(text)
        self.alternatives.append(tuple(alternatives))
        self.entered.set()
        self.flowing.wait(WAIT)
        if self.fail is not None:
            raise self.fail
        reply = self.replies.get(text, Reply(f"You said {text}."))
        self.pending = reply.expects_answer
        return FakeTurn(text, "add_to_cart", 0.9, {"text": text}, reply), 0.004, 0.010

    def settle(self, turn: FakeTurn) -> FakeTurn:
        if not self.settle_words:
            return turn
        return dataclasses.replace(turn, reply=dataclasses.replace(
            turn.reply, text=f"{turn.reply.text} {self.settle_words}"))

    def timeout(self) -> FakeTurn:
        self.timeouts += 1
        self.pending = False
        return FakeTurn("", None, None, {}, Reply("I didn't hear an answer."))

    def waiting_for_answer(self) -> bool:
        return self.pending


@dataclass
class FakeStats:
    audio_seconds: float = 0.0
    first_audio_seconds: float | None = None


class FakeSpeech:
    """One reply: a chunk per word, each filled with its 1-based position / 100 (so a test can tell
    which words reached the sink). Waits before every chunk but the first while its synthesizer is held."""

    def __init__(self, synthesizer: FakeSynthesizer, text: str) -> None:
        self.synthesizer, self.text = synthesizer, text
        self.stats = FakeStats()
        self.cancelled = threading.Event()
        self._on_cancel: list[Callable[[], None]] = []

    def __iter__(self) -> Iterator[SynthesizedAudio]:
        words = [] if self.synthesizer.silent else self.text.split()
        for n, word in enumerate(words, start=1):
            while n > 1 and not self.synthesizer.flowing.wait(0.005):
                if self.cancelled.is_set():
                    return
            if self.cancelled.is_set():
                return
            if self.synthesizer.fail_at_word == n:
                raise RuntimeError("the voice failed")
            if self.stats.first_audio_seconds is None:
                self.stats.first_audio_seconds = 0.05
            self.stats.audio_seconds += WORD_SAMPLES / VOICE_RATE
            yield SynthesizedAudio(np.full(WORD_SAMPLES, n / 100, np.float32), VOICE_RATE, word, n == len(words))

    def on_cancel(self, callback: Callable[[], None]) -> None:
        self._on_cancel.append(callback)

    def cancel(self) -> None:
        if not self.cancelled.is_set():
            self.cancelled.set()
            for callback in self._on_cancel:
                callback()


class FakeSynthesizer:
    """speak(text) -> FakeSpeech; `flowing.clear()` holds every reply after its first word (the loop
    speaks), `fail_at_word = n` makes the n-th word fail, `silent` makes replies yield nothing."""

    def __init__(self) -> None:
        self.spoken: list[FakeSpeech] = []
        self.flowing = threading.Event()
        self.flowing.set()
        self.fail_at_word: int | None = None
        self.silent = False
        """Replies yield no audio (and no error)."""

    def speak(self, text: str) -> FakeSpeech:
        speech = FakeSpeech(self, text)
        self.spoken.append(speech)
        return speech


@dataclass
class RecordingSink:
    """A reply's sink that keeps what it was given."""

    chunks: list[np.ndarray] = field(default_factory=list)
    stopped: bool = False
    closed: bool = False

    def write(self, samples: np.ndarray) -> None:
        if not self.stopped:
            self.chunks.append(samples)

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.closed = True

    @property
    def words(self) -> int:
        return len(self.chunks)
