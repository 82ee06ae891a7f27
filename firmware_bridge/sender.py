"""The host's outgoing half of the link: one seq counter, one frame on the wire at a time.

Split from link.py because the order frames reach the wire is a rule of its own: every write
(heartbeat, ACK, new request, retransmission) happens under one lock, and a new request is entered
in the AckTracker and written in the same critical section as the retransmissions are chosen and
written. With a FIFO line (UART, pty, TCP) that makes "a newer LED request supersedes an older one"
(acks.py) airtight: once the newer frame is written, no retransmission of the older one follows it.
It also keeps seq order equal to wire order when several threads send at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

from firmware_bridge.acks import AckTracker, Pending
from firmware_bridge.errors import NotConnected
from firmware_bridge.framing import Frame, encode_frame
from firmware_bridge.protocol import Message

log = logging.getLogger("firmware_bridge.link")


class FrameSender:
    """Writes frames to the current port; the supervisor attaches and detaches the port per session."""

    def __init__(self, ack_timeout: float, retries: int, why_down: Callable[[], str]) -> None:
        self.acks = AckTracker(ack_timeout, retries)
        self._why_down = why_down
        """Says why there is no port (the bridge's last error), for the NotConnected message."""
        self._lock = threading.Lock()  # guards _port and _seq, and orders every write
        self._port: serial.SerialBase | None = None
        self._seq = 0

    def attach(self, port: serial.SerialBase | None) -> None:
        """Write to this port from now on (None: the session ended, writes raise NotConnected)."""
        with self._lock:
            self._port = port

    def next_seq(self) -> int:
        """Take a seq for a frame the caller writes itself (a HELLO and its same-seq retries)."""
        with self._lock:
            return self._take_seq()

    def write(self, frame_or_bytes: Frame | bytes) -> None:
        """Put a frame (or raw bytes such as a lone delimiter) on the wire; NotConnected without a port."""
        with self._lock:
            self._write(frame_or_bytes)

    def send(self, message: Message) -> int:
        """Send an unacknowledged message (heartbeat, ACK, NACK) with the next seq; returns the seq."""
        with self._lock:
            seq = self._take_seq()
            self._write(message.to_frame(seq))
            return seq

    def submit(self, message: Message, now: float) -> Pending:
        """Send a request and track it until its answer; NotConnected when there is no port.

        A port error on the write is not raised: the supervisor sees the dead port on its next read and
        fails every pending request, this one included.
        """
        with self._lock:
            if self._port is None:
                raise NotConnected(f"MCU link down: {self._why_down()}")
            seq = self._take_seq()
            pending = self.acks.add(message, seq, now)
            try:
                self._write(message.to_frame(seq))
            except (serial.SerialException, OSError) as exc:
                log.debug("write failed: %s", exc)
            return pending

    def resend_due(self, now: float) -> None:
        """Re-send every request whose ACK is late (same seq); those out of tries fail in the tracker."""
        with self._lock:
            for item in self.acks.due(now):
                self._write(item.message.to_frame(item.seq))

    def _take_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _write(self, frame_or_bytes: Frame | bytes) -> None:
        data = frame_or_bytes if isinstance(frame_or_bytes, bytes) else encode_frame(frame_or_bytes)
        if self._port is None:
            raise NotConnected(f"MCU link down: {self._why_down()}")
        self._port.write(data)
