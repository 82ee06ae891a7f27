"""Frames on the wire: header + payload + CRC-16, COBS-encoded, ended by a 0x00 byte.

The framing layer knows nothing about message meanings; it turns a (type, seq, payload) triple into
bytes and a byte stream back into triples. The streaming decoder is the part that faces the outside
world (a noisy UART, a cable plugged in mid-frame, a bootloader printing text), so it is written to
never raise and never yield a frame whose CRC did not check: it counts what it dropped and moves on
to the next 0x00, which is how COBS makes resynchronisation cheap. See PROTOCOL.md for the layout.

COBS comes from the `cobs` package and the CRC from the `crc` package (CRC-16/CCITT-FALSE, which
`crc` calls IBM_3740: poly 0x1021, init 0xFFFF, no reflection, no final xor, check 0x29B1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cobs import cobs
from crc import Calculator, Crc16

DELIMITER = b"\x00"
HEADER_SIZE = 2
"""Message type (1 byte) and sequence number (1 byte)."""
CRC_SIZE = 2
MAX_PAYLOAD = 64
"""Largest payload either side may send (bytes); keeps MCU receive buffers small and fixed."""
MAX_FRAME = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE
"""Largest decoded frame (bytes)."""
MAX_ENCODED = cobs.max_encoded_length(MAX_FRAME)
"""Largest COBS-encoded frame without its delimiter (bytes); anything longer is garbage."""

_CRC = Calculator(Crc16.IBM_3740.value, optimized=True)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of data (poly 0x1021, init 0xFFFF, MSB first, no final xor)."""
    return _CRC.checksum(data)


@dataclass(frozen=True)
class Frame:
    """One checked frame: what the protocol layer turns into a typed message."""

    type: int
    """Message type id (0-255)."""

    seq: int
    """Sender's sequence number (0-255, wrapping)."""

    payload: bytes = b""
    """Message body, 0..MAX_PAYLOAD bytes."""


class FrameTooLarge(ValueError):
    """A payload over MAX_PAYLOAD bytes was handed to encode_frame."""


def encode_frame(frame: Frame) -> bytes:
    """Bytes to write: 0x00 + COBS(type, seq, payload, crc16 big-endian) + 0x00.

    The leading 0x00 costs one byte and means line noise that arrived since the last frame (a
    hot-plugged cable, a bootloader banner) is closed off and dropped on its own instead of
    corrupting this frame too.
    """
    if not 0 <= frame.type <= 255 or not 0 <= frame.seq <= 255:
        raise ValueError(f"type and seq must be bytes, got type={frame.type} seq={frame.seq}")
    if len(frame.payload) > MAX_PAYLOAD:
        raise FrameTooLarge(f"payload of {len(frame.payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((frame.type, frame.seq)) + frame.payload
    return DELIMITER + cobs.encode(body + crc16(body).to_bytes(2, "big")) + DELIMITER


@dataclass
class DecoderStats:
    """What the decoder saw; a rising error count is the first sign of a bad cable or baud rate."""

    frames: int = 0
    """Frames that checked and were yielded."""

    empty: int = 0
    """Zero-length frames (every frame starts with a 0x00 that closes off noise; not an error)."""

    oversize: int = 0
    """Byte runs longer than MAX_ENCODED before a delimiter (dropped up to the next 0x00)."""

    cobs_errors: int = 0
    """Runs that were not valid COBS."""

    short: int = 0
    """Frames shorter than header + CRC."""

    crc_errors: int = 0
    """Frames whose CRC did not match."""

    @property
    def errors(self) -> int:
        return self.oversize + self.cobs_errors + self.short + self.crc_errors


@dataclass
class FrameDecoder:
    """Streaming decoder: feed() any bytes, get the complete, checked frames they finish.

    Never raises on input content. Garbage between frames is dropped at the next 0x00; a run longer
    than MAX_ENCODED is dropped without being buffered, so a stream of noise cannot grow memory.
    """

    stats: DecoderStats = field(default_factory=DecoderStats)
    _buffer: bytearray = field(default_factory=bytearray)
    _skipping: bool = False

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        start = 0
        while start < len(data):
            end = data.find(DELIMITER, start)
            chunk = data[start:] if end < 0 else data[start:end]
            if not self._skipping:
                if len(self._buffer) + len(chunk) > MAX_ENCODED:
                    self.stats.oversize += 1
                    self._buffer.clear()
                    self._skipping = True
                else:
                    self._buffer += chunk
            if end < 0:
                break
            if not self._skipping:
                frame = self._finish(bytes(self._buffer))
                if frame is not None:
                    frames.append(frame)
            self._buffer.clear()
            self._skipping = False
            start = end + 1
        return frames

    def reset(self) -> None:
        """Forget any partial frame (after a reconnect the old bytes belong to nobody)."""
        self._buffer.clear()
        self._skipping = False

    def _finish(self, encoded: bytes) -> Frame | None:
        if not encoded:
            self.stats.empty += 1
            return None
        try:
            raw = cobs.decode(encoded)
        except cobs.DecodeError:
            self.stats.cobs_errors += 1
            return None
        if len(raw) < HEADER_SIZE + CRC_SIZE:
            self.stats.short += 1
            return None
        body, received = raw[:-CRC_SIZE], int.from_bytes(raw[-CRC_SIZE:], "big")
        if crc16(body) != received:
            self.stats.crc_errors += 1
            return None
        self.stats.frames += 1
        return Frame(type=body[0], seq=body[1], payload=bytes(body[HEADER_SIZE:]))
