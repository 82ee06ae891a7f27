"""The parts the device loop drives, as small protocols, and the `Stages` bundle that holds them.

The loop (edge/pipeline.py) depends only on these shapes, so each stage can be run and tested
alone and swapped (sherpa's offline or online recognizer, a real or simulated MCU, a speaker or a
WAV file) without the loop changing. edge/device.py builds the real ones from settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from edge.events import AudioChunk, WakeDetected


class WakeWord(Protocol):
    def process(self, chunk: AudioChunk) -> list[WakeDetected]: ...
    def reset(self) -> None: ...


class Recognizer(Protocol):
    """VAD + ASR: frames in; SpeechStarted, PartialTranscript, FinalTranscript, Endpoint out."""

    def process(self, chunk: AudioChunk) -> list[Any]: ...
    def reset(self) -> None: ...
    def flush(self) -> list[Any]: ...


class Responder(Protocol):
    """NLU + dialogue: a transcript in, the session's Turn (user, intent, slots, reply) out."""

    def answer(self, text: str) -> tuple[Any, float, float]:
        """(turn, NLU seconds, dialogue seconds)."""
        ...

    def settle(self, turn: Any) -> Any:
        """The turn with its reply finished (an order's way to the store, once the cloud answers):
        the same reply text with words added at its end; the loop speaks them after the rest."""
        ...

    def timeout(self) -> Any: ...
    def waiting_for_answer(self) -> bool: ...


@dataclass
class Stages:
    """Everything the loop drives, built by edge.device (or by a test)."""

    gate: Any
    """firmware_bridge.MuteGate: passes(frame) -> frame or None."""
    wake: WakeWord
    asr: Recognizer
    responder: Responder
    synthesizer: Any
    """edge.tts.Synthesizer: speak(text) -> Speech."""
    open_sink: Callable[[int], Any]
    """Opens the sink for reply number n (speaker, WAV file, null); closed after the reply."""
    set_led: Callable[[str], None] | None = None
    online: Callable[[], bool | None] = lambda: None
    """True/False when a broker is configured (connected or not), None when none is."""
