"""The parts the dialogue talks to, as Protocols: the catalog, the order outbox, an embedder.

The dialogue depends on these shapes, not on the modules behind them, so the engine can be read
(and its turns tested by feeding Understanding events) without knowing how search ranks or how
orders reach the cloud. The real implementations are `edge.catalog.Catalog`, `edge.orders.Outbox` and
`edge.nlu.Embedder`; `edge/commands/chat.py` wires them in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np


class CatalogPort(Protocol):
    """What the dialogue needs from the device catalog (edge.catalog.Catalog)."""

    conn: sqlite3.Connection
    """The open catalog database (read here only to look a product up by SKU, for reorders)."""

    def search(self, query: str, max_price: float | None = None, brand: str | None = None,
               limit: int = 5) -> Sequence[Any]:
        """Hybrid search; each hit carries `.product`, `.score` and why it matched; max_price in dollars."""
        ...

    def recommend(self, user: str, context_products: Sequence[int] = (), k: int = 5,
                  focus: int | None = None) -> Sequence[Any]:
        """Top-k in-stock suggestions (`.product`, `.reason`) that go with context_products (or with
        focus, the product just added): none of them and none of their product families."""
        ...

    def often_bought_with(self, product_id: int, k: int = 3) -> Sequence[Any]:
        """Products bought together with product_id (`.product`, `.reason`)."""
        ...

    def alternatives(self, product_id: int, k: int = 3, *, cheaper: bool = False) -> Sequence[Any]:
        """Other products of product_id's family ("something like this"), cheaper ones if asked."""
        ...

    def faq(self) -> Sequence[Any]:
        """Every FAQ entry (`.question`, `.answer`, `.tags`)."""
        ...

    def brands(self) -> list[str]:
        """Every brand in the catalog."""
        ...


class OutboxPort(Protocol):
    """What the dialogue needs from the order outbox (edge.orders.Outbox)."""

    def confirm(self, lines: Sequence[Any] | None = None, *, currency: str = "USD",
                draft_id: int | None = None) -> Any:
        """Store a confirmed order with a fresh idempotency key, ready to sync; returns the Order."""
        ...

    def cancel(self, order_id: int) -> Any:
        """Cancel an order inside the cancel window (OrderError outside it, or once shipped)."""
        ...

    def get(self, order_id: int) -> Any:
        """One order with its synced state (OrderError when unknown)."""
        ...

    def list(self, states: Any = None, limit: int | None = None) -> list[Any]:
        """Orders, newest first, with their synced state."""
        ...

    def spent_since(self, since: float) -> int:
        """Cents of orders confirmed at or after `since` and not cancelled (charged amount if higher)."""
        ...


Encoder = Callable[[str], np.ndarray]
"""One text -> its unit sentence vector (edge.nlu.Embedder.encode_one, the MiniLM encoder)."""
