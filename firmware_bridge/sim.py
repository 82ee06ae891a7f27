"""A simulated MCU on a pty pair: the firmware side of PROTOCOL.md, in Python, for laptops and tests.

`SimulatedMcu` opens a pseudo-terminal, keeps the state real firmware keeps (LED pattern, mute
switch, volume, buttons) and speaks the protocol on the master side; the host opens the slave path
like any serial port. Tests and the laptop demo drive it through its Python API (`press()`,
`set_mute()`, ...); `python -m firmware_bridge.sim` drives it from stdin (see sim_console.py).

Pass link_path to publish the pty under a stable name (a symlink): a pty's /dev/pts number
changes when the simulator restarts, and a stable path is what lets the host reconnect the way it
would to a re-plugged USB device.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware_bridge.framing import Frame, FrameDecoder, encode_frame
from firmware_bridge.protocol import (
    FLAG_HAS_DSP_WAKE,
    FLAG_HAS_PTT,
    FLAG_MUTED,
    HOST_SENDS,
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

log = logging.getLogger("firmware_bridge.sim")


class SimulatedMcu:
    """The MCU end of the link on a pty. start() returns the path the host should open."""

    def __init__(self, link_path: str | Path | None = None, *, major: int = PROTOCOL_MAJOR,
                 minor: int = PROTOCOL_MINOR, firmware: str = "voiceshop-sim 1.0",
                 heartbeat_seconds: float = 1.0, ack_timeout: float = 0.25, retries: int = 3,
                 muted: bool = False, volume: int = 50,
                 on_change: Callable[[str, Any], None] | None = None) -> None:
        self.link_path = Path(link_path) if link_path else None
        self.major, self.minor, self.firmware = major, minor, firmware
        self.heartbeat_seconds = heartbeat_seconds
        self.ack_timeout = ack_timeout
        self.retries = retries
        self.on_change = on_change
        """Called as on_change(what, value) for led, volume, host, nack; for a console to print."""
        # The state real firmware keeps.
        self.led = LedPattern.OFFLINE
        self.led_history: list[LedPattern] = []
        self.muted = muted
        self.volume = volume
        self.handshaken = False
        self.host_heartbeats = 0
        self.nacks_received: list[Nack] = []
        self.frames_received: list[Message | UnknownType | Malformed] = []
        self.drop_incoming: dict[int, int] = {}
        """type id -> how many incoming frames of that type to ignore (line noise eating them)."""
        self.drop_outgoing: dict[int, int] = {}
        """type id -> how many of our frames of that type to lose on the way to the host (e.g. an ACK)."""
        self.silent = False
        """While True the MCU sends nothing at all (hung firmware; the host must time the link out)."""
        self.decoder = FrameDecoder()
        self.path = ""
        self._master = self._slave = -1
        self._seq = 0
        self._last_request: dict[int, tuple[int, bytes, float]] = {}  # type -> (seq, payload, when)
        self._outbox: dict[int, list] = {}  # seq -> [message, deadline, attempts] awaiting the host's ACK
        self._last_host_rx = 0.0
        self._host_heartbeat = 1.0
        self._mismatch = False
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        self._master, self._slave = os.openpty()
        # Raw mode: no echo, no newline translation; the slave stays open on our side so the
        # master never reads EIO while no host is attached.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        if self.link_path:
            tmp = self.link_path.with_name(self.link_path.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.path)
            os.replace(tmp, self.link_path)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-mcu", daemon=True)
        self._thread.start()
        return str(self.link_path or self.path)

    def stop(self) -> None:
        """Vanish like an unplugged device: the host's next read fails."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self.link_path and self.link_path.is_symlink() and os.readlink(self.link_path) == self.path:
            self.link_path.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1
        self.handshaken = False

    def __enter__(self) -> SimulatedMcu:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a user does to the device ---------------------------------------------------------
    def press(self, kind: str = "short", button: str = "action") -> None:
        """kind: short, long, ptt_down, ptt_up; button: action or talk."""
        self._event(ButtonMsg(int(ButtonEvent[kind.upper()]), int(Button[button.upper()])))

    def set_mute(self, on: bool) -> None:
        """Flip the mute switch (the switch moves even with no host; the state is reported on connect)."""
        self.muted = bool(on)
        self._event(MuteMsg(int(self.muted)))

    def turn_volume(self, level: int) -> None:
        self.volume = max(0, min(100, int(level)))
        self._event(VolumeMsg(self.volume))

    def dsp_wake(self, score: float = 0.9, keyword: int = 0) -> None:
        self._event(DspWakeMsg(max(0, min(255, round(score * 255))), keyword))

    def reboot(self) -> None:
        """Reset like real firmware: session, LED and uptime are gone; the switches stay where they are."""
        with self._lock:
            self._started = time.monotonic()
            self.handshaken = False
            self.led = LedPattern.OFFLINE
            self._outbox.clear()
            self._last_request.clear()
            self.decoder.reset()

    def send_raw(self, data: bytes) -> None:
        """Put arbitrary bytes on the line (garbage, half frames) to exercise the host's resync."""
        self._write(data)

    def send_frame(self, type_id: int, payload: bytes = b"") -> int:
        """Send a checked frame of any type (e.g. one the host does not know); returns its seq."""
        seq = self._next_seq()
        self._write(encode_frame(Frame(type_id, seq, payload)))
        return seq

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.005)
        return predicate()

    @property
    def uptime_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000) & 0xFFFFFFFF

    @property
    def flags(self) -> int:
        return (FLAG_MUTED if self.muted else 0) | FLAG_HAS_DSP_WAKE | FLAG_HAS_PTT

    # -- the firmware loop ----------------------------------------------------------------------
    def _next_seq(self) -> int:
        with self._lock:
            self._seq = (self._seq + 1) & 0xFF
            return self._seq

    def _write(self, data: bytes) -> None:
        with self._lock:
            if self._master < 0 or self.silent:
                return
            # A full pty (no host draining it) drops the bytes, as a real UART with no listener does.
            with contextlib.suppress(OSError):
                os.write(self._master, data)

    def _send(self, message: Message, seq: int | None = None) -> int:
        seq = self._next_seq() if seq is None else seq
        kind = int(message.TYPE)
        if self.drop_outgoing.get(kind, 0) > 0:  # lost on the line: the seq is used up all the same
            self.drop_outgoing[kind] -= 1
            return seq
        self._write(encode_frame(message.to_frame(seq)))
        return seq

    def _event(self, message: Message) -> None:
        """Send an event that needs the host's ACK; re-sent from the loop until it comes.

        A newer state (mute switch, volume) stops the retries of an unACKed older one of its type, in
        the same critical section as the send: a late retransmission must never tell the host the mute
        switch is off after it was switched back on.
        """
        if not self.handshaken:
            return  # no session: the handshake reply will carry the switch state instead
        with self._lock:
            if message.LATEST_WINS:
                for old in [s for s, entry in self._outbox.items() if entry[0].TYPE == message.TYPE]:
                    del self._outbox[old]
            seq = self._send(message)
            self._outbox[seq] = [message, time.monotonic() + self.ack_timeout, 1]

    def _changed(self, what: str, value: Any) -> None:
        if self.on_change is not None:
            try:
                self.on_change(what, value)
            except Exception:
                log.exception("sim on_change callback failed")

    def _run(self) -> None:
        next_beat = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if self.handshaken:
                if now >= next_beat:
                    self._send(Heartbeat(self.uptime_ms, self.flags, self.volume))
                    next_beat = now + self.heartbeat_seconds
                if now - self._last_host_rx > 3 * self._host_heartbeat:
                    self.handshaken = False  # the host went quiet: wait for a new HELLO
                    self._changed("host", "lost")
                self._resend_events(now)
            try:
                ready, _, _ = select.select([self._master], [], [], 0.01)
                data = os.read(self._master, 4096) if ready else b""
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                # No host has the slave open (EIO): nothing to read; keep the switch state.
                self._stop.wait(0.01)
                continue
            for frame in self.decoder.feed(data):
                if self.drop_incoming.get(frame.type, 0) > 0:
                    self.drop_incoming[frame.type] -= 1
                    continue
                self._last_host_rx = time.monotonic()
                try:
                    self._handle(frame)
                except Exception:  # firmware must not die on a bad frame either
                    log.exception("sim failed on frame type 0x%02x", frame.type)

    def _resend_events(self, now: float) -> None:
        with self._lock:
            for seq, entry in list(self._outbox.items()):
                message, deadline, attempts = entry
                if now < deadline:
                    continue
                if attempts > self.retries:
                    del self._outbox[seq]
                    log.warning("host never ACKed %s seq %d", message.TYPE.name, seq)
                    continue
                entry[1], entry[2] = now + self.ack_timeout, attempts + 1
                self._send(message, seq)

    def _handle(self, frame: Frame) -> None:
        message = decode_message(frame)
        self.frames_received.append(message)
        if isinstance(message, UnknownType):
            self._send(Nack(frame.seq, frame.type, NackReason.UNKNOWN_TYPE))
        elif isinstance(message, Malformed):
            self._send(Nack(frame.seq, frame.type, NackReason.BAD_PAYLOAD))
        elif message.TYPE not in HOST_SENDS:
            self._send(Nack(frame.seq, frame.type, NackReason.WRONG_DIRECTION))
        elif isinstance(message, Hello):
            self._hello(message, frame.seq)
        elif isinstance(message, Heartbeat):
            self.host_heartbeats += 1
        elif isinstance(message, Ack):
            with self._lock:
                self._outbox.pop(message.acked_seq, None)
        elif isinstance(message, Nack):
            self.nacks_received.append(message)
            with self._lock:
                self._outbox.pop(message.acked_seq, None)
            self._changed("nack", message)
        elif not self.handshaken:
            reason = NackReason.VERSION_MISMATCH if self._mismatch else NackReason.HANDSHAKE_REQUIRED
            self._send(Nack(frame.seq, frame.type, reason))
        else:
            self._request(message, frame.seq, frame.payload)

    def _hello(self, hello: Hello, seq: int) -> None:
        self._mismatch = hello.major != self.major
        self._host_heartbeat = max(hello.heartbeat_ms, 10) / 1000.0
        # Always answer with our own version, so a host of another major can say what we speak.
        self._send(HelloReply(self.major, self.minor, seq, self.flags, self.volume, self.firmware))
        with self._lock:
            self._outbox.clear()
            self._last_request.clear()
        self.handshaken = not self._mismatch
        self._changed("host", "connected" if self.handshaken else f"refused (host speaks {hello.major}.x)")

    def _request(self, message: Message, seq: int, payload: bytes) -> None:
        now = time.monotonic()
        last = self._last_request.get(int(message.TYPE))
        duplicate = (last is not None and last[:2] == (seq, payload)
                     and now - last[2] < self.ack_timeout * (self.retries + 2))
        self._last_request[int(message.TYPE)] = (seq, payload, now)
        if not duplicate:  # a re-sent request whose ACK was lost is ACKed again, not applied twice
            if isinstance(message, SetLed):
                self.led = LedPattern(message.pattern)
                self.led_history.append(self.led)
                self._changed("led", self.led.name.lower())
            elif isinstance(message, SetVolume):
                self.volume = message.level
                self._changed("volume", self.volume)
        self._send(Ack(seq, int(message.TYPE)))


if __name__ == "__main__":
    from firmware_bridge.sim_console import main

    raise SystemExit(main())
