"""The events the pipeline's stages hand each other, from microphone to speaker.

Modelled on Wyoming's event vocabulary (audio-chunk, detection, transcript, synthesize, ...): each
stage consumes and emits these small frozen dataclasses, so a stage can be tested by feeding it
events and reading what it emits, and a Wyoming adapter later is a thin translation.
Timestamps are seconds on the audio clock of the stream (not wall time) unless named *_wall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


@dataclass(frozen=True)
class AudioChunk:
    """A frame of mono float32 audio in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int
    timestamp: float
    """Start of the frame on the stream's clock (seconds)."""

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


@dataclass(frozen=True)
class WakeDetected:
    """The wake word fired (or the MCU's DSP / push-to-talk said so)."""

    phrase: str
    score: float
    timestamp: float
    source: str = "model"
    """"model", "dsp" (MCU wake trigger) or "button" (push-to-talk)."""


@dataclass(frozen=True)
class SpeechStarted:
    """The VAD heard speech begin."""

    timestamp: float


@dataclass(frozen=True)
class PartialTranscript:
    """A hypothesis for the speech heard so far; may change."""

    text: str
    timestamp: float


@dataclass(frozen=True)
class FinalTranscript:
    """The committed transcript of one speech segment."""

    text: str
    start: float
    end: float
    processing_seconds: float = 0.0
    alternatives: tuple[tuple[str, float], ...] = ()
    """Other readings of the same audio (text, log-probability per token), best first, `text` among them: the
    beam's hypotheses after the guard, which the dialogue may re-rank by what it understands
    (edge.dialog.hearing). Empty for greedy and for packed windows."""


@dataclass(frozen=True)
class Endpoint:
    """The speaker has finished: enough silence followed the last segment."""

    timestamp: float


@dataclass(frozen=True)
class Understanding:
    """What the NLU made of a transcript."""

    text: str
    intent: str
    confidence: float
    slots: dict[str, Any] = field(default_factory=dict)
    repaired: bool = False
    """The intent is the NLU's reading of the line with a misheard command word repaired by sound
    (edge.catalog.heard_commands), not of the words heard: the dialogue asks before it adds or removes."""


@dataclass(frozen=True)
class Reply:
    """What the dialogue decided: words to speak and actions taken."""

    text: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    expects_answer: bool = False
    """True when the device asked a question and keeps listening without a wake word."""


@dataclass(frozen=True)
class SynthesizedAudio:
    """A clause of reply audio, ready for the speaker."""

    samples: np.ndarray
    sample_rate: int
    text: str
    is_last: bool = False


RecognizerEvent = SpeechStarted | PartialTranscript | FinalTranscript | Endpoint
"""What a recognizer (VAD + ASR) reports for the frames it is fed."""


class State(StrEnum):
    """The device loop's states, in the order a request passes through them."""

    IDLE = "idle"
    WAKE = "wake"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"


@dataclass(frozen=True)
class StateChanged:
    """The device loop moved between idle, wake, listening, thinking, speaking."""

    state: State
    previous: State
    timestamp: float
    """Audio-clock time of the change (seconds)."""
    source: str | None = None
    """What opened the microphone ("model", "dsp", "button", "follow-up") or asked for an answer."""
    score: float | None = None
    """The wake word's score (0-1) when it opened the microphone."""
    reason: str | None = None
    """Why the loop went idle when it was not the reply's end ("timeout")."""


@dataclass(frozen=True)
class TurnFinished:
    """One request answered (or one unanswered question closed): what was heard, said and how long it took.

    `turn` is the session's Turn as the loop saw it settle; the fields are flat so a printer needs no
    knowledge of the dialogue's types.
    """

    turn: int
    """Number of the turn since the loop started (1, 2, ...)."""
    kind: str
    """"turn" (a transcript was answered) or "timeout" (a pending question got no answer)."""
    source: str
    transcript: str
    intent: str | None
    confidence: float | None
    slots: dict[str, Any]
    reply: str
    actions: list[dict[str, Any]]
    expects_answer: bool
    latency_ms: dict[str, float | None]
    """Per-stage latency (milliseconds; None where a stage did not run): see edge.latency."""
    speech_end: float | None
    """Audio-clock end of the user's last speech segment (seconds)."""
    endpoint_at: float | None
    """Audio-clock end of the frame in which the endpoint was detected (seconds)."""
    wake_score: float | None
    first_audio_wall: float | None
    """perf_counter() at the first reply audio: a driver in the same process compares it with its own."""
    reply_audio_seconds: float
    barged_in: bool
    """A barge-in replaced the reply before it was played to its end."""
    error: str | None = None
    """Why the reply could not be played (synthesis or sink failure)."""
    passed_over: str | None = None
    """The recognizer's first transcript, when the dialogue answered another reading of the same audio
    (edge.dialog.hearing); `transcript` is then what was answered. Left out of the JSON record when None."""


@dataclass(frozen=True)
class BargeIn:
    """The user interrupted (wake word or button) while the device thought or spoke."""

    timestamp: float
    """Audio-clock time of the interruption (seconds)."""


@dataclass(frozen=True)
class StageFailed:
    """A stage raised; the loop logged it, showed the error LED and went on."""

    stage: str
    """"wake", "asr", "respond" or "tts"."""
    message: str


LoopEvent = StateChanged | TurnFinished | BargeIn | StageFailed
"""What the device loop reports to its listener (edge.records turns each into one JSON object)."""

Emit = Callable[[LoopEvent], None]
"""The device loop's listener; called from the audio, responder and bridge threads."""


@dataclass(frozen=True)
class OrderChanged:
    """An order in the outbox moved (confirmed, sent, acked by the cloud, shipped, cancelled, ...)."""

    order_id: int
    key: str | None
    state: str
    previous: str
    detail: str
    at_wall: float
    """Wall-clock time of the change (Unix seconds)."""
