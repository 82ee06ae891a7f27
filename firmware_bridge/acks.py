"""Requests in flight: which seq waits for which ACK, when to re-send, when to give up.

Kept apart from the port handling so the retry rule reads in one place: a request is sent, then
re-sent with the same seq every ack_timeout until it is ACKed or NACKed or has been tried
1 + retries times. Re-sending the same seq lets the MCU recognise a duplicate whose ACK was lost.

A request for a state (LED pattern, volume: `Message.LATEST_WINS`) supersedes an unanswered older
one of its type: the older one leaves the table, so it is never re-sent after the newer one went out
and a late retransmission cannot bring back a stale LED. Its waiter follows `superseded_by` and
gets the newer request's answer, which is the state the MCU ends up in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from firmware_bridge.errors import AckTimeout, BridgeError
from firmware_bridge.protocol import Ack, Message, Nack


@dataclass
class Pending:
    """A request waiting for its answer; `done` is set once `result` is final."""

    message: Message
    seq: int
    deadline: float
    attempts: int = 1
    done: threading.Event = field(default_factory=threading.Event)
    result: Ack | Nack | BridgeError | None = None
    superseded_by: Pending | None = None
    """Set (with `done`) when a newer request of the same state type replaced this one."""

    def final(self) -> Pending:
        """The request whose answer counts for this one: itself, or the newest that superseded it."""
        current = self
        while current.superseded_by is not None:
            current = current.superseded_by
        return current


class AckTracker:
    """Thread-safe table of pending requests keyed by seq."""

    def __init__(self, ack_timeout: float, retries: int) -> None:
        self.ack_timeout = ack_timeout
        self.retries = retries
        self.retransmits = 0
        self._lock = threading.Lock()
        self._pending: dict[int, Pending] = {}

    def add(self, message: Message, seq: int, now: float) -> Pending:
        """Track a request about to be sent; an older unanswered one of the same state type is dropped.

        Call this before writing the new frame, under the same lock as the retransmit writes (the
        sender does), so no retransmission of the older request can follow the new frame on the wire.
        """
        pending = Pending(message, seq, now + self.ack_timeout)
        with self._lock:
            older = [p for p in self._pending.values()
                     if message.LATEST_WINS and p.message.TYPE == message.TYPE]
            for item in older:
                del self._pending[item.seq]
            self._pending[seq] = pending
        for item in older:
            item.superseded_by = pending
            item.done.set()
        return pending

    def discard(self, seq: int) -> None:
        with self._lock:
            self._pending.pop(seq, None)

    def resolve(self, seq: int, result: Ack | Nack | BridgeError) -> bool:
        """Finish the request with this seq; False when none was waiting (a late or stray answer)."""
        with self._lock:
            pending = self._pending.pop(seq, None)
        if pending is None:
            return False
        pending.result = result
        pending.done.set()
        return True

    def fail_all(self, error: BridgeError) -> None:
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for item in pending:
            item.result = error
            item.done.set()

    def due(self, now: float) -> list[Pending]:
        """Requests to re-send now (their deadline moved on); those out of tries are failed here."""
        with self._lock:
            late = [p for p in self._pending.values() if now >= p.deadline]
        resend = []
        for item in late:
            if item.attempts > self.retries:
                self.resolve(item.seq, AckTimeout(
                    f"{item.message.TYPE.name} seq {item.seq}: no answer after {item.attempts} tries"))
                continue
            item.attempts += 1
            item.deadline = now + self.ack_timeout
            self.retransmits += 1
            resend.append(item)
        return resend
