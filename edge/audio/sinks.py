"""Audio sinks: where synthesized speech goes (speaker, WAV file, nowhere).

A sink has a fixed `sample_rate` (the synthesizer resamples to it), `write(samples)` for mono
float32 blocks, `stop()` for barge-in (drop what is queued, ignore further writes) and `close()`.
The null sink still counts what it was given, so timing runs and tests can check the amount.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from edge.audio.pcm import AudioError, check_rate, clean
from edge.audio.wav import WavWriter


class AudioSink(Protocol):
    sample_rate: int

    def write(self, samples: np.ndarray) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class NullSink:
    """Discards audio but counts it."""

    def __init__(self, sample_rate: int = 22050) -> None:
        self.sample_rate = check_rate(sample_rate, "null sink")
        self.samples_written = 0
        self.stopped = False

    def write(self, samples: np.ndarray) -> None:
        if not self.stopped:
            self.samples_written += len(samples)

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        """Nothing to release."""

    @property
    def seconds(self) -> float:
        return self.samples_written / float(self.sample_rate)


class WavSink:
    """Writes 16-bit mono PCM; the header is finalized on close (or stop: what was said is kept)."""

    def __init__(self, path: str | Path, sample_rate: int = 22050) -> None:
        self.path = Path(path)
        self.sample_rate = check_rate(sample_rate, str(path))
        try:
            self._writer = WavWriter(self.path, sample_rate)
        except OSError as exc:
            raise AudioError(f"{path}: cannot write ({exc.strerror or exc})") from None
        self.stopped = False

    def write(self, samples: np.ndarray) -> None:
        if not self.stopped:
            self._writer.write(clean(samples))

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self._writer.close()

    @property
    def seconds(self) -> float:
        return self._writer.frames / float(self.sample_rate)


def open_sink(spec: str, sample_rate: int = 22050) -> AudioSink:
    """``null``, ``speaker`` / ``speaker:INDEX``, or a path ending in .wav."""
    if spec == "null":
        return NullSink(sample_rate)
    if spec == "speaker" or spec.startswith("speaker:"):
        from edge.audio.portaudio import SpeakerSink

        index = spec.partition(":")[2]
        if index and not index.isdigit():
            raise AudioError(f"bad speaker spec {spec!r}; use speaker or speaker:INDEX")
        return SpeakerSink(sample_rate, int(index) if index else None)
    if spec.lower().endswith(".wav"):
        return WavSink(spec, sample_rate)
    raise AudioError(f"unknown audio sink {spec!r}; use null, speaker, speaker:INDEX or a .wav path")
