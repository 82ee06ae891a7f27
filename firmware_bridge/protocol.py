"""The messages host and MCU exchange: ids, payload layouts, and their encode/decode.

One frozen dataclass per message type, each knowing its own payload layout (all multi-byte fields
big-endian, as PROTOCOL.md specifies). `decode_message` turns a checked Frame into a message or a
`Malformed` / `UnknownType` value the caller answers with a NACK; it never raises, because a frame
from a newer firmware or a bit-flip that slipped past the CRC must not take down the device loop.
Both the host (link.py) and the simulated MCU (sim.py) use this module, so the simulator speaks
exactly the protocol the host expects of real firmware.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from firmware_bridge.framing import Frame

PROTOCOL_MAJOR = 1
"""Bumped on any change an older peer would misread; peers with different majors refuse each other."""
PROTOCOL_MINOR = 0
"""Bumped when messages are added; an older peer NACKs them as unknown and both carry on."""


class MsgType(IntEnum):
    HELLO = 0x01
    HELLO_REPLY = 0x02
    HEARTBEAT = 0x03
    ACK = 0x04
    NACK = 0x05
    BUTTON = 0x10
    MUTE = 0x11
    VOLUME = 0x12
    DSP_WAKE = 0x13
    SET_LED = 0x20
    SET_VOLUME = 0x21


class NackReason(IntEnum):
    UNKNOWN_TYPE = 1
    """The receiver has no such message type (e.g. a newer minor version)."""
    BAD_PAYLOAD = 2
    """Known type, but wrong length or a value out of range."""
    HANDSHAKE_REQUIRED = 3
    """The receiver has not completed a HELLO exchange (e.g. the MCU rebooted)."""
    VERSION_MISMATCH = 4
    """The peers' protocol majors differ."""
    WRONG_DIRECTION = 5
    """A message only the other side may send (e.g. the MCU sent SET_LED)."""


class LedPattern(IntEnum):
    IDLE = 0
    WAKE = 1
    LISTENING = 2
    THINKING = 3
    SPEAKING = 4
    ERROR = 5
    MUTED = 6
    OFFLINE = 7

    @classmethod
    def parse(cls, value: str | int | LedPattern) -> LedPattern:
        """Accept "listening", "LISTENING", 2 or LedPattern.LISTENING; raise ValueError naming the choices."""
        if isinstance(value, LedPattern):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(p.name.lower() for p in cls)
            raise ValueError(f"unknown LED pattern {value!r}; known: {names}") from None


class ButtonEvent(IntEnum):
    SHORT = 1
    LONG = 2
    PTT_DOWN = 3
    PTT_UP = 4


class Button(IntEnum):
    ACTION = 0
    """The main button on top of the speaker / on the steering wheel."""
    TALK = 1
    """A dedicated push-to-talk button (car)."""


FLAG_MUTED = 0x01
FLAG_HAS_DSP_WAKE = 0x02
FLAG_HAS_PTT = 0x04
MAX_VOLUME = 100
MAX_FIRMWARE_NAME = 32


class Malformed(Exception):
    """A known message type with a payload that does not fit its layout (answer: NACK BAD_PAYLOAD)."""


@dataclass(frozen=True)
class UnknownType:
    """A checked frame whose type this side does not know (answer: NACK UNKNOWN_TYPE)."""

    type: int


