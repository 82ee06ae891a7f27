"""The recognizer's view of its input: frames cleaned, recent audio addressable by stream sample index."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge.events import AudioChunk

RATE = 16000


@dataclass
class StreamAudio:
    """The stream's recent audio, addressable by absolute sample index."""

    base: int = 0
    data: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def end(self) -> int:
        return self.base + len(self.data)

    def push(self, samples: np.ndarray) -> None:
        self.data = np.concatenate([self.data, samples])

    def slice(self, start: int, stop: int) -> np.ndarray:
        start, stop = max(start, self.base), min(stop, self.end)
        return self.data[start - self.base:stop - self.base]

    def forget_before(self, index: int) -> None:
        if index > self.base:
            self.data = self.data[index - self.base:]
            self.base = index


def clean_samples(chunk: AudioChunk) -> np.ndarray:
    """Frame samples as finite float32 in [-1, 1]; a wrong rate is a caller bug we name clearly."""
    if chunk.sample_rate != RATE:
        raise ValueError(f"the recognizer takes {RATE} Hz audio, got a {chunk.sample_rate} Hz frame "
                         "(edge.audio sources resample; pass sample_rate=16000)")
    samples = np.asarray(chunk.samples, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(samples, -1.0, 1.0)
