"""Sample decoding, cleaning, downmixing, resampling and framing: the steps every source shares.

Whatever comes in (a 44.1 kHz stereo float WAV, 8-bit PCM on stdin, a USB microphone at 48 kHz)
leaves as AudioChunk frames of mono float32 in [-1, 1] at the pipeline's rate (16 kHz), so the
wake word, VAD and ASR never see anything else. Bad values are cleaned where that loses nothing
a listener would miss (NaN/inf -> 0, float overs clipped to +-1) and counted, so a caller can say
what was wrong; things that cannot be cleaned (no channels, an absurd rate, nothing at all) raise
AudioError with a message that names the input.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import soxr

from edge.events import AudioChunk

log = logging.getLogger(__name__)

MIN_RATE = 1000
"""Below this no speech survives; a header saying so is corrupt (hertz)."""
MAX_RATE = 768000
"""Above the fastest converters sold; a header saying so is corrupt (hertz)."""
MAX_CHANNELS = 64


class AudioError(ValueError):
    """Audio that cannot be used as it is; the message names the input and what is wrong."""


@dataclass(frozen=True)
class SampleFormat:
    """How one sample is stored: signed/unsigned integer or IEEE float, and its width in bytes."""

    kind: str
    """"int" (signed), "uint" (unsigned, 8-bit WAV) or "float"."""
    width: int
    """Bytes per sample (1, 2, 3, 4 or 8)."""

    @property
    def name(self) -> str:
        return {"int": "s", "uint": "u", "float": "f"}[self.kind] + str(8 * self.width)


FORMATS: dict[str, SampleFormat] = {
    "u8": SampleFormat("uint", 1),
    "s8": SampleFormat("int", 1),
    "s16": SampleFormat("int", 2),
    "s24": SampleFormat("int", 3),
    "s32": SampleFormat("int", 4),
    "f32": SampleFormat("float", 4),
    "f64": SampleFormat("float", 8),
}


def sample_format(name: str) -> SampleFormat:
    """The SampleFormat called name (u8, s8, s16, s24, s32, f32, f64), or AudioError listing them."""
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise AudioError(f"unknown sample format {name!r}; use one of {', '.join(FORMATS)}") from None


def check_rate(rate: int, where: str) -> int:
    """rate if plausible for audio, else AudioError naming where it came from."""
    if not isinstance(rate, (int, np.integer)) or not MIN_RATE <= int(rate) <= MAX_RATE:
        raise AudioError(f"{where}: sample rate {rate!r} Hz is not plausible "
                         f"(expected {MIN_RATE}-{MAX_RATE} Hz)")
    return int(rate)


def check_channels(channels: int, where: str) -> int:
    if not isinstance(channels, (int, np.integer)) or not 1 <= int(channels) <= MAX_CHANNELS:
        raise AudioError(f"{where}: {channels!r} channels (expected 1-{MAX_CHANNELS})")
    return int(channels)


def frame_length(sample_rate: int, frame_ms: int) -> int:
    """Samples per frame; frames must be 10-100 ms (what VAD, wake word and ASR are tuned for)."""
    if not 10 <= frame_ms <= 100:
        raise AudioError(f"frame length {frame_ms} ms is outside 10-100 ms")
    return sample_rate * frame_ms // 1000


def decode(data: bytes, fmt: SampleFormat, channels: int) -> np.ndarray:
    """Interleaved little-endian samples -> float32 array (frames, channels), not yet cleaned.

    Trailing bytes that do not make a whole frame are dropped (the caller reports them).
    """
    frame_bytes = fmt.width * channels
    usable = len(data) - len(data) % frame_bytes
    raw = np.frombuffer(data[:usable], dtype=np.uint8)
    if fmt.kind == "float":
        values = raw.view("<f4" if fmt.width == 4 else "<f8").astype(np.float32)
    elif fmt.kind == "uint" and fmt.width == 1:
        values = (raw.astype(np.float32) - 128.0) / 128.0
    elif fmt.width == 3:
        triples = raw.reshape(-1, 3).astype(np.int32)
        ints = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        values = ints.astype(np.float32) / float(1 << 23)
    elif fmt.kind == "int" and fmt.width in (1, 2, 4):
        dtype = {1: "i1", 2: "<i2", 4: "<i4"}[fmt.width]
        values = (raw.view(dtype).astype(np.float64) / float(1 << (8 * fmt.width - 1))).astype(np.float32)
    else:
        raise AudioError(f"unsupported sample format {fmt.name}")
    return values.reshape(-1, channels)


@dataclass
class CleanReport:
    """What cleaning changed, summed over a stream."""

    samples: int = 0
    nonfinite: int = 0
    """NaN or +-inf samples replaced by 0."""
    clipped: int = 0
    """Float samples beyond +-1 clipped."""
    full_scale: int = 0
    """Samples at +-full scale: the recording itself clipped (cannot be undone, only reported)."""
    dropped_bytes: int = 0
    """Trailing bytes that did not make a whole sample frame."""
    notes: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Human-readable lines, empty when the audio was clean."""
        out = list(self.notes)
        if self.nonfinite:
            out.append(f"{self.nonfinite} NaN/inf samples replaced with silence")
        if self.clipped:
            out.append(f"{self.clipped} samples beyond +-1.0 clipped")
        if self.samples and self.full_scale > max(10, self.samples // 1000):
            out.append(f"{100.0 * self.full_scale / self.samples:.1f}% of samples at full scale "
                       "(the recording is clipped)")
        if self.dropped_bytes:
            out.append(f"{self.dropped_bytes} trailing bytes did not make a whole sample and were dropped")
        return out


def clean(samples: np.ndarray, report: CleanReport | None = None) -> np.ndarray:
    """NaN/inf -> 0 and clip to [-1, 1], counting both into report; returns float32."""
    x = np.asarray(samples, dtype=np.float32)
    if report is not None:
        report.samples += x.size
    finite = np.isfinite(x)
    if not finite.all():
        if report is not None:
            report.nonfinite += int(x.size - finite.sum())
        x = np.where(finite, x, 0.0).astype(np.float32)
    peak = np.abs(x)
    over = peak > 1.0
    if report is not None:
        report.full_scale += int(np.count_nonzero(peak >= 0.9999))
    if over.any():
        if report is not None:
            report.clipped += int(over.sum())
        x = np.clip(x, -1.0, 1.0)
    return x


def to_mono(frames: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames,) by averaging channels; 1-D input is returned as is."""
    if frames.ndim == 1:
        return frames
    if frames.shape[1] == 0:
        raise AudioError("audio has 0 channels")
    if frames.shape[1] == 1:
        return frames[:, 0]
    return frames.mean(axis=1, dtype=np.float32)


class Resampler:
    """Streaming resampler (soxr, high quality) that keeps phase across chunks; a no-op at equal rates."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(
            in_rate, out_rate, 1, dtype="float32", quality="HQ")

    def push(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        x = np.ascontiguousarray(samples, dtype=np.float32)
        if self._stream is None:
            return x
        return self._stream.resample_chunk(x, last=last)

    def flush(self) -> np.ndarray:
        return self.push(np.zeros(0, dtype=np.float32), last=True)


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Whole-buffer resampling (soxr HQ), float32 in and out."""
    x = np.ascontiguousarray(samples, dtype=np.float32)
    if in_rate == out_rate or x.size == 0:
        return x
    return soxr.resample(x, in_rate, out_rate, quality="HQ").astype(np.float32, copy=False)


class Framer:
    """Cuts a stream of sample blocks into fixed-length AudioChunks with stream-clock timestamps."""

    def __init__(self, sample_rate: int, frame_ms: int, start: float = 0.0) -> None:
        self.sample_rate = sample_rate
        self.size = frame_length(sample_rate, frame_ms)
        self._pending = np.zeros(0, dtype=np.float32)
        self._emitted = 0
        self._start = start

    def push(self, samples: np.ndarray) -> Iterator[AudioChunk]:
        buf = np.concatenate([self._pending, samples]) if self._pending.size else samples
        whole = len(buf) - len(buf) % self.size
        for begin in range(0, whole, self.size):
            yield self._chunk(buf[begin:begin + self.size])
        self._pending = buf[whole:].copy()

    def flush(self) -> Iterator[AudioChunk]:
        """The last, shorter frame (nothing is lost at the end of a stream)."""
        if self._pending.size:
            chunk, self._pending = self._pending, np.zeros(0, dtype=np.float32)
            yield self._chunk(chunk)

    def _chunk(self, samples: np.ndarray) -> AudioChunk:
        stamp = self._start + self._emitted / float(self.sample_rate)
        self._emitted += len(samples)
        return AudioChunk(samples=np.ascontiguousarray(samples, dtype=np.float32),
                          sample_rate=self.sample_rate, timestamp=stamp)


def frames_of(samples: np.ndarray, sample_rate: int, frame_ms: int, start: float = 0.0) -> Iterator[AudioChunk]:
    """A whole buffer of mono samples as AudioChunk frames (the last may be shorter)."""
    framer = Framer(sample_rate, frame_ms, start)
    yield from framer.push(np.asarray(samples, dtype=np.float32))
    yield from framer.flush()