@dataclass(frozen=True)
class Message:
    """Base of every message; subclasses set TYPE and the struct FORMAT of a fixed-size payload."""

    TYPE: ClassVar[MsgType]
    FORMAT: ClassVar[str] = ""
    NEEDS_ACK: ClassVar[bool] = False
    """The receiver answers with ACK/NACK and the sender retries until it does."""
    LATEST_WINS: ClassVar[bool] = False
    """A state, not an event: sending a newer one stops the retries of an unanswered older one, so a
    late retransmission can never put the old state back (PROTOCOL.md section 6)."""

    def payload(self) -> bytes:
        return struct.pack(">" + self.FORMAT, *self._fields())

    def _fields(self) -> tuple:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))

    @classmethod
    def from_payload(cls, payload: bytes) -> Message:
        fmt = ">" + cls.FORMAT
        if len(payload) != struct.calcsize(fmt):
            raise Malformed(f"{cls.TYPE.name} payload must be {struct.calcsize(fmt)} bytes, got {len(payload)}")
        msg = cls(*struct.unpack(fmt, payload))
        msg.validate()
        return msg

    def validate(self) -> None:
        """Raise Malformed when a field is out of its range (enum ids, volume > 100, ...)."""

    def to_frame(self, seq: int) -> Frame:
        self.validate()
        return Frame(type=int(self.TYPE), seq=seq, payload=self.payload())


def _enum_check(enum: type[IntEnum], value: int, what: str) -> None:
    if value not in enum._value2member_map_:
        raise Malformed(f"{what} {value} is not one of {[int(v) for v in enum]}")


@dataclass(frozen=True)
class Hello(Message):
    """Host -> MCU: start (or restart) a session; the MCU answers with HelloReply."""

    TYPE = MsgType.HELLO
    FORMAT = "BBH"
    major: int = PROTOCOL_MAJOR
    minor: int = PROTOCOL_MINOR
    heartbeat_ms: int = 1000
    """How often the host will send heartbeats (milliseconds)."""


class SwitchState:
    """The MCU's switch state as HELLO_REPLY and HEARTBEAT both carry it (flags + volume fields)."""

    flags: int
    volume: int

    def validate(self) -> None:
        if self.volume > MAX_VOLUME:
            raise Malformed(f"volume {self.volume} > {MAX_VOLUME}")

    @property
    def muted(self) -> bool:
        return bool(self.flags & FLAG_MUTED)


@dataclass(frozen=True)
class HelloReply(SwitchState, Message):
    """MCU -> host: its protocol version, capabilities and current switch state."""

    TYPE = MsgType.HELLO_REPLY
    major: int
    minor: int
    hello_seq: int
    """The seq of the Hello this answers (a late reply to an old Hello is ignored)."""
    flags: int
    """FLAG_MUTED | FLAG_HAS_DSP_WAKE | FLAG_HAS_PTT."""
    volume: int
    firmware: str = ""
    """Free-form firmware name/version, UTF-8, at most 32 bytes."""

    def payload(self) -> bytes:
        name = self.firmware.encode("utf-8")[:MAX_FIRMWARE_NAME]
        return bytes((self.major, self.minor, self.hello_seq, self.flags, self.volume)) + name

    @classmethod
    def from_payload(cls, payload: bytes) -> HelloReply:
        if not 5 <= len(payload) <= 5 + MAX_FIRMWARE_NAME:
            raise Malformed(f"HELLO_REPLY payload must be 5-{5 + MAX_FIRMWARE_NAME} bytes, got {len(payload)}")
        msg = cls(*payload[:5], firmware=payload[5:].decode("utf-8", errors="replace"))
        msg.validate()
        return msg


@dataclass(frozen=True)
class Heartbeat(SwitchState, Message):
    """Both ways, every heartbeat interval, never acked. The MCU's carries its switch state."""

    TYPE = MsgType.HEARTBEAT
    FORMAT = "IBB"
    uptime_ms: int
    """Sender's uptime modulo 2**32 (milliseconds); going backwards means the sender rebooted."""
    flags: int = 0
    """MCU: FLAG_MUTED when the mute switch is on. Host: 0."""
    volume: int = 0
    """MCU: current volume 0-100. Host: 0."""



@dataclass(frozen=True)
class Ack(Message):
    """The request with this seq and type was applied."""

    TYPE = MsgType.ACK
    FORMAT = "BB"
    acked_seq: int
    acked_type: int


