"""Re-pricing a device's order from the cloud's own catalog: the device's totals are never trusted.

A device quotes prices from its local catalog copy, which can be a delta behind (or tampered with);
the cloud charges what its master catalog says at the moment the order arrives. An order naming a
product the catalog does not have, that is out of stock, or in another currency is rejected whole:
half an order is worse than a clear "no" the user can act on.
"""

from __future__ import annotations

import sqlite3
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
class PricedOrder:
    """An order as the cloud will store it: its own prices, its verdict, and why."""

    key: str
    device_id: str
    currency: str
    confirmed_at: float
    lines: tuple[PricedLine, ...]
    total_cents: int
    device_total_cents: int
    accepted: bool
    reason: str


def price_order(order: OrderMessage, device_id: str, products: dict[str, Product]) -> PricedOrder:
    """Price device_id's order against products (already looked up); reject it whole if a line cannot be sold."""
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
    if total > MAX_CENTS:
        problems.append("order total is implausibly large")
    device_total = sum(ln.quantity * ln.unit_price_cents for ln in order.lines)
    if problems:
        return PricedOrder(order.key, device_id, order.currency, order.confirmed_at, tuple(lines), 0,
                           order.total_cents, False, "; ".join(problems)[:500])
    reason = ""
    if total != order.total_cents or total != device_total:
        reason = f"repriced: device quoted {order.total_cents} cents, charged {total} cents"
    return PricedOrder(order.key, device_id, order.currency, order.confirmed_at, tuple(lines), total,
                       order.total_cents, True, reason)
