"""WAV files: a RIFF parser that accepts every common layout, and a 16-bit writer.

Python's `wave` module (3.11) reads integer PCM only and rejects IEEE-float and
WAVE_FORMAT_EXTENSIBLE files, which is what many recorders and DAWs write, so we walk the RIFF
chunks ourselves: PCM 8/16/24/32-bit, float 32/64, extensible with either subformat, any channel
count, odd-sized chunks, LIST/fact chunks before the data, and streamed files whose sizes were
never filled in. A file that is cut short plays up to where it ends, with a note; a file that is
not a WAV or whose header is cut or absurd raises AudioError saying which.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from edge.audio.pcm import AudioError, SampleFormat, check_channels, check_rate

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_UNKNOWN_SIZE = 0xFFFFFFFF


@dataclass(frozen=True)
class WavInfo:
    """What the header says, checked."""

    sample_rate: int
    channels: int
    sample_format: SampleFormat
    data_offset: int
    """Byte offset of the first sample."""
    data_bytes: int
    """Bytes of whole sample frames actually present in the file."""
    truncated: bool = False
    """The header promised more data than the file holds."""

    @property
    def frame_bytes(self) -> int:
        return self.sample_format.width * self.channels

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes

    @property
    def seconds(self) -> float:
        return self.frames / float(self.sample_rate)


def _read_exact(fh: BinaryIO, n: int, name: str, what: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise AudioError(f"{name}: truncated header (file ends inside the {what})")
    return data


def _sample_format(tag: int, bits: int, container: int, name: str) -> SampleFormat:
    if tag == WAVE_FORMAT_IEEE_FLOAT:
        if container not in (4, 8):
            raise AudioError(f"{name}: {8 * container}-bit float samples are not supported (use 32 or 64)")
        return SampleFormat("float", container)
    if tag == WAVE_FORMAT_PCM:
        if container not in (1, 2, 3, 4):
            raise AudioError(f"{name}: {bits}-bit PCM in {container}-byte containers is not supported")
        return SampleFormat("uint" if container == 1 else "int", container)
    raise AudioError(f"{name}: WAV format tag 0x{tag:04x} is not PCM or float (compressed WAVs are not supported)")


def _parse_fmt(body: bytes, name: str) -> tuple[int, int, SampleFormat, int]:
    if len(body) < 16:
        raise AudioError(f"{name}: fmt chunk is {len(body)} bytes, too short to describe audio")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 40:
            raise AudioError(f"{name}: extensible fmt chunk is truncated ({len(body)} bytes)")
        tag = struct.unpack("<H", body[24:26])[0]
    check_channels(channels, name)
    check_rate(rate, name)
    if block_align == 0 or block_align % channels:
        # Some writers leave block_align empty; derive it from the bit depth.
        block_align = channels * ((bits + 7) // 8)
    container = block_align // channels
    if container == 0:
        raise AudioError(f"{name}: header gives 0 bytes per sample")
    return rate, channels, _sample_format(tag, bits, container, name), block_align


def read_info(fh: BinaryIO, name: str) -> WavInfo:
    """Parse the header of an open WAV file and leave fh positioned at the first sample."""
    riff = fh.read(12)
    if len(riff) < 12:
        if not riff:
            raise AudioError(f"{name}: file is empty")
        raise AudioError(f"{name}: truncated header ({len(riff)} bytes)")
    if riff[:4] == b"RIFX":
        raise AudioError(f"{name}: big-endian (RIFX) WAV files are not supported")
    if riff[:4] == b"RF64":
        raise AudioError(f"{name}: RF64 (over 4 GB) WAV files are not supported")
    if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise AudioError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, SampleFormat, int] | None = None
    while True:
        head = fh.read(8)
        if len(head) < 8:
            what = "before the fmt chunk" if fmt is None else "before any data chunk"
            raise AudioError(f"{name}: truncated header (file ends {what})")
        chunk_id, size = head[:4], struct.unpack("<I", head[4:])[0]
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(_read_exact(fh, size + (size & 1), name, "fmt chunk")[:size], name)
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioError(f"{name}: data chunk comes before the fmt chunk")
            return _data_info(fh, fmt, size, name)
        else:
            skipped = fh.read(size + (size & 1))
            if len(skipped) < size:
                raise AudioError(f"{name}: truncated header (file ends inside a {chunk_id!r} chunk)")


def _data_info(fh: BinaryIO, fmt: tuple[int, int, SampleFormat, int], size: int, name: str) -> WavInfo:
    rate, channels, sample_fmt, block_align = fmt
    offset = fh.tell()
    fh.seek(0, 2)
    available = fh.tell() - offset
    fh.seek(offset)
    truncated = size != _UNKNOWN_SIZE and size > available
    usable = available if size == _UNKNOWN_SIZE else min(size, available)
    frame_bytes = sample_fmt.width * channels
    if frame_bytes != block_align:
        raise AudioError(f"{name}: block align {block_align} does not match {channels} x {sample_fmt.name}")
    return WavInfo(rate, channels, sample_fmt, offset, usable - usable % frame_bytes, truncated)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16 with clipping (NaN becomes 0)."""
    x = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2")


class WavWriter:
    """Streams mono or multi-channel 16-bit PCM to a file; the sizes are written on close."""

    def __init__(self, path: str | Path, sample_rate: int, channels: int = 1) -> None:
        self.path = Path(path)
        self.sample_rate = check_rate(sample_rate, str(path))
        self.channels = check_channels(channels, str(path))
        self._fh = self.path.open("wb")
        self._frames = 0
        self._write_header()

    def _write_header(self) -> None:
        data_bytes = self._frames * 2 * self.channels
        self._fh.write(b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE")
        self._fh.write(b"fmt " + struct.pack("<IHHIIHH", 16, WAVE_FORMAT_PCM, self.channels, self.sample_rate,
                                             self.sample_rate * 2 * self.channels, 2 * self.channels, 16))
        self._fh.write(b"data" + struct.pack("<I", data_bytes))

    def write(self, samples: np.ndarray) -> None:
        """samples: float32 (frames,) for mono or (frames, channels)."""
        pcm = to_int16(samples)
        self._fh.write(pcm.tobytes())
        self._frames += pcm.shape[0]

    @property
    def frames(self) -> int:
        return self._frames

    def close(self) -> None:
        if self._fh.closed:
            return
        self._fh.seek(0)
        self._write_header()
        self._fh.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write a whole buffer as 16-bit PCM; returns the path."""
    with WavWriter(path, sample_rate, 1 if np.ndim(samples) == 1 else np.shape(samples)[1]) as out:
        out.write(samples)
    return Path(path)
