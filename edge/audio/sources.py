"""Audio sources: WAV files, raw PCM streams (stdin), synthetic signals; all yield AudioChunk frames.

Every source is an iterable of AudioChunk (mono float32 at `sample_rate`, `frame_ms` long, the
last frame possibly shorter) with stream-clock timestamps, and a `report` of anything it had to
clean. Errors that make the input unusable are raised when the source is opened, so a command can
say "this file is not a WAV" before it loads a model. Microphones live in `edge.audio.portaudio`
(they need the optional pyaudio); `open_source` picks one from a short spec string.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from edge.audio.pcm import (
    AudioError,
    CleanReport,
    Framer,
    Resampler,
    SampleFormat,
    check_channels,
    check_rate,
    clean,
    decode,
    frame_length,
    sample_format,
    to_mono,
)
from edge.audio.wav import WavInfo, read_info
from edge.events import AudioChunk

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.5
"""How much input is decoded at a time: bounded memory for hour-long files."""


class AudioSource(Protocol):
    """What the pipeline reads audio from."""

    sample_rate: int
    report: CleanReport

    def __iter__(self) -> Iterator[AudioChunk]: ...

    def close(self) -> None: ...


class _Decoder:
    """bytes -> cleaned mono float32 at the target rate -> frames; the shared body of byte sources."""

    def __init__(self, name: str, in_rate: int, fmt: SampleFormat, channels: int, sample_rate: int,
                 frame_ms: int) -> None:
        self.name, self.fmt, self.channels = name, fmt, channels
        self.report = CleanReport()
        self._resampler = Resampler(in_rate, sample_rate)
        self._framer = Framer(sample_rate, frame_ms)
        self._carry = b""

    def push(self, data: bytes) -> Iterator[AudioChunk]:
        data = self._carry + data
        frame_bytes = self.fmt.width * self.channels
        keep = len(data) % frame_bytes
        self._carry = data[len(data) - keep:] if keep else b""
        if len(data) - keep:
            mono = to_mono(clean(decode(data[:len(data) - keep], self.fmt, self.channels), self.report))
            yield from self._framer.push(self._resampler.push(mono))

    def finish(self) -> Iterator[AudioChunk]:
        if self._carry:
            self.report.dropped_bytes += len(self._carry)
            self._carry = b""
        yield from self._framer.push(self._resampler.flush())
        yield from self._framer.flush()
        for problem in self.report.problems():
            log.warning("%s: %s", self.name, problem)


class WavSource:
    """A WAV file of any rate, width and channel count, streamed as 16 kHz (or `sample_rate`) mono frames."""

    def __init__(self, path: str | Path, sample_rate: int = 16000, frame_ms: int = 80) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.sample_rate, self.frame_ms = sample_rate, frame_ms
        frame_length(sample_rate, frame_ms)
        try:
            self._fh: BinaryIO = self.path.open("rb")
        except FileNotFoundError:
            raise AudioError(f"{self.name}: no such file") from None
        except IsADirectoryError:
            raise AudioError(f"{self.name}: is a directory, not a WAV file") from None
        except PermissionError:
            raise AudioError(f"{self.name}: permission denied") from None
        try:
            self.info: WavInfo = read_info(self._fh, self.name)
        except BaseException:
            self._fh.close()
            raise
        self._decoder = _Decoder(self.name, self.info.sample_rate, self.info.sample_format,
                                 self.info.channels, sample_rate, frame_ms)
        self.report = self._decoder.report
        if self.info.frames == 0:
            self._fh.close()
            raise AudioError(f"{self.name}: contains no audio samples")
        if self.info.truncated:
            self.report.notes.append(f"file is cut short: {self.info.seconds:.2f} s of audio present, "
                                     "the header promised more")

    @property
    def seconds(self) -> float:
        """Length of the audio in the file (seconds)."""
        return self.info.seconds

    def __iter__(self) -> Iterator[AudioChunk]:
        try:
            self._fh.seek(self.info.data_offset)
            remaining = self.info.data_bytes
            block = max(self.info.frame_bytes, int(self.info.sample_rate * BLOCK_SECONDS) * self.info.frame_bytes)
            while remaining > 0:
                data = self._fh.read(min(block, remaining))
                if not data:
                    self.report.notes.append("file shrank while it was being read")
                    break
                remaining -= len(data)
                yield from self._decoder.push(data)
            yield from self._decoder.finish()
        finally:
            self.close()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> WavSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawPcmSource:
    """Headerless interleaved PCM from a byte stream (stdin by default), e.g. `arecord -t raw | ...`."""

    def __init__(self, stream: BinaryIO | None = None, input_rate: int = 16000, fmt: str = "s16",
                 channels: int = 1, sample_rate: int = 16000, frame_ms: int = 80) -> None:
        self.stream = stream if stream is not None else sys.stdin.buffer
        self.name = getattr(self.stream, "name", "raw PCM stream")
        self.sample_rate = sample_rate
        check_rate(input_rate, f"{self.name} (raw input rate)")
        check_channels(channels, f"{self.name} (raw channel count)")
        self._fmt = sample_format(fmt)
        self._decoder = _Decoder(str(self.name), input_rate, self._fmt, channels, sample_rate, frame_ms)
        self._block = max(1, frame_length(input_rate, frame_ms)) * self._fmt.width * channels
        self.report = self._decoder.report

    def __iter__(self) -> Iterator[AudioChunk]:
        got_any = False
        while True:
            read = getattr(self.stream, "read1", self.stream.read)
            data = read(self._block)
            if not data:
                break
            got_any = True
            yield from self._decoder.push(data)
        if not got_any:
            raise AudioError(f"{self.name}: no audio arrived (empty stream)")
        yield from self._decoder.finish()

    def close(self) -> None:
        if self.stream is not sys.stdin.buffer:
            self.stream.close()


class SyntheticSource:
    """Silence, a sine tone or white noise: for tests, smoke runs and checking a pipeline without a mic."""

    KINDS = ("silence", "tone", "noise")

    def __init__(self, kind: str = "silence", seconds: float = 1.0, sample_rate: int = 16000,
                 frame_ms: int = 80, frequency: float = 440.0, amplitude: float = 0.3, seed: int = 0) -> None:
        if kind not in self.KINDS:
            raise AudioError(f"unknown synthetic signal {kind!r}; use one of {', '.join(self.KINDS)}")
        if not 0 < seconds <= 24 * 3600:
            raise AudioError(f"synthetic signal length {seconds} s is out of range")
        if not 0 <= amplitude <= 1:
            raise AudioError(f"synthetic amplitude {amplitude} is outside 0-1")
        self.kind, self.seconds, self.sample_rate = kind, seconds, sample_rate
        self.frame_ms, self.frequency, self.amplitude, self.seed = frame_ms, frequency, amplitude, seed
        self.report = CleanReport()
        frame_length(sample_rate, frame_ms)

    def samples(self) -> np.ndarray:
        """The whole signal as one buffer."""
        n = int(round(self.seconds * self.sample_rate))
        if self.kind == "silence":
            return np.zeros(n, dtype=np.float32)
        if self.kind == "tone":
            t = np.arange(n, dtype=np.float64) / self.sample_rate
            return (self.amplitude * np.sin(2 * np.pi * self.frequency * t)).astype(np.float32)
        rng = np.random.default_rng(self.seed)
        return np.clip(rng.normal(0.0, self.amplitude / 3.0, n), -1, 1).astype(np.float32)

    def __iter__(self) -> Iterator[AudioChunk]:
        framer = Framer(self.sample_rate, self.frame_ms)
        yield from framer.push(self.samples())
        yield from framer.flush()

    def close(self) -> None:
        """Nothing to release."""


def read_audio(path: str | Path, sample_rate: int = 16000) -> np.ndarray:
    """A whole WAV file as one mono float32 buffer at sample_rate (cleaned, resampled)."""
    source = WavSource(path, sample_rate=sample_rate, frame_ms=100)
    chunks = [chunk.samples for chunk in source]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def open_source(spec: str, sample_rate: int = 16000, frame_ms: int = 80, *, raw_rate: int = 16000,
                raw_format: str = "s16", raw_channels: int = 1) -> AudioSource:
    """A source from a spec string.

    - ``path/to/file.wav``: a WAV file;
    - ``-``: raw PCM on stdin (raw_rate, raw_format, raw_channels describe it);
    - ``mic`` or ``mic:INDEX``: the default (or numbered) PortAudio input device;
    - ``synth:KIND[:SECONDS[:FREQ]]``: silence, tone or noise (e.g. ``synth:tone:2:440``).
    """
    if spec == "-":
        return RawPcmSource(None, raw_rate, raw_format, raw_channels, sample_rate, frame_ms)
    if spec == "mic" or spec.startswith("mic:"):
        from edge.audio.portaudio import MicrophoneSource

        index = spec.partition(":")[2]
        if index and not index.isdigit():
            raise AudioError(f"bad microphone spec {spec!r}; use mic or mic:INDEX")
        return MicrophoneSource(sample_rate, frame_ms, device_index=int(index) if index else None)
    if spec.startswith("synth:"):
        parts = spec.split(":")[1:]
        try:
            seconds = float(parts[1]) if len(parts) > 1 else 1.0
            freq = float(parts[2]) if len(parts) > 2 else 440.0
        except ValueError:
            raise AudioError(f"bad synthetic spec {spec!r}; use synth:KIND[:SECONDS[:FREQ]]") from None
        return SyntheticSource(parts[0], seconds, sample_rate, frame_ms, frequency=freq)
    return WavSource(spec, sample_rate, frame_ms)