@dataclass(frozen=True)
class Nack(Message):
    """The request with this seq and type was refused, and why."""

    TYPE = MsgType.NACK
    FORMAT = "BBB"
    acked_seq: int
    acked_type: int
    reason: int

    def validate(self) -> None:
        _enum_check(NackReason, self.reason, "nack reason")


@dataclass(frozen=True)
class ButtonMsg(Message):
    """MCU -> host: a button was pressed (short/long) or push-to-talk went down/up."""

    TYPE = MsgType.BUTTON
    FORMAT = "BB"
    NEEDS_ACK = True
    event: int
    button: int = Button.ACTION

    def validate(self) -> None:
        _enum_check(ButtonEvent, self.event, "button event")
        _enum_check(Button, self.button, "button")


@dataclass(frozen=True)
class MuteMsg(Message):
    """MCU -> host: the mute switch moved (1 = on: no audio may reach wake word or ASR)."""

    TYPE = MsgType.MUTE
    FORMAT = "B"
    NEEDS_ACK = True
    LATEST_WINS = True
    on: int

    def validate(self) -> None:
        if self.on not in (0, 1):
            raise Malformed(f"mute state must be 0 or 1, got {self.on}")


@dataclass(frozen=True)
class VolumeMsg(Message):
    """MCU -> host: the volume knob/buttons changed the volume (0-100)."""

    TYPE = MsgType.VOLUME
    FORMAT = "B"
    NEEDS_ACK = True
    LATEST_WINS = True
    level: int

    def validate(self) -> None:
        if self.level > MAX_VOLUME:
            raise Malformed(f"volume {self.level} > {MAX_VOLUME}")


@dataclass(frozen=True)
class DspWakeMsg(Message):
    """MCU -> host: the MCU's own low-power keyword spotter fired."""

    TYPE = MsgType.DSP_WAKE
    FORMAT = "BB"
    NEEDS_ACK = True
    score: int
    """Detector confidence scaled to 0-255."""
    keyword: int = 0
    """Index of the keyword in the DSP's model (0 for single-keyword DSPs)."""


@dataclass(frozen=True)
class SetLed(Message):
    """Host -> MCU: show this LED pattern until told otherwise."""

    TYPE = MsgType.SET_LED
    FORMAT = "B"
    NEEDS_ACK = True
    LATEST_WINS = True
    pattern: int

    def validate(self) -> None:
        _enum_check(LedPattern, self.pattern, "LED pattern")


@dataclass(frozen=True)
class SetVolume(Message):
    """Host -> MCU: set the amplifier volume (0-100), e.g. after "volume down"."""

    TYPE = MsgType.SET_VOLUME
    FORMAT = "B"
    NEEDS_ACK = True
    LATEST_WINS = True
    level: int

    def validate(self) -> None:
        if self.level > MAX_VOLUME:
            raise Malformed(f"volume {self.level} > {MAX_VOLUME}")


MESSAGES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (Hello, HelloReply, Heartbeat, Ack, Nack, ButtonMsg, MuteMsg, VolumeMsg, DspWakeMsg,
                SetLed, SetVolume)
}
HOST_SENDS = frozenset({MsgType.HELLO, MsgType.HEARTBEAT, MsgType.ACK, MsgType.NACK, MsgType.SET_LED,
                        MsgType.SET_VOLUME})
MCU_SENDS = frozenset({MsgType.HELLO_REPLY, MsgType.HEARTBEAT, MsgType.ACK, MsgType.NACK, MsgType.BUTTON,
                       MsgType.MUTE, MsgType.VOLUME, MsgType.DSP_WAKE})


def decode_message(frame: Frame) -> Message | UnknownType | Malformed:
    """The typed message in frame, UnknownType for an id we lack, or Malformed for a bad payload."""
    cls = MESSAGES.get(frame.type)
    if cls is None:
        return UnknownType(frame.type)
    try:
        return cls.from_payload(frame.payload)
    except Malformed as exc:
        return exc
    except (struct.error, ValueError, TypeError) as exc:
        return Malformed(f"{cls.TYPE.name}: {exc}")

