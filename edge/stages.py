"""The parts the device loop drives, as small protocols, and the `Stages` bundle that holds them.

The loop (edge/pipeline.py) depends only on these shapes, so each stage can be run and tested
alone and swapped (sherpa's offline or online recognizer, a real or simulated MCU, a speaker or a
WAV file, or the small fakes of tests/loop_fakes.py) without the loop changing. edge/device.py
builds the real ones from settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from edge.events import AudioChunk, RecognizerEvent, Reply, SynthesizedAudio, WakeDetected


class Gate(Protocol):
    """The mute switch in front of every stage (firmware_bridge.MuteGate)."""

    @property
    def muted(self) -> bool: ...
    def passes(self, frame: AudioChunk) -> AudioChunk | None:
        """The frame while unmuted, None while muted."""
        ...
    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """listener(muted) on every change, from whichever thread made it."""
        ...


class WakeWord(Protocol):
    def process(self, chunk: AudioChunk) -> list[WakeDetected]: ...
    def reset(self) -> None: ...


class Recognizer(Protocol):
    """VAD + ASR: frames in; SpeechStarted, PartialTranscript, FinalTranscript, Endpoint out."""

    def process(self, chunk: AudioChunk) -> list[RecognizerEvent]: ...
    def reset(self) -> None: ...
    def flush(self) -> list[RecognizerEvent]:
        """Commit what has been heard now (push-to-talk released, a request too long)."""
        ...


class Turn(Protocol):
    """One exchange as the dialogue returns it (edge.dialog.session.Turn)."""

    @property
    def user(self) -> str: ...
    @property
    def intent(self) -> str | None: ...
    @property
    def confidence(self) -> float | None: ...
    @property
    def slots(self) -> dict[str, Any]: ...
    @property
    def reply(self) -> Reply: ...


class Responder(Protocol):
    """NLU + dialogue: a transcript in, the session's Turn (user, intent, slots, reply) out."""

    def answer(self, text: str, alternatives: Sequence[tuple[str, float]] = ()) -> tuple[Turn, float, float]:
        """(turn, NLU seconds, dialogue seconds); alternatives: the recognizer's other readings of the request
        (text, log-probability per token), `text` among them, which the dialogue may answer instead."""
        ...

    def settle(self, turn: Turn) -> Turn:
        """The turn with its reply finished (an order's way to the store, once the cloud answers):
        the same reply text with words added at its end; the loop speaks them after the rest."""
        ...

    def timeout(self) -> Turn:
        """Nobody answered the pending question: the turn that says so."""
        ...

    def waiting_for_answer(self) -> bool: ...


class SpeechStats(Protocol):
    @property
    def audio_seconds(self) -> float:
        """Audio delivered so far (seconds)."""
        ...

    @property
    def first_audio_seconds(self) -> float | None:
        """From speak() to the first clause's audio (seconds)."""
        ...


class Speech(Protocol):
    """One reply being synthesized (edge.tts.Speech): iterate for its clauses' audio."""

    @property
    def stats(self) -> SpeechStats: ...
    def __iter__(self) -> Iterator[SynthesizedAudio]: ...
    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run callback (the sink's stop) when the reply is cancelled."""
        ...
    def cancel(self) -> None:
        """Barge-in: stop now, from any thread."""
        ...


class Synthesizer(Protocol):
    """Reply text to speech (edge.tts.Synthesizer); speak() returns at once, audio follows."""

    def speak(self, text: str) -> Speech: ...


class Sink(Protocol):
    """Where one reply's audio goes (speaker, WAV file, null): written, maybe stopped, then closed."""

    def write(self, samples: np.ndarray) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


@dataclass
class Stages:
    """Everything the loop drives, built by edge.device (or by a test)."""

    gate: Gate
    wake: WakeWord
    asr: Recognizer
    responder: Responder
    synthesizer: Synthesizer
    open_sink: Callable[[int], Sink]
    """Opens the sink for reply number n (speaker, WAV file, null); closed after the reply."""
    set_led: Callable[[str], None] | None = None
    online: Callable[[], bool | None] = lambda: None
    """True/False when a broker is configured (connected or not), None when none is."""
