"""What an order is on the device: its states, the moves allowed between them, and its record.

The state machine is written down once here so every writer (the dialogue confirming, the sync
client sending, acks and status updates from the cloud) is checked against the same table: a late
or duplicated message from the network can then never move an order backwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from edge.wire import MAX_LINES, OrderLine, OrderMessage, WireError

DRAFT, CONFIRMED, QUEUED, SENT, ACKED = "draft", "confirmed", "queued", "sent", "acked"
SHIPPED, DELIVERED, CANCELLED = "shipped", "delivered", "cancelled"
STATES = (DRAFT, CONFIRMED, QUEUED, SENT, ACKED, SHIPPED, DELIVERED, CANCELLED)

# state -> the states it may move to. `sent` leaves only through an ack (acked, or cancelled when the
# cloud rejects the order); everything after `acked` comes from the cloud's status updates.
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({CONFIRMED, CANCELLED}),
    CONFIRMED: frozenset({QUEUED, CANCELLED}),
    QUEUED: frozenset({SENT, CANCELLED}),
    SENT: frozenset({ACKED, CANCELLED}),
    ACKED: frozenset({SHIPPED, DELIVERED, CANCELLED}),
    SHIPPED: frozenset({DELIVERED}),
    DELIVERED: frozenset(),
    CANCELLED: frozenset(),
}
FINAL = frozenset({DELIVERED, CANCELLED})
# Orders the outbox still owes the cloud something for (what `sync --once` waits on).
UNSETTLED = (CONFIRMED, QUEUED, SENT)


class DueOrder(NamedTuple):
    """An order taken for publishing: the bytes stored at confirmation, and how often they went out."""

    id: int
    key: str | None
    state: str
    """The state before it was taken (queued for a first send, sent for a re-send)."""
    attempts: int
    payload: bytes


class OrderError(ValueError):
    """An order request the outbox refuses (bad lines, unknown id, outside the cancel window, ...)."""


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class Order:
    """One order as the outbox holds it."""

    id: int
    state: str
    key: str | None
    """Idempotency key (UUID), made at confirmation; None while a draft."""
    lines: tuple[OrderLine, ...]
    total_cents: int
    """Total the device quoted to the user (cents)."""
    currency: str
    created_at: float
    confirmed_at: float | None
    sent_at: float | None
    """Last time the order was published (Unix seconds)."""
    attempts: int
    """How many times the order was published."""
    acked_at: float | None
    cloud_ref: str
    cloud_total_cents: int | None
    """Total the cloud charges, from its own prices (cents); None until acked."""
    cancel_requested_at: float | None
    """When the user asked to cancel an order already sent; None if not asked."""
    updated_at: float
    detail: str
    """Why the last change happened (e.g. the cloud's rejection reason)."""
    cloud_code: str = ""
    """The cloud's refusal code (edge.wire.ACK_CODES), "" unless it refused the order."""

    @property
    def cancel_pending(self) -> bool:
        return self.cancel_requested_at is not None and self.state not in FINAL

    def to_message(self) -> OrderMessage:
        """The wire message for this order; only confirmed orders have one."""
        if self.key is None or self.confirmed_at is None:
            raise OrderError(f"order {self.id} is a draft and cannot be sent")
        return OrderMessage(key=self.key, lines=self.lines, total_cents=self.total_cents, currency=self.currency,
                            confirmed_at=self.confirmed_at)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (for `python -m edge orders list --json`)."""
        return {
            "id": self.id, "state": self.state, "key": self.key,
            "lines": [{"sku": ln.sku, "name": ln.name, "quantity": ln.quantity,
                       "unit_price_cents": ln.unit_price_cents} for ln in self.lines],
            "total_cents": self.total_cents, "currency": self.currency, "created_at": self.created_at,
            "confirmed_at": self.confirmed_at, "sent_at": self.sent_at, "attempts": self.attempts,
            "acked_at": self.acked_at, "cloud_ref": self.cloud_ref, "cloud_total_cents": self.cloud_total_cents,
            "cancel_pending": self.cancel_pending, "updated_at": self.updated_at, "detail": self.detail,
            "cloud_code": self.cloud_code,
        }


class OrderRef(NamedTuple):
    """The few columns a state change needs, without loading the order's lines."""

    id: int
    key: str | None
    state: str
    cancel_requested_at: float | None


LineInput = OrderLine | Mapping[str, Any]


def check_lines(lines: Sequence[LineInput]) -> tuple[OrderLine, ...]:
    """Validate cart lines with the wire's own rules, so nothing the cloud would refuse gets stored."""
    if not lines:
        raise OrderError("an order needs at least one line")
    if len(lines) > MAX_LINES:
        raise OrderError(f"an order may have at most {MAX_LINES} lines, got {len(lines)}")
    checked = []
    for number, line in enumerate(lines, 1):
        raw = line.__dict__ if isinstance(line, OrderLine) else line
        try:
            checked.append(OrderLine.from_dict(dict(raw)))
        except (WireError, TypeError, ValueError) as exc:
            raise OrderError(f"line {number}: {exc}") from None
    return tuple(checked)


def check_currency(currency: str) -> None:
    """ISO-style 3-letter upper-case code, as the wire requires."""
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise OrderError(f"currency must be a 3-letter code such as USD, got {currency!r}")
