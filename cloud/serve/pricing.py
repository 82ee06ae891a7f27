"""Re-pricing a device's order from the cloud's own catalog: the device's totals are never trusted.

A device quotes prices from its local catalog copy, which can be a delta behind (or tampered with);
the cloud charges what its master catalog says at the moment the order arrives. An order naming a
product the catalog does not have, that is out of stock, or in another currency is rejected whole:
half an order is worse than a clear "no" the user can act on.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voiceshop_common.wire import MAX_CENTS, OrderMessage


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int
    currency: str
    in_stock: bool


class PriceBook(Protocol):
    """Anything that can look products up by SKU."""

    def lookup(self, skus: list[str]) -> dict[str, Product]: ...


class CatalogPrices:
    """Prices from the master catalog file (`python -m cloud catalog generate` makes one), read-only."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no catalog at {path}: make one with `python -m cloud catalog generate`")
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        try:
            self._conn.execute("SELECT sku, name, price_cents, currency, in_stock FROM products LIMIT 1")
        except sqlite3.Error as exc:
            raise ValueError(f"{path} is not a master catalog (no products table with prices): {exc}") from None

    def lookup(self, skus: list[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        unique = sorted(set(skus))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for sku, name, price, currency, in_stock in self._conn.execute(
                f"SELECT sku, name, price_cents, currency, in_stock FROM products WHERE sku IN ({marks})", chunk,
            ):
                found[sku] = Product(sku, name, int(price), currency, bool(in_stock))
        return found


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    """The cloud's price."""
    device_unit_price_cents: int
    """What the device quoted, kept for audit."""


@dataclass(frozen=True)
class OrderLimits:
    """What the cloud refuses as implausible whatever the prices say (issue 15: a $779,000 order and
    a confirmation time in the year 5107 were accepted). `python -m cloud serve` sets these from
    its command line; the defaults suit a household grocery device."""

    max_total_cents: int = 250_000
    """Largest order total accepted ($2,500)."""
    max_future_seconds: float = 600.0
    """How far ahead of the cloud's clock an order's confirmation time may be (device clock skew)."""
    max_age_seconds: float = 30 * 86400.0
    """How old an order's confirmation may be: a device offline for weeks still gets its orders in."""

    def __post_init__(self) -> None:
        if not (0 < self.max_total_cents <= MAX_CENTS):
            raise ValueError(f"max_total_cents must be between 1 and {MAX_CENTS}, got {self.max_total_cents}")
        if self.max_future_seconds < 0 or self.max_age_seconds <= 0:
            raise ValueError("max_future_seconds must be >= 0 and max_age_seconds > 0")


@dataclass(frozen=True)
class PricedOrder:
    """An order as the cloud will store it: its own prices, its verdict, and why."""

    key: str
    device_id: str
    currency: str
    confirmed_at: float
    lines: tuple[PricedLine, ...]
    total_cents: int
    """What the cloud charges (accepted), or would charge now (refused as price_increased), else 0."""
    device_total_cents: int
    accepted: bool
    reason: str
    code: str = ""
    """The Ack code (edge.wire.ACK_CODES) of a refusal; "" when accepted."""


def _implausible(order: OrderMessage, total: int, limits: OrderLimits, now: float) -> list[str]:
    problems = []
    if max(total, order.total_cents) > limits.max_total_cents:
        problems.append(f"order total {max(total, order.total_cents)} cents is over the limit of "
                        f"{limits.max_total_cents} cents")
    if order.confirmed_at > now + limits.max_future_seconds:
        problems.append(f"confirmation time {order.confirmed_at:.0f} is in the future")
    elif order.confirmed_at < now - limits.max_age_seconds:
        problems.append(f"confirmation time {order.confirmed_at:.0f} is more than "
                        f"{limits.max_age_seconds / 86400:g} days old")
    return problems


def price_order(order: OrderMessage, device_id: str, products: dict[str, Product],
                limits: OrderLimits | None = None, now: float | None = None) -> PricedOrder:
    """Price device_id's order against products (already looked up); reject it whole if a line cannot
    be sold, if it is implausible (limits), or if the cloud's total is above the total the user
    confirmed (`order.total_cents`): the price confirmed is the price charged. A lower total goes through.
    """
    limits = limits or OrderLimits()
    problems: list[str] = []
    lines: list[PricedLine] = []
    for line in order.lines:
        product = products.get(line.sku)
        if product is None:
            problems.append(f"unknown product {line.sku}")
            continue
        if not product.in_stock:
            problems.append(f"{product.name} is out of stock")
        if product.currency != order.currency:
            problems.append(f"{line.sku} is sold in {product.currency}, not {order.currency}")
        lines.append(PricedLine(line.sku, product.name, line.quantity, product.price_cents, line.unit_price_cents))
    total = sum(ln.quantity * ln.unit_price_cents for ln in lines)
    device_total = sum(ln.quantity * ln.unit_price_cents for ln in order.lines)
    implausible = _implausible(order, total, limits, time.time() if now is None else now)

    def refuse(reasons: list[str], code: str, charge: int = 0) -> PricedOrder:
        return PricedOrder(order.key, device_id, order.currency, order.confirmed_at, tuple(lines), charge,
                           order.total_cents, False, "; ".join(reasons)[:500], code)

    if implausible:
        return refuse(implausible + problems, "implausible")
    if problems:
        return refuse(problems, "unavailable")
    if total > order.total_cents:
        return refuse([f"price went up: the customer confirmed {order.total_cents} cents, the total is now "
                       f"{total} cents"], "price_increased", total)
    reason = ""
    if total != order.total_cents or total != device_total:
        reason = f"repriced: device quoted {order.total_cents} cents, charged {total} cents"
    return PricedOrder(order.key, device_id, order.currency, order.confirmed_at, tuple(lines), total,
                       order.total_cents, True, reason)
