"""What the cloud does with a batch of device messages: validate, price, store, and say what to publish.

No MQTT here: `handle` takes (topic, payload) pairs and returns the messages to publish, so the whole
policy (including every way a payload can be bad) is tested and fuzzed without a broker. Anything
that fails validation is logged and dropped and nothing is stored for it; a duplicate order is
answered with the ack its first copy got (plus its current status if it has moved on since).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from cloud.serve.pricing import OrderLimits, PriceBook, price_order
from cloud.serve.store import StatusRow, Store
from voiceshop_common.wire import (
    Ack,
    CancelRequest,
    OrderMessage,
    Presence,
    StatusUpdate,
    WireError,
    decode,
    device_topic,
    encode,
    parse_device_topic,
)

log = logging.getLogger("cloud.serve.ingest")


@dataclass(frozen=True)
class Outgoing:
    topic: str
    payload: bytes


@dataclass
class IngestStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    cancels: int = 0
    dropped: int = 0
    statuses: int = 0
    conflicts: int = 0
    """Orders under an already used key with different contents (refused, the first order stands)."""


@dataclass
class Ingest:
    """The ingest policy over one store and one price book."""

    store: Store
    prices: PriceBook
    worker: str = ""
    replay_seconds: float = 86400.0
    """How far back statuses are replayed to a device that comes online (seconds)."""
    limits: OrderLimits = field(default_factory=OrderLimits)
    """What is refused as implausible (total, confirmation time), whatever the prices."""
    stats: IngestStats = field(default_factory=IngestStats)

    def handle(self, batch: list[tuple[str, bytes]]) -> list[Outgoing]:
        """Process messages received on device topics; return acks and status updates to publish."""
        orders: list[tuple[str, OrderMessage]] = []
        cancels: list[tuple[str, CancelRequest]] = []
        presences: list[Presence] = []
        for topic, payload in batch:
            self.stats.received += 1
            try:
                device_id, leaf = parse_device_topic(topic)
                if leaf not in ("orders", "presence"):
                    raise WireError(f"the cloud does not take messages on …/{leaf}")
                message = decode(payload, leaf)
                # The topic is the device's identity (the broker's ACL ties it to the login).
                if isinstance(message, Presence) and message.device_id != device_id:
                    raise WireError(f"presence for {message.device_id!r} on {device_id}'s topic")
            except WireError as exc:
                self.stats.dropped += 1
                log.warning("dropped message on %s: %s", topic[:200], exc)
                continue
            if isinstance(message, OrderMessage):
                orders.append((device_id, message))
            elif isinstance(message, CancelRequest):
                cancels.append((device_id, message))
            elif isinstance(message, Presence):
                presences.append(message)
        out: list[Outgoing] = []
        if orders:
            out += self._orders(orders)
        for device_id, cancel in cancels:
            row = self.store.cancel(cancel.key, device_id)
            self.stats.cancels += 1
            if row is None:
                log.info("cancel for unknown order %s from %s (the device retries)", cancel.key, device_id)
            else:
                out.append(status_message(row))
        for presence in presences:
            self.store.set_presence(presence.device_id, presence.online, presence.at)
            if presence.online:
                since = time.time() - self.replay_seconds
                out += [status_message(row) for row in self.store.recent_statuses(presence.device_id, since)]
        self.stats.statuses += sum(1 for o in out if o.topic.endswith("/status"))
        return out

    def _orders(self, orders: list[tuple[str, OrderMessage]]) -> list[Outgoing]:
        products = self.prices.lookup([line.sku for _device, order in orders for line in order.lines])
        now = time.time()
        priced = [price_order(order, device_id, products, self.limits, now) for device_id, order in orders]
        out: list[Outgoing] = []
        for order, stored in zip(priced, self.store.ingest(priced, worker=self.worker), strict=True):
            if stored.device_id != order.device_id:
                # Same key from another device: never confirm someone else's order to this one.
                self.stats.dropped += 1
                log.warning("key %s from %s belongs to %s; dropped", order.key, order.device_id, stored.device_id)
                continue
            if stored.conflict:
                self.stats.conflicts += 1
                log.warning("key %s from %s was reused for different contents; refused, order %s stands",
                            order.key, order.device_id, stored.order_ref)
                ack = Ack(key=stored.key, accepted=False, total_cents=0, currency=order.currency, order_ref="",
                          reason="this key was already used for a different order; that order stands",
                          code="key_conflict")
                out.append(Outgoing(device_topic(stored.device_id, "acks"), encode(ack)))
                continue
            if stored.created:
                self.stats.stored += 1
                self.stats.rejected += stored.status == "rejected"
            else:
                self.stats.duplicates += 1
            accepted = stored.status != "rejected"
            ack = Ack(key=stored.key, accepted=accepted, total_cents=stored.total_cents, currency=stored.currency,
                      order_ref=stored.order_ref if accepted else "", reason=stored.reason,
                      code="" if accepted else (stored.code or "other"))
            out.append(Outgoing(device_topic(stored.device_id, "acks"), encode(ack)))
            if not stored.created and stored.status in ("shipped", "delivered", "cancelled"):
                # The device may have missed the status while it waited for this ack.
                out.append(status_message(StatusRow(stored.device_id, stored.key, stored.status, time.time())))
        return out


def status_message(row: StatusRow) -> Outgoing:
    update = StatusUpdate(key=row.key, status=row.status, at=row.at, detail=row.detail)
    return Outgoing(device_topic(row.device_id, "status"), encode(update))
