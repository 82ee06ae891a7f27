"""The device's order outbox: what the dialogue confirms, what the sync client sends, what the cloud says.

Every confirmed order gets its idempotency key in the same transaction that records it, so a retry
after any failure carries the same key and the cloud can store it once. Orders move only along
`model.TRANSITIONS`; an update that does not fit (a duplicate ack, a status for an order we already
consider cancelled) is logged and ignored rather than applied, so replays from the network are safe.

Used by the dialogue (`save_draft`, `confirm`, `cancel`, `list`) and the sync client (`queue_confirmed`,
`take_due`, `apply_acks`, ...). Orders are marked `sent` *before* they are published: one still `queued`
never left the device, one left `sent` by a crash is published again (the cloud deduplicates by key).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from edge.events import OrderChanged
from edge.orders import db
from edge.orders.model import (
    ACKED,
    CANCELLED,
    CONFIRMED,
    DELIVERED,
    DRAFT,
    QUEUED,
    SENT,
    SHIPPED,
    STATES,
    UNSETTLED,
    DueOrder,
    LineInput,
    Order,
    OrderError,
    OrderRef,
    can_move,
    check_currency,
    check_lines,
)
from edge.wire import MAX_CENTS, Ack, OrderLine, StatusUpdate, encode, new_idempotency_key

log = logging.getLogger("edge.orders")

Listener = Callable[[OrderChanged], None]


class Outbox:
    """Orders in the device SQLite (WAL, synchronous=FULL); safe to share between threads."""

    def __init__(self, path: str | Path, *, cancel_window_seconds: float = 900.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.cancel_window_seconds = cancel_window_seconds
        self._clock = clock
        self._conn = db.connect(self.path)  # OutboxDamaged (file set aside) when SQLite finds it damaged
        for kept in db.kept_aside(self.path):  # said at every start until someone deals with it
            log.warning("a damaged outbox was set aside at %s; orders in it that had not reached the store are "
                        "not being sent (recover them with: sqlite3 %s .recover)", kept, kept)
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._pending_events: list[OrderChanged] = []

    @classmethod
    def for_settings(cls, settings: Any) -> Outbox:
        """The outbox file under the device's data_dir, with the dialogue's cancel window."""
        return cls(settings.device.data_path / "outbox.sqlite",
                   cancel_window_seconds=settings.dialog.cancel_window_seconds)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add_listener(self, listener: Listener) -> None:
        """Call listener(OrderChanged) after every committed state change (from any thread)."""
        self._listeners.append(listener)

    # -- transactions --------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction under the lock; listeners hear about changes only after COMMIT."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk): a second ROLLBACK
                # would raise "no transaction is active" over the error that matters.
                if self._conn.in_transaction:
                    try:
                        self._conn.execute("ROLLBACK")
                    except sqlite3.Error as exc:
                        log.debug("rollback after a failed write: %s", exc)
                self._pending_events.clear()
                raise
            events, self._pending_events = self._pending_events, []
        for event in events:
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:  # a listener's bug must not undo or block an order
                    log.exception("outbox listener failed on %s", event)

    def _move(self, order: Order | OrderRef | DueOrder, new: str, now: float, detail: str = "", **columns: Any) -> None:
        """Move order to state new (checked against the transition table), recording the event."""
        self._move_many([order], new, now, detail, **columns)

    def _move_many(self, orders: Sequence[Order | OrderRef | DueOrder], new: str, now: float, detail: str,
                   **columns: Any) -> None:
        """Move orders to state new, setting the same columns on each, with set-based statements.

        One UPDATE and one INSERT … SELECT per 500 orders, rather than a statement per order: when a
        backlog is flushed this runs for every order twice (queued, sent) and was half its SQL cost.
        """
        for order in orders:
            if not can_move(order.state, new):
                raise OrderError(f"order {order.id} cannot move from {order.state} to {new}")
        sets = "".join(f", {name} = ?" for name in columns)
        ids = [order.id for order in orders]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            self._conn.execute(f"UPDATE orders SET state = ?, updated_at = ?, detail = ?{sets} WHERE id IN ({marks})",
                               (new, now, detail, *columns.values(), *chunk))
            self._conn.execute("INSERT INTO order_events (order_id, at, state, detail) "
                               f"SELECT id, ?, ?, ? FROM orders WHERE id IN ({marks}) ORDER BY id",
                               (now, new, detail, *chunk))
        self._pending_events += [OrderChanged(o.id, o.key, new, o.state, detail, now) for o in orders]

    # -- reading ---------------------------------------------------------------------------------------

    def _select(self, where: str = "1", params: Sequence[Any] = (), order_by: str = "id",
                limit: int | None = None) -> list[Order]:
        tail = f" ORDER BY {order_by}" + (f" LIMIT {int(limit)}" if limit is not None else "")
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM orders WHERE {where}{tail}", params).fetchall()
            if not rows:
                return []
            lines: dict[int, list[OrderLine]] = {}
            ids = [r["id"] for r in rows]
            for start in range(0, len(ids), 900):
                chunk = ids[start:start + 900]
                for ln in self._conn.execute(
                    f"SELECT order_id, sku, name, quantity, unit_price_cents FROM order_lines "
                    f"WHERE order_id IN ({', '.join('?' * len(chunk))}) ORDER BY order_id, line_no", chunk,
                ):
                    lines.setdefault(ln[0], []).append(OrderLine(ln[1], ln[2], ln[3], ln[4]))
        return [
            Order(id=r["id"], state=r["state"], key=r["key"], lines=tuple(lines.get(r["id"], ())),
                  total_cents=r["total_cents"], currency=r["currency"], created_at=r["created_at"],
                  confirmed_at=r["confirmed_at"], sent_at=r["sent_at"], attempts=r["attempts"],
                  acked_at=r["acked_at"], cloud_ref=r["cloud_ref"], cloud_total_cents=r["cloud_total_cents"],
                  cancel_requested_at=r["cancel_requested_at"], updated_at=r["updated_at"], detail=r["detail"],
                  cloud_code=r["cloud_code"])
            for r in rows
        ]

    def _refs(self, keys: Sequence[str]) -> dict[str, OrderRef]:
        """id, key, state and cancel flag for these keys: what applying an ack or status needs."""
        found: dict[str, OrderRef] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self._conn.execute(f"SELECT id, key, state, cancel_requested_at FROM orders WHERE key IN ({marks})",
                                          chunk):
                found[row["key"]] = OrderRef(row["id"], row["key"], row["state"], row["cancel_requested_at"])
        return found

    def get(self, order_id: int) -> Order:
        found = self._select("id = ?", (order_id,))
        if not found:
            raise OrderError(f"no order with id {order_id}")
        return found[0]

    def by_key(self, key: str) -> Order | None:
        return next(iter(self._select("key = ?", (key,))), None)

    def list(self, states: Iterable[str] | None = None, limit: int | None = None) -> list[Order]:
        """Orders, newest first, optionally only in the given states."""
        if states is None:
            return self._select(order_by="id DESC", limit=limit)
        wanted = list(states)
        unknown = set(wanted) - set(STATES)
        if unknown:
            raise OrderError(f"unknown order state(s): {', '.join(sorted(unknown))}")
        marks = ", ".join("?" for _ in wanted) or "NULL"
        return self._select(f"state IN ({marks})", wanted, order_by="id DESC", limit=limit)

    def counts(self) -> dict[str, int]:
        """Number of orders per state (every state listed, zeros included)."""
        with self._lock:
            rows = dict(self._conn.execute("SELECT state, COUNT(*) FROM orders GROUP BY state").fetchall())
        return {state: rows.get(state, 0) for state in STATES}

    def spent_since(self, since: float) -> int:
        """Cents of orders confirmed at or after `since` that are not cancelled: the spending a rolling
        limit adds up. An order the cloud charged more for counts at the charged amount."""
        with self._lock:
            return int(self._conn.execute(
                "SELECT COALESCE(SUM(MAX(total_cents, COALESCE(cloud_total_cents, 0))), 0) FROM orders "
                "WHERE confirmed_at >= ? AND state NOT IN (?, ?)", (since, DRAFT, CANCELLED)).fetchone()[0])

    def unsettled(self) -> int:
        """Orders not yet acked by the cloud, plus cancellations the cloud has not answered."""
        with self._lock:
            return self._conn.execute(
                f"SELECT COUNT(*) FROM orders WHERE state IN ({', '.join('?' for _ in UNSETTLED)}) "
                "OR (cancel_requested_at IS NOT NULL AND state = ?)", (*UNSETTLED, ACKED),
            ).fetchone()[0]

    # -- the dialogue's side ---------------------------------------------------------------------------

    def _insert(self, lines: tuple[OrderLine, ...], currency: str, now: float, total: int | None = None) -> int:
        total = sum(line.quantity * line.unit_price_cents for line in lines) if total is None else total
        cur = self._conn.execute(
            "INSERT INTO orders (state, currency, total_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (DRAFT, currency, total, now, now))
        order_id = int(cur.lastrowid or 0)
        self._conn.executemany(
            "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_cents) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(order_id, n, ln.sku, ln.name, ln.quantity, ln.unit_price_cents) for n, ln in enumerate(lines)])
        self._conn.execute("INSERT INTO order_events (order_id, at, state, detail) VALUES (?, ?, ?, '')",
                           (order_id, now, DRAFT))
        return order_id

    def save_draft(self, lines: Sequence[LineInput], *, currency: str = "USD") -> Order:
        """Keep a cart as a draft order (never sent; may be confirmed or discarded later)."""
        checked = check_lines(lines)
        check_currency(currency)
        with self._write():
            order_id = self._insert(checked, currency, self._clock())
        return self.get(order_id)

    def confirm(self, lines: Sequence[LineInput] | None = None, *, currency: str = "USD",
                draft_id: int | None = None, total_cents: int | None = None) -> Order:
        """Record the user's confirmed order (new lines, or an existing draft) with a fresh idempotency key.

        total_cents is the total the user agreed to when it is not the lines' sum: after the cloud
        refused an order because its prices went up, the user confirms the cloud's new total, and
        the cloud charges at most the total in the order. Returns the order in state `confirmed`;
        the sync client queues and sends it. Raises OrderError (and stores nothing) for bad lines,
        a bad total or a draft that is not a draft.
        """
        if (lines is None) == (draft_id is None):
            raise OrderError("confirm() takes either lines or draft_id")
        if total_cents is not None and (lines is None or isinstance(total_cents, bool)
                                        or not isinstance(total_cents, int) or not 0 <= total_cents <= MAX_CENTS):
            raise OrderError(f"total_cents must be whole cents from 0 to {MAX_CENTS} with new lines, got {total_cents!r}")
        checked = check_lines(lines) if lines is not None else ()
        check_currency(currency)
        with self._write():
            now = self._clock()
            if draft_id is None:
                draft_id = self._insert(checked, currency, now, total_cents)
            order = self.get(draft_id)
            if order.state != DRAFT:
                raise OrderError(f"order {draft_id} is {order.state}, not a draft")
            seq = self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM orders").fetchone()[0]
            order = replace(order, key=new_idempotency_key(), confirmed_at=now)
            # The transactional outbox: the exact bytes to publish are stored with the confirmation.
            self._move(order, CONFIRMED, now, "confirmed by user", key=order.key, seq=seq, confirmed_at=now,
                       payload=encode(order.to_message()))
        return self.get(draft_id)

    def cancel(self, order_id: int) -> Order:
        """Cancel an order within the cancel window.

        Drafts and orders that never left the device are cancelled at once. Orders already sent keep
        their state with `cancel_pending` set until the cloud answers with a status (cancelled, or
        shipped if it was too late). Raises OrderError when shipped, delivered or past the window.
        """
        with self._write():
            now = self._clock()
            order = self.get(order_id)
            if order.state == CANCELLED:
                return order
            if order.state in (SHIPPED, DELIVERED):
                raise OrderError(f"order {order_id} has already {order.state}; it can no longer be cancelled")
            if order.confirmed_at is not None and now - order.confirmed_at > self.cancel_window_seconds:
                minutes = self.cancel_window_seconds / 60
                raise OrderError(f"order {order_id} was confirmed more than {minutes:g} minutes ago; "
                                 "it can no longer be cancelled")
            if order.state in (DRAFT, CONFIRMED, QUEUED):
                self._move(order, CANCELLED, now, "cancelled by user before sending")
            elif order.cancel_requested_at is None:
                self._conn.execute("UPDATE orders SET cancel_requested_at = ?, cancel_resend_at = ?, "
                                   "updated_at = ?, detail = ? WHERE id = ?",
                                   (now, now, now, "cancel requested", order_id))
        return self.get(order_id)

    # -- the sync client's side ------------------------------------------------------------------------

    def queue_confirmed(self) -> int:
        """Take every confirmed order into the send queue (confirmed → queued); return how many."""
        with self._write():
            now = self._clock()
            refs = [OrderRef(r["id"], r["key"], CONFIRMED, None) for r in self._conn.execute(
                "SELECT id, key FROM orders WHERE state = ? ORDER BY seq", (CONFIRMED,))]
            self._move_many(refs, QUEUED, now, "queued for sending")
        return len(refs)

    def restart_sends(self) -> int:
        """Make every `sent` order due again: a new process knows nothing of the old MQTT session."""
        with self._write() as conn:
            now = self._clock()
            return conn.execute("UPDATE orders SET resend_at = ? WHERE state = ?", (now, SENT)).rowcount

    def take_due(self, limit: int, *, ack_timeout: float, max_backoff: float = 600.0) -> list[DueOrder]:
        """Mark up to limit due orders `sent` and return them, for the caller to publish now.

        Due means queued, or sent with the ack overdue; oldest confirmation first. Marking and choosing
        happen in one transaction, so an order the user cancels meanwhile is either taken or not, never
        half. The resend delay doubles with each attempt (ack_timeout, 2×, 4×, ... up to max_backoff):
        a cloud that is down for hours is not flooded, yet an order is never given up on.
        """
        with self._write():
            now = self._clock()
            # Two index range scans (queued by seq; overdue sent by resend_at), merged by seq.
            due = [DueOrder(*row) for row in self._conn.execute(
                "SELECT id, key, state, attempts, payload FROM orders WHERE id IN ("
                "SELECT id FROM (SELECT id FROM orders WHERE state = ? ORDER BY seq LIMIT ?) UNION ALL "
                "SELECT id FROM (SELECT id FROM orders WHERE state = ? AND resend_at <= ? ORDER BY seq LIMIT ?))"
                " ORDER BY seq LIMIT ?", (QUEUED, limit, SENT, now, limit, limit))]
            # A queued order has never been sent (attempts 0), so every first send sets the same values.
            first = [order for order in due if order.state == QUEUED]
            self._move_many(first, SENT, now, "published", sent_at=now, attempts=1,
                            resend_at=now + min(ack_timeout, max_backoff))
            self._conn.executemany(
                "UPDATE orders SET sent_at = ?, attempts = ?, resend_at = ? WHERE id = ?",
                [(now, o.attempts + 1, now + min(ack_timeout * 2 ** min(o.attempts, 16), max_backoff), o.id)
                 for o in due if o.state == SENT])
        return due

    def take_due_cancels(self, limit: int, *, timeout: float) -> list[Order]:
        """Acked orders whose cancellation request is due to be (re)sent; marks them and returns them."""
        with self._write() as conn:
            now = self._clock()
            due = self._select("state = ? AND cancel_requested_at IS NOT NULL AND cancel_resend_at <= ?",
                               (ACKED, now), order_by="seq", limit=limit)
            conn.executemany("UPDATE orders SET cancel_resend_at = ? WHERE id = ?",
                             [(now + timeout, order.id) for order in due])
        return due

    def apply_acks(self, acks: Iterable[Ack]) -> int:
        """Apply the cloud's acks in one transaction; return how many orders changed."""
        changed = 0
        with self._write():
            now = self._clock()
            refs = self._refs([ack.key for ack in acks])
            for ack in acks:
                order = refs.get(ack.key)
                if order is None or order.state != SENT:
                    log.info("ignoring ack for %s (order is %s)", ack.key, order.state if order else "unknown")
                    continue
                if ack.accepted:
                    detail = "accepted" + (f": {ack.reason}" if ack.reason else "")
                    self._move(order, ACKED, now, detail, acked_at=now, cloud_ref=ack.order_ref,
                               cloud_total_cents=ack.total_cents)
                else:
                    # A refusal may carry what the cloud would charge (price_increased): kept, so the
                    # dialogue can tell the user the new total and ask again.
                    self._move(order, CANCELLED, now, f"rejected by the cloud: {ack.reason}", acked_at=now,
                               cloud_code=ack.code or "other", cloud_total_cents=ack.total_cents or None)
                refs[ack.key] = order._replace(state=ACKED if ack.accepted else CANCELLED)
                changed += 1
        return changed

    def apply_statuses(self, updates: Iterable[StatusUpdate]) -> int:
        """Apply the cloud's status updates in one transaction; return how many orders changed."""
        changed = 0
        with self._write():
            now = self._clock()
            refs = self._refs([update.key for update in updates])
            for update in updates:
                order = refs.get(update.key)
                if order is None:
                    log.info("ignoring status %s for unknown order %s", update.status, update.key)
                    continue
                if order.cancel_requested_at is not None and update.status in (SHIPPED, DELIVERED):
                    self._conn.execute("UPDATE orders SET cancel_requested_at = NULL WHERE id = ?", (order.id,))
                    update = StatusUpdate(update.key, update.status, update.at,
                                          f"cancel refused: {update.detail or 'already ' + update.status}")
                if update.status == order.state or not can_move(order.state, update.status) or order.state == SENT:
                    # `sent` leaves only on an ack; a status that overtook its ack is re-sent with the next ack.
                    log.info("ignoring status %s for order %s (it is %s)", update.status, order.id, order.state)
                    continue
                self._move(order, update.status, now, update.detail or f"{update.status} (cloud)")
                refs[update.key] = order._replace(state=update.status, cancel_requested_at=None)
                changed += 1
        return changed
