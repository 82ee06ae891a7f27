"""The simulated MCU is the reference for real firmware: check its side of PROTOCOL.md byte by byte.

These tests talk to the simulator through a bare pyserial port with hand-made frames, not through
McuBridge, so they can send what a correct host never would (requests before HELLO, unknown types,
duplicates, garbage).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import serial

from firmware_bridge.framing import Frame, FrameDecoder, encode_frame
from firmware_bridge.protocol import (
    Ack,
    Heartbeat,
    Hello,
    HelloReply,
    LedPattern,
    Message,
    MsgType,
    Nack,
    NackReason,
    SetLed,
    decode_message,
)
from firmware_bridge.sim import SimulatedMcu


class RawHost:
    """A minimal host: writes frames, reads decoded messages (heartbeats filtered out)."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, timeout=0.05)
        self.decoder = FrameDecoder()
        self.seq = 0
        self.last_seq = -1
        """seq of the last message receive() returned."""

    def send(self, message: Message | Frame, seq: int | None = None) -> int:
        if seq is None:
            self.seq = (self.seq + 1) & 0xFF
            seq = self.seq
        frame = message if isinstance(message, Frame) else message.to_frame(seq)
        self.port.write(encode_frame(frame))
        return frame.seq

    def receive(self, timeout: float = 2.0) -> Message:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for frame in self.decoder.feed(self.port.read(256)):
                message = decode_message(frame)
                if not isinstance(message, Heartbeat):
                    self.last_seq = frame.seq
                    return message
        raise AssertionError("the simulated MCU did not answer")


@pytest.fixture
def mcu() -> Iterator[SimulatedMcu]:
    with SimulatedMcu(heartbeat_seconds=0.2, muted=True, volume=70) as sim:
        yield sim


@pytest.fixture
def host(mcu) -> Iterator[RawHost]:
    raw = RawHost(mcu.path)
    yield raw
    raw.port.close()


def handshake(host: RawHost) -> HelloReply:
    seq = host.send(Hello(1, 0, 200))
    reply = host.receive()
    assert isinstance(reply, HelloReply) and reply.hello_seq == seq
    return reply


def test_requests_before_hello_are_refused(mcu, host):
    seq = host.send(SetLed(LedPattern.LISTENING))
    assert host.receive() == Nack(seq, MsgType.SET_LED, NackReason.HANDSHAKE_REQUIRED)
    assert mcu.led == LedPattern.OFFLINE


def test_hello_reply_carries_version_switches_and_capabilities(mcu, host):
    reply = handshake(host)
    assert (reply.major, reply.minor, reply.volume, reply.muted) == (1, 0, 70, True)
    assert reply.flags & 0b110 == 0b110 and reply.firmware == "voiceshop-sim 1.0"


def test_request_is_applied_then_acked_and_a_duplicate_only_acked(mcu, host):
    handshake(host)
    seq = host.send(SetLed(LedPattern.THINKING))
    assert host.receive() == Ack(seq, MsgType.SET_LED)
    host.send(SetLed(LedPattern.THINKING), seq)  # our retry after a lost ACK
    assert host.receive() == Ack(seq, MsgType.SET_LED)
    assert mcu.led_history == [LedPattern.THINKING]


@pytest.mark.parametrize("frame, reason", [
    (Frame(0x6A, 9, b"?"), NackReason.UNKNOWN_TYPE),
    (Frame(MsgType.SET_LED, 9, b"\x02\x02"), NackReason.BAD_PAYLOAD),
    (Frame(MsgType.BUTTON, 9, b"\x01\x00"), NackReason.WRONG_DIRECTION),
])
def test_bad_frames_get_the_right_nack_and_the_mcu_carries_on(mcu, host, frame, reason):
    handshake(host)
    host.port.write(b"\xde\xad\xbe\xef" * 40)  # garbage first: the MCU must resync
    host.send(frame)
    assert host.receive() == Nack(9, frame.type, reason)
    seq = host.send(SetLed(LedPattern.IDLE))
    assert host.receive() == Ack(seq, MsgType.SET_LED)
    assert mcu.decoder.stats.errors >= 1


def test_events_are_resent_until_acked(mcu, host):
    handshake(host)
    mcu.set_mute(False)
    first, first_seq = host.receive(), host.last_seq
    again = host.receive()  # no ACK from us: the same frame, same seq, comes again
    assert first == again and first.TYPE == MsgType.MUTE and host.last_seq == first_seq
    host.send(Ack(first_seq, MsgType.MUTE))
    assert mcu.wait_for(lambda: not mcu._outbox)  # ACKed: no more retries


def test_major_mismatch_is_answered_with_our_version_then_refused(mcu, host):
    seq = host.send(Hello(3, 0, 200))
    reply = host.receive()
    assert isinstance(reply, HelloReply) and reply.major == 1 and reply.hello_seq == seq
    seq = host.send(SetLed(LedPattern.IDLE))
    assert host.receive() == Nack(seq, MsgType.SET_LED, NackReason.VERSION_MISMATCH)
