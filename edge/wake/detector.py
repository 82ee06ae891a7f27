"""The streaming wake word detector: AudioChunk in, WakeDetected out, once per utterance.

Frames of any length are cut into 80 ms steps; each step costs one mel call, one embedding and
one head call (see features.py). A detection fires when the head's score reaches the threshold
outside the refractory period *and* the score has dropped below the threshold at least once since
the last detection, so one long utterance cannot fire twice however short the refractory period.

Bad frames (wrong rate, empty, not mono float audio, NaN) raise WakeInputError with a message
that says what to fix; the stream's state is left as it was, so the next good frame carries on.
"""

from __future__ import annotations

import numpy as np

from edge.events import AudioChunk, WakeDetected
from edge.wake.features import SAMPLE_RATE, STEP_SAMPLES
from edge.wake.model import ListenModel

# Float audio louder than this is almost certainly int16-scaled samples passed as floats.
_MAX_PLAUSIBLE_AMPLITUDE = 2.0


class WakeInputError(ValueError):
    """An audio frame the wake word cannot use; nothing was consumed from it."""


def check_frame(chunk: AudioChunk) -> np.ndarray:
    """The chunk's samples as contiguous float32, or WakeInputError saying what is wrong."""
    if not isinstance(chunk, AudioChunk):
        raise WakeInputError(f"expected an AudioChunk, got {type(chunk).__name__}")
    if chunk.sample_rate != SAMPLE_RATE:
        raise WakeInputError(f"wake word needs {SAMPLE_RATE} Hz audio, got a {chunk.sample_rate} Hz frame "
                             "(resample to settings.audio.sample_rate before the wake word)")
    samples = np.asarray(chunk.samples)
    if samples.ndim != 1:
        raise WakeInputError(f"wake word needs mono audio (1-D samples), got shape {samples.shape}")
    if samples.size == 0:
        raise WakeInputError("empty audio frame (0 samples)")
    if samples.dtype.kind != "f":
        raise WakeInputError(f"wake word needs float samples in [-1, 1], got {samples.dtype} "
                             "(divide int16 samples by 32768)")
    samples = samples.astype(np.float32, copy=False)
    if not np.isfinite(samples).all():
        raise WakeInputError("audio frame contains NaN or infinite samples")
    peak = float(np.abs(samples).max())
    if peak > _MAX_PLAUSIBLE_AMPLITUDE:
        raise WakeInputError(f"audio frame peaks at {peak:.0f}, expected samples in [-1, 1] "
                             "(int16 values passed as floats?)")
    return np.ascontiguousarray(samples)


class Trigger:
    """Threshold, refractory period and re-arming, counted in 80 ms steps of audio (not wall time).

    Shared by the live detector and the offline evaluation in export/bench, so the figures we
    publish come from the same decision rule the device runs.
    """

    def __init__(self, threshold: float, refractory_seconds: float) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        if refractory_seconds < 0:
            raise ValueError(f"refractory_seconds must be >= 0, got {refractory_seconds}")
        self.threshold = threshold
        self.refractory_steps = int(np.ceil(refractory_seconds * SAMPLE_RATE / STEP_SAMPLES))
        self.reset()

    def reset(self) -> None:
        self._step = 0
        self._quiet_until = 0
        self._armed = True

    def update(self, score: float) -> bool:
        """Feed one step's score; True when the wake word fires on this step."""
        self._step += 1
        above = score >= self.threshold
        if not above:
            self._armed = True  # the utterance that fired is over
        if above and self._armed and self._step > self._quiet_until:
            self._armed = False
            self._quiet_until = self._step + self.refractory_steps
            return True
        return False


def fire_steps(scores: np.ndarray, threshold: float, refractory_seconds: float) -> list[int]:
    """Indices of the steps at which a detector would fire on this score sequence."""
    trigger = Trigger(threshold, refractory_seconds)
    return [i for i, score in enumerate(scores) if trigger.update(float(score))]


class WakeDetector:
    """One listening stream. Not thread-safe: feed it from one thread (the audio loop)."""

    def __init__(self, model: ListenModel, threshold: float = 0.5, refractory_seconds: float = 2.0) -> None:
        self.model = model
        self.trigger = Trigger(threshold, refractory_seconds)
        self._stream = model.stream()
        self.reset()

    @property
    def phrase(self) -> str:
        return self.model.phrase

    @property
    def threshold(self) -> float:
        return self.trigger.threshold

    def reset(self) -> None:
        """Forget all audio and any refractory period (call after a gap, e.g. when unmuted)."""
        self._stream.reset()
        self.trigger.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self.last_score = 0.0

    def process(self, chunk: AudioChunk) -> list[WakeDetected]:
        """Feed one frame; return the detections that fired in it (normally none, at most one)."""
        samples = check_frame(chunk)
        buffered = len(self._pending)
        audio = np.concatenate([self._pending, samples]) if buffered else samples
        detections = []
        steps = len(audio) // STEP_SAMPLES
        for i in range(steps):
            self.last_score = score = self._stream.step(audio[i * STEP_SAMPLES: (i + 1) * STEP_SAMPLES])
            if self.trigger.update(score):
                end_in_chunk = (i + 1) * STEP_SAMPLES - buffered
                detections.append(WakeDetected(phrase=self.model.phrase, score=score,
                                               timestamp=chunk.timestamp + end_in_chunk / SAMPLE_RATE))
        self._pending = audio[steps * STEP_SAMPLES:].copy()
        return detections

    def scores(self, audio: np.ndarray) -> np.ndarray:
        """Score a whole clip step by step without firing (for evaluation); resets the stream first."""
        self.reset()
        samples = check_frame(AudioChunk(samples=np.asarray(audio), sample_rate=SAMPLE_RATE, timestamp=0.0))
        out = np.empty(len(samples) // STEP_SAMPLES, dtype=np.float32)
        for i in range(len(out)):
            out[i] = self._stream.step(samples[i * STEP_SAMPLES: (i + 1) * STEP_SAMPLES])
        self.reset()
        return out
