"""Framing: COBS + CRC-16 frames round-trip, and no corruption of the byte stream escapes the decoder.

The fuzz tests use derandomized hypothesis runs: a 16-bit CRC lets about one random frame in 65,536
through by chance, so a random seed could in principle flake; a fixed search is reproducible and
still fails when the decoder is wrong (see test_decoder_rejects_frames_with_a_wrong_crc).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.framing import (
    MAX_ENCODED,
    MAX_PAYLOAD,
    Frame,
    FrameDecoder,
    FrameTooLarge,
    crc16,
    encode_frame,
)
from firmware_bridge.protocol import decode_message

FUZZ = settings(max_examples=300, derandomize=True, deadline=None)

frames = st.builds(Frame, st.integers(0, 255), st.integers(0, 255), st.binary(max_size=MAX_PAYLOAD))


def decode_all(data: bytes, chunk: int | None = None) -> list[Frame]:
    decoder = FrameDecoder()
    if chunk is None:
        return decoder.feed(data)
    out: list[Frame] = []
    for i in range(0, len(data), chunk):
        out += decoder.feed(data[i:i + chunk])
    return out


def test_crc_is_ccitt_false():
    # The check value every CRC catalogue lists for CRC-16/CCITT-FALSE, and what PROTOCOL.md states.
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


def test_wire_layout_matches_protocol_md():
    wire = encode_frame(Frame(type=0x20, seq=7, payload=b"\x02"))
    body = bytes([0x20, 7, 2])
    crc = crc16(body)
    # 0x00 | COBS(20 07 02 crc_hi crc_lo) | 0x00, with no zero inside the body here.
    assert crc >> 8 and crc & 0xFF, "pick a frame whose CRC bytes are non-zero for this layout check"
    assert wire == b"\x00" + bytes([6]) + body + crc.to_bytes(2, "big") + b"\x00"


@given(st.lists(frames, max_size=8), st.integers(1, 80))
def test_round_trip_any_frames_any_chunking(items, chunk):
    wire = b"".join(encode_frame(f) for f in items)
    assert decode_all(wire) == items
    assert decode_all(wire, chunk) == items


@given(frames)
def test_encoded_frames_fit_the_receive_buffer(frame):
    wire = encode_frame(frame)
    assert wire[0] == 0 and wire[-1] == 0 and 0 not in wire[1:-1]
    assert len(wire) - 2 <= MAX_ENCODED


def test_oversize_payload_is_refused_before_it_reaches_the_wire():
    with pytest.raises(FrameTooLarge):
        encode_frame(Frame(1, 1, bytes(MAX_PAYLOAD + 1)))


def test_decoder_rejects_frames_with_a_wrong_crc():
    body = bytes([0x11, 3, 1])
    from cobs import cobs

    bad = b"\x00" + cobs.encode(body + ((crc16(body) ^ 1).to_bytes(2, "big"))) + b"\x00"
    decoder = FrameDecoder()
    assert decoder.feed(bad) == []
    assert decoder.stats.crc_errors == 1


@FUZZ
@given(st.binary(max_size=600), st.integers(1, 64))
def test_random_bytes_never_raise_and_never_yield_a_bad_message(noise, chunk):
    decoder = FrameDecoder()
    for i in range(0, len(noise), chunk):
        for frame in decoder.feed(noise[i:i + chunk]):
            # Whatever comes out re-encodes to bytes that were really on the line, CRC and all.
            assert encode_frame(frame)[1:-1] in noise
            decode_message(frame)  # and the protocol layer takes it without raising


@FUZZ
@given(st.lists(st.tuples(st.binary(max_size=120), frames), min_size=1, max_size=6), st.integers(1, 50))
def test_garbage_between_frames_costs_only_the_garbage(pairs, chunk):
    wire = b"".join(noise + encode_frame(frame) for noise, frame in pairs)
    assert decode_all(wire, chunk) == [frame for _, frame in pairs]


@pytest.mark.parametrize("payload", [b"", b"\x01", bytes(range(1, 40)), bytes(64), b"\x00\xff" * 32],
                         ids=["empty", "one", "ramp", "zeros", "alternating"])
def test_every_single_bit_flip_is_rejected(payload):
    wire = encode_frame(Frame(0x12, 200, payload))
    for position in range(len(wire)):
        for bit in range(8):
            damaged = bytearray(wire)
            damaged[position] ^= 1 << bit
            assert decode_all(bytes(damaged)) == [], (position, bit)


@FUZZ
@given(frames, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 7)), min_size=2, max_size=6))
def test_multiple_bit_flips_never_yield_a_different_frame(frame, flips):
    wire = bytearray(encode_frame(frame))
    for position, bit in flips:
        wire[1 + position % (len(wire) - 2)] ^= 1 << bit
    assert decode_all(bytes(wire)) in ([], [frame])


@pytest.mark.parametrize("payload", [b"", bytes(range(1, 64)), bytes(30)], ids=["empty", "ramp", "zeros"])
def test_truncated_frames_are_dropped_and_the_next_frame_survives(payload):
    first, second = Frame(0x13, 1, payload), Frame(0x10, 2, b"\x01\x00")
    wire = encode_frame(first)
    for cut in range(len(wire)):
        got = decode_all(wire[:cut] + encode_frame(second))
        # Cutting only the trailing 0x00 leaves a complete frame: the next frame's leading 0x00 ends it.
        assert got == ([first, second] if cut == len(wire) - 1 else [second]), cut


def test_endless_noise_without_delimiter_does_not_grow_the_buffer():
    decoder = FrameDecoder()
    rng = random.Random(8)
    for _ in range(200):
        decoder.feed(bytes(rng.randrange(1, 256) for _ in range(100)))
    assert len(decoder._buffer) <= MAX_ENCODED
    assert decoder.stats.oversize == 1  # one long run, counted once
    frame = Frame(4, 9, b"\x05\x20")
    assert decoder.feed(encode_frame(frame)) == [frame]
