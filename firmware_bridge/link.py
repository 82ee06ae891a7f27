"""The host side of the MCU link: open the port, handshake, keep it alive, turn frames into events.

One supervisor thread owns the port: it (re)opens it, says HELLO, sends heartbeats, reads and
dispatches frames, re-sends requests whose ACK is late, and on any port error or silence closes
everything and starts over. Callers only ever wait on their own request (`set_led` blocks until the
MCU's ACK, a NACK, or the retries run out). Nothing the MCU sends can raise out of this thread: an
unknown type is NACKed, a malformed payload is NACKed, garbage is counted and skipped.

Every write goes through `sender.FrameSender` (one seq counter, wire order = seq order, retries of
a superseded LED request stop before the newer one is written); this module owns the port's life
and what arriving frames mean.

The port is opened with pyserial's `serial_for_url`, so a device path (/dev/ttyACM0), a pty from
the simulator, or `socket://host:port` (a ser2net bridge) all work.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from firmware_bridge import events as ev
from firmware_bridge.acks import Pending
from firmware_bridge.errors import AckTimeout, BridgeError, Nacked, NotConnected, VersionMismatch
from firmware_bridge.framing import DELIMITER, FrameDecoder
from firmware_bridge.protocol import (
    FLAG_HAS_DSP_WAKE,
    FLAG_HAS_PTT,
    MCU_SENDS,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
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
    Message,
    MuteMsg,
    Nack,
    NackReason,
    SetLed,
    SetVolume,
    UnknownType,
    VolumeMsg,
    decode_message,
)
from firmware_bridge.sender import FrameSender

log = logging.getLogger("firmware_bridge.link")

READ_POLL_SECONDS = 0.05
"""Longest a read blocks before the supervisor checks its timers (seconds)."""
MISMATCH_RETRY_SECONDS = 5.0
"""After a protocol major mismatch, how long before trying again (firmware may get flashed)."""


class _SessionEnded(Exception):
    """Internal: end this port session (the reason is the message) and reconnect."""


@dataclass(frozen=True)
class McuInfo:
    """What the MCU said in its HELLO_REPLY."""

    firmware: str
    major: int
    minor: int
    has_dsp_wake: bool
    has_ptt: bool


class McuBridge:
    """Host end of the link. Use as a context manager, or start() and close()."""

    def __init__(self, port: str, *, baudrate: int, heartbeat_seconds: float, ack_timeout: float, retries: int,
                 reconnect_seconds: float, link_timeout: float | None = None,
                 on_event: Callable[[ev.BridgeEvent], None] | None = None) -> None:
        """Timing has no defaults here: the user of the library owns them (the device's [firmware] section).

        baudrate in bits per second; heartbeat_seconds between heartbeats; ack_timeout before a
        request is re-sent (seconds); retries re-sends before giving up; reconnect_seconds between
        attempts to reopen a vanished port; link_timeout of MCU silence that ends a session (seconds,
        default three heartbeats).
        """
        self.port = port
        self.baudrate = baudrate
        self.heartbeat_seconds = heartbeat_seconds
        self.ack_timeout = ack_timeout
        self.retries = retries
        self.link_timeout = link_timeout if link_timeout is not None else 3 * heartbeat_seconds
        """Silence from the MCU longer than this (seconds) ends the session."""
        self.reconnect_seconds = reconnect_seconds
        self.events: queue.Queue[ev.BridgeEvent] = queue.Queue(maxsize=256)
        """Every event, for callers that poll; the oldest is dropped when nobody reads it."""
        self.decoder = FrameDecoder()
        self.sender = FrameSender(ack_timeout, retries, lambda: self.last_error)
        """Every write goes through it: seq order is wire order, requests are tracked until answered."""
        self.acks = self.sender.acks
        self.counters = {"nacks_sent": 0, "nacks_received": 0, "sessions": 0}
        self.info: McuInfo | None = None
        self.muted: bool | None = None
        """Last known mute switch state (None before the first handshake)."""
        self.volume: int | None = None
        self.wanted_led: LedPattern | None = None
        """The pattern last asked for; re-sent after every handshake so a rebooted MCU shows it."""
        self.last_error = "not started"
        self._subscribers: list[Callable[[ev.BridgeEvent], None]] = [on_event] if on_event else []
        self._seen: dict[tuple[int, int], tuple[bytes, float]] = {}
        self._up = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mismatch = False

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> McuBridge:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._supervise, name="mcu-bridge", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def __enter__(self) -> McuBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def wait_connected(self, timeout: float) -> McuInfo:
        """Block until handshaken; raise VersionMismatch or NotConnected (with the last error)."""
        end = time.monotonic() + timeout
        while not self._up.wait(min(0.05, max(0.0, end - time.monotonic()))):
            if self._mismatch:
                raise VersionMismatch(self.last_error)
            if time.monotonic() >= end:
                raise NotConnected(f"no MCU link on {self.port} after {timeout:.1f} s: {self.last_error}")
        assert self.info is not None
        return self.info

    def subscribe(self, callback: Callable[[ev.BridgeEvent], None]) -> None:
        """Call callback(event) on the bridge thread for every event; keep it quick and non-raising."""
        self._subscribers.append(callback)

    # -- requests --------------------------------------------------------------------------------
    def set_led(self, pattern: str | int | LedPattern, *, wait: bool = True) -> None:
        """Show an LED pattern; with wait, block until the MCU ACKs (raise BridgeError otherwise).

        The pattern is remembered either way and re-sent after every (re)connect; without wait,
        nothing is raised, even with the link down (for a device loop that must not stall on LEDs).
        """
        led = LedPattern.parse(pattern)
        self.wanted_led = led
        self._request(SetLed(int(led)), wait=wait)

    def set_volume(self, level: int, *, wait: bool = True) -> None:
        """Set the amplifier volume 0-100; with wait, block until the MCU ACKs."""
        if not 0 <= level <= 100:
            raise ValueError(f"volume must be 0-100, got {level}")
        self._request(SetVolume(level), wait=wait)
        self.volume = level

    def _request(self, message: Message, *, wait: bool) -> None:
        if not self.connected:
            if not wait:
                return  # fire-and-forget callers (the device loop) must not fail while the MCU is away
            raise NotConnected(f"MCU link down: {self.last_error}")
        try:
            pending = self.sender.submit(message, time.monotonic())
        except NotConnected:
            if wait:
                raise
            return
        if not wait:
            return
        # The supervisor resolves every pending request (ack, nack, retries exhausted, link lost);
        # this bound only guards against a supervisor that died. A request superseded by a newer
        # one of its kind (a later LED pattern) takes that one's answer: it is the state now shown.
        while True:
            if not pending.done.wait(self.ack_timeout * (self.retries + 2) + 1.0):
                raise AckTimeout(f"{message.TYPE.name} seq {pending.seq}: supervisor did not answer")
            if pending.final() is pending:
                break
            pending = pending.final()
        result = pending.result
        if isinstance(result, BridgeError):
            raise result
        if isinstance(result, Nack):
            reason = NackReason(result.reason)
            raise Nacked(f"MCU refused {message.TYPE.name}: {reason.name.lower()}", reason)

    # -- the port --------------------------------------------------------------------------------
    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                port = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=READ_POLL_SECONDS,
                                             write_timeout=1.0)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._note_error(f"cannot open {self.port}: {exc}")
                self._stop.wait(self.reconnect_seconds)
                continue
            reason = "bridge closed"
            try:
                self.sender.attach(port)
                self._session(port)
            except _SessionEnded as exc:
                reason = str(exc)
            except (serial.SerialException, OSError) as exc:
                reason = f"port error: {exc}"
            except Exception as exc:  # never let the link thread die silently
                log.exception("MCU link session failed")
                reason = f"internal error: {exc}"
            finally:
                self.sender.attach(None)
                with contextlib.suppress(Exception):
                    port.close()
                self._end_session(reason)
            if not self._stop.is_set():
                self._stop.wait(MISMATCH_RETRY_SECONDS if self._mismatch else self.reconnect_seconds)

    def _note_error(self, message: str) -> None:
        if message != self.last_error and not self._stop.is_set():
            log.warning("%s", message)
        self.last_error = message

    def _end_session(self, reason: str) -> None:
        was_up = self._up.is_set()
        self._up.clear()
        self.acks.fail_all(NotConnected(f"MCU link lost: {reason}"))
        self._note_error(reason)
        if was_up:
            self._emit(ev.LinkDown(reason=reason, timestamp=time.monotonic()))

    def _session(self, port: serial.SerialBase) -> None:
        self.decoder.reset()
        self.counters["sessions"] += 1
        with contextlib.suppress(serial.SerialException, OSError, AttributeError):
            port.reset_input_buffer()
        self.sender.write(DELIMITER)  # ends whatever half-frame the MCU was holding from a previous host
        hello = self._start_hello(time.monotonic())
        last_rx = next_beat = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if not self._up.is_set() and now >= hello.deadline:
                if hello.attempts > self.retries:
                    raise _SessionEnded(f"no HELLO_REPLY from {self.port} after {hello.attempts} tries")
                hello.attempts += 1
                hello.deadline = now + self.ack_timeout
                self.sender.write(hello.message.to_frame(hello.seq))
            if self._up.is_set():
                if now >= next_beat:
                    self.sender.send(Heartbeat(int(now * 1000) & 0xFFFFFFFF))
                    next_beat = now + self.heartbeat_seconds
                if now - last_rx > self.link_timeout:
                    raise _SessionEnded(f"no frame from the MCU for {now - last_rx:.1f} s")
                self.sender.resend_due(now)
            data = port.read(port.in_waiting or 1)
            if not data:
                continue
            for frame in self.decoder.feed(data):
                last_rx = time.monotonic()
                message = decode_message(frame)
                if isinstance(message, HelloReply):
                    if message.hello_seq == hello.seq and not self._up.is_set():
                        self._handshake(message)
                elif isinstance(message, UnknownType):
                    self._nack(frame.seq, frame.type, NackReason.UNKNOWN_TYPE, f"unknown type 0x{frame.type:02x}")
                elif isinstance(message, Malformed):
                    self._nack(frame.seq, frame.type, NackReason.BAD_PAYLOAD, str(message))
                elif self._up.is_set():
                    self._dispatch(message, frame.seq, frame.payload)

    def _start_hello(self, now: float) -> Pending:
        seq = self.sender.next_seq()
        hello = Pending(Hello(PROTOCOL_MAJOR, PROTOCOL_MINOR, int(self.heartbeat_seconds * 1000)), seq,
                        now + self.ack_timeout)
        self.sender.write(hello.message.to_frame(seq))
        return hello

    def _handshake(self, reply: HelloReply) -> None:
        if reply.major != PROTOCOL_MAJOR:
            self._mismatch = True
            raise _SessionEnded(f"version mismatch: MCU {reply.firmware!r} speaks protocol "
                                f"{reply.major}.{reply.minor}, host speaks {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}")
        self._mismatch = False
        self._seen.clear()  # a rebooted MCU restarts its seqs; old ones must not look like duplicates
        self.info = McuInfo(reply.firmware, reply.major, reply.minor, bool(reply.flags & FLAG_HAS_DSP_WAKE),
                            bool(reply.flags & FLAG_HAS_PTT))
        self.volume = reply.volume
        self.last_error = ""
        now = time.monotonic()
        self._set_muted(reply.muted, "handshake", now, always=True)  # the gate knows before anyone sends
        self._up.set()
        log.info("MCU link up: %s, protocol %d.%d", reply.firmware, reply.major, reply.minor)
        self._emit(ev.LinkUp(reply.firmware, f"{reply.major}.{reply.minor}", reply.muted, reply.volume, now))
        if self.wanted_led is not None:
            self.sender.submit(SetLed(int(self.wanted_led)), now)

    def _nack(self, seq: int, type_id: int, reason: NackReason, why: str) -> None:
        log.warning("NACK %s for frame type 0x%02x seq %d: %s", reason.name, type_id, seq, why)
        self.counters["nacks_sent"] += 1
        self.sender.send(Nack(seq, type_id, int(reason)))

    # -- incoming messages -----------------------------------------------------------------------
    def _dispatch(self, message: Message, seq: int, payload: bytes) -> None:
        if message.TYPE not in MCU_SENDS:
            self._nack(seq, int(message.TYPE), NackReason.WRONG_DIRECTION, "only the host sends this")
            return
        now = time.monotonic()
        if isinstance(message, Ack):
            self.acks.resolve(message.acked_seq, message)
        elif isinstance(message, Nack):
            self.counters["nacks_received"] += 1
            if message.reason == NackReason.HANDSHAKE_REQUIRED:
                raise _SessionEnded("the MCU lost our session (it restarted); handshaking again")
            self.acks.resolve(message.acked_seq, message)
        elif isinstance(message, Heartbeat):
            self.volume = message.volume
            self._set_muted(message.muted, "heartbeat", now)
        elif message.NEEDS_ACK:
            duplicate = self._is_duplicate(int(message.TYPE), seq, payload, now)
            if not duplicate:
                self._apply_event(message, now)
            self.sender.send(Ack(seq, int(message.TYPE)))  # after applying: an ACK means "the host has it"

    def _is_duplicate(self, type_id: int, seq: int, payload: bytes, now: float) -> bool:
        """A retransmission of an event we already handled (our ACK was lost)."""
        window = self.ack_timeout * (self.retries + 2)
        self._seen = {k: v for k, v in self._seen.items() if now - v[1] <= window}
        previous = self._seen.get((type_id, seq))
        self._seen[(type_id, seq)] = (payload, now)
        return previous is not None and previous[0] == payload

    def _apply_event(self, message: Message, now: float) -> None:
        if isinstance(message, MuteMsg):
            self._set_muted(bool(message.on), "switch", now)
        elif isinstance(message, ButtonMsg):
            self._emit(ev.ButtonPressed(ButtonEvent(message.event).name.lower(),
                                        Button(message.button).name.lower(), now))
        elif isinstance(message, VolumeMsg):
            self.volume = message.level
            self._emit(ev.VolumeChanged(message.level, now))
        elif isinstance(message, DspWakeMsg):
            self._emit(ev.DspWake(message.score / 255.0, message.keyword, now))

    def _set_muted(self, muted: bool, source: str, now: float, *, always: bool = False) -> None:
        if muted != self.muted or always:
            self.muted = muted
            self._emit(ev.MuteChanged(muted, source, now))

    def _emit(self, event: ev.BridgeEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("bridge event subscriber failed on %s", type(event).__name__)
        while True:
            try:
                self.events.put_nowait(event)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.events.get_nowait()
