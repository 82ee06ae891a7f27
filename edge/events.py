"""The events the pipeline's stages hand each other, from microphone to speaker.

Modelled on Wyoming's event vocabulary (audio-chunk, detection, transcript, synthesize, ...): each
stage consumes and emits these small frozen dataclasses, so a stage can be tested by feeding it
events and reading what it emits, and a Wyoming adapter later is a thin translation.
Timestamps are seconds on the audio clock of the stream (not wall time) unless named *_wall.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class StateChanged:
    """The device loop moved between idle, wake, listening, thinking, speaking."""

    state: str
    previous: str
    timestamp: float


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
