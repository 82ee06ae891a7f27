"""Audio a Wyoming client sends: any rate, width and channel count in, 16 kHz mono float32 out.

A Wyoming stream announces its format in `audio-start` and repeats it in every `audio-chunk`. The
wake word, VAD and Whisper take only 16 kHz mono float frames, so everything else is converted
here with the device's own decoding (edge.audio.pcm: 8-bit unsigned as WAV and Wyoming store it,
16/24/32-bit signed) and soxr resampling that keeps its phase across chunks. What cannot be
converted is refused with a `WyomingInputError` whose message the server sends back as an `error`
event; the stream stays as it was, so one bad chunk loses nothing that came before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart

from edge.audio.pcm import (
    FORMATS,
    MAX_CHANNELS,
    MAX_RATE,
    MIN_RATE,
    Resampler,
    SampleFormat,
    clean,
    decode,
    to_mono,
)
from edge.events import AudioChunk

RATE = 16000
"""What the wake word, VAD and ASR take (hertz)."""
WIDTHS: dict[int, SampleFormat] = {1: FORMATS["u8"], 2: FORMATS["s16"], 3: FORMATS["s24"], 4: FORMATS["s32"]}
"""Bytes per sample -> how Wyoming stores it (8-bit is unsigned, as in WAV and wyoming.audio)."""
MAX_CHUNK_SECONDS = 10.0
"""A longer chunk is refused: clients send 20-100 ms at a time, and one huge chunk would hold the
connection's recognizer (and its memory) for seconds (seconds of audio)."""
MAX_CHUNK_BYTES = 4 * 2**20
"""Refused whatever its format says: caps the memory one chunk can take (bytes)."""


class WyomingInputError(ValueError):
    """Input the server cannot use; the message is what the client gets in an `error` event."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StreamFormat:
    """Rate, width and channels of one audio stream, checked once at `audio-start`."""

    rate: int
    """Samples per second per channel (hertz)."""
    width: int
    """Bytes per sample (1-4)."""
    channels: int
    """Interleaved channels (1 = mono)."""

    @classmethod
    def of(cls, rate: object, width: object, channels: object) -> StreamFormat:
        for name, value in (("rate", rate), ("width", width), ("channels", channels)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise WyomingInputError(f"audio {name} must be an integer, got {value!r}", "bad-audio-format")
        assert isinstance(rate, int) and isinstance(width, int) and isinstance(channels, int)
        if not MIN_RATE <= rate <= MAX_RATE:
            raise WyomingInputError(f"sample rate {rate} Hz is not supported (use {MIN_RATE}-{MAX_RATE} Hz)",
                                    "bad-audio-format")
        if width not in WIDTHS:
            raise WyomingInputError(f"sample width {width} bytes is not supported (use 1, 2, 3 or 4)",
                                    "bad-audio-format")
        if not 1 <= channels <= MAX_CHANNELS:
            raise WyomingInputError(f"{channels} channels is not supported (use 1-{MAX_CHANNELS})", "bad-audio-format")
        return cls(rate, width, channels)

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels


class InputStream:
    """One `audio-start` .. `audio-stop` stream: chunks in, 16 kHz mono AudioChunk frames out."""

    def __init__(self, start: AudioStart) -> None:
        self.format = StreamFormat.of(start.rate, start.width, start.channels)
        self._resampler = Resampler(self.format.rate, RATE)
        self.samples = 0
        """16 kHz samples handed out so far: the stream's clock."""

    @property
    def seconds(self) -> float:
        """Audio received so far (seconds)."""
        return self.samples / RATE

    def convert(self, chunk: WyomingChunk) -> AudioChunk:
        """The chunk as a 16 kHz mono frame; WyomingInputError (nothing consumed) when it is unusable."""
        fmt = self.format
        if (chunk.rate, chunk.width, chunk.channels) != (fmt.rate, fmt.width, fmt.channels):
            raise WyomingInputError(
                f"audio-chunk says {chunk.rate} Hz, {chunk.width} bytes, {chunk.channels} channel(s) but "
                f"audio-start said {fmt.rate} Hz, {fmt.width} bytes, {fmt.channels} channel(s); chunk dropped",
                "audio-format-changed")
        size = len(chunk.audio)
        if size > MAX_CHUNK_BYTES or size > MAX_CHUNK_SECONDS * fmt.rate * fmt.frame_bytes:
            raise WyomingInputError(
                f"audio-chunk of {size} bytes is too large (at most {MAX_CHUNK_SECONDS:.0f} s and "
                f"{MAX_CHUNK_BYTES // 2**20} MiB per chunk); chunk dropped", "chunk-too-large")
        if size % fmt.frame_bytes:
            raise WyomingInputError(f"audio-chunk of {size} bytes is not a whole number of "
                                    f"{fmt.frame_bytes}-byte sample frames; chunk dropped", "bad-audio-chunk")
        mono = to_mono(decode(chunk.audio, WIDTHS[fmt.width], fmt.channels))
        samples = self._resampler.push(clean(mono))
        frame = AudioChunk(samples=samples, sample_rate=RATE, timestamp=self.seconds)
        self.samples += len(samples)
        return frame

    def finish(self) -> AudioChunk | None:
        """What the resampler still holds at `audio-stop` (None when nothing)."""
        samples = self._resampler.flush()
        if not len(samples):
            return None
        frame = AudioChunk(samples=samples, sample_rate=RATE, timestamp=self.seconds)
        self.samples += len(samples)
        return frame


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] -> 16-bit little-endian PCM, what Wyoming clients play."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
