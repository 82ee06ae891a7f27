"""Protocol messages: every type round-trips, and bad or unknown frames become values, never exceptions."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.framing import MAX_PAYLOAD, Frame, FrameDecoder, encode_frame
from firmware_bridge.protocol import (
    HOST_SENDS,
    MCU_SENDS,
    MESSAGES,
    Ack,
    Button,
    ButtonEvent,
    ButtonMsg,
    DspWakeMsg,
    Heartbeat,
    Hello,
    HelloReply,
    LedPattern,
    Malformed,
    MsgType,
    MuteMsg,
    Nack,
    NackReason,
    SetLed,
    SetVolume,
    UnknownType,
    VolumeMsg,
    decode_message,
)

u8, u16, u32 = st.integers(0, 255), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
volume = st.integers(0, 100)

messages = st.one_of(
    st.builds(Hello, u8, u8, u16),
    st.builds(HelloReply, u8, u8, u8, u8, volume, st.text(max_size=8)),
    st.builds(Heartbeat, u32, u8, volume),
    st.builds(Ack, u8, u8),
    st.builds(Nack, u8, u8, st.sampled_from(list(NackReason))),
    st.builds(ButtonMsg, st.sampled_from(list(ButtonEvent)), st.sampled_from(list(Button))),
    st.builds(MuteMsg, st.integers(0, 1)),
    st.builds(VolumeMsg, volume),
    st.builds(DspWakeMsg, u8, u8),
    st.builds(SetLed, st.sampled_from(list(LedPattern))),
    st.builds(SetVolume, volume),
)


@given(messages, u8)
def test_every_message_round_trips_through_the_wire(message, seq):
    frames = FrameDecoder().feed(encode_frame(message.to_frame(seq)))
    assert len(frames) == 1 and frames[0].seq == seq
    assert decode_message(frames[0]) == message


def test_every_message_type_is_covered_and_fits_a_frame():
    assert set(MESSAGES) == set(MsgType)
    assert set(MsgType) == HOST_SENDS | MCU_SENDS
    for cls in MESSAGES.values():
        if cls is not HelloReply:  # variable length, checked below
            assert struct.calcsize(">" + cls.FORMAT) <= MAX_PAYLOAD
    long_name = HelloReply(1, 0, 1, 0, 50, "x" * 100)
    assert len(long_name.payload()) <= MAX_PAYLOAD  # the firmware name is cut to 32 bytes


def test_payload_layout_is_big_endian_as_specified():
    assert Heartbeat(0x01020304, 1, 42).payload() == b"\x01\x02\x03\x04\x01\x2a"
    assert Hello(1, 0, 1000).payload() == b"\x01\x00\x03\xe8"
    assert SetLed(LedPattern.LISTENING).to_frame(5) == Frame(0x20, 5, b"\x02")


@settings(max_examples=400, derandomize=True)
@given(u8, u8, st.binary(max_size=MAX_PAYLOAD))
def test_any_checked_frame_decodes_to_a_value_never_an_exception(type_id, seq, payload):
    result = decode_message(Frame(type_id, seq, payload))
    if type_id not in MESSAGES:
        assert result == UnknownType(type_id)
    else:
        assert isinstance(result, (MESSAGES[type_id], Malformed))


@pytest.mark.parametrize("frame, why", [
    (Frame(MsgType.SET_LED, 1, b"\x08"), "LED pattern 8"),
    (Frame(MsgType.SET_LED, 1, b""), "1 bytes"),
    (Frame(MsgType.MUTE, 1, b"\x02"), "0 or 1"),
    (Frame(MsgType.VOLUME, 1, b"\x65"), "volume 101"),
    (Frame(MsgType.BUTTON, 1, b"\x09\x00"), "button event 9"),
    (Frame(MsgType.NACK, 1, b"\x01\x20\x63"), "nack reason 99"),
    (Frame(MsgType.HEARTBEAT, 1, b"\x00" * 5), "6 bytes"),
    (Frame(MsgType.HELLO_REPLY, 1, b"\x01\x00"), "5-37 bytes"),
])
def test_malformed_payloads_say_what_is_wrong(frame, why):
    result = decode_message(frame)
    assert isinstance(result, Malformed)
    assert why in str(result)


def test_unknown_type_is_reported_not_raised():
    assert decode_message(Frame(0x7F, 3, b"future")) == UnknownType(0x7F)


def test_led_pattern_names_and_errors():
    assert LedPattern.parse("Listening") is LedPattern.LISTENING
    assert LedPattern.parse(7) is LedPattern.OFFLINE
    with pytest.raises(ValueError, match="known: idle, wake, listening"):
        LedPattern.parse("disco")


def test_invalid_message_is_refused_before_sending():
    with pytest.raises(Malformed):
        SetVolume(150).to_frame(1)
