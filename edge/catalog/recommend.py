"""Recommendations from cached ALS factors: top-k for a user and "often bought with X".

The cloud trains implicit-feedback ALS and ships float16 item and user factors; here they are
held as one float32 matrix, so a user's top-k is one matrix-vector product plus an
argpartition, with out-of-stock items, the cart and recent purchases masked out by index — no
Python loop over items. Item-item similarity is the cosine of item factors. A user the cloud has
not seen gets recommendations from the mean of the cart's item vectors, and with an empty cart
the most popular in-stock items.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.catalog.search import _SELECT, PRODUCT_FIELDS, Product


@dataclass(frozen=True)
class Recommendation:
    product: Product
    score: float
    reason: str
    """"for you" (user factors), "goes with your cart" (cold start), "often bought with <name>", "popular"."""

    def to_dict(self) -> dict[str, Any]:
        return {**self.product.__dict__, "score": round(self.score, 4), "reason": self.reason}


def _product(row: tuple) -> Product:
    values = list(row[:len(PRODUCT_FIELDS)])
    values[9] = bool(values[9])
    return Product(*values)


class Recommender:
    """Top-k over the item factors of one open catalog; reloads when the catalog version moves."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._version: str | None = None
        self.ids = np.zeros(0, dtype=np.int64)
        self.factors = np.zeros((0, 1), dtype=np.float32)
        self.unit = self.factors
        self.sellable = np.zeros(0, dtype=bool)
        self.rows = np.zeros(0, dtype=np.int64)
        self.sell_ids, self.sell_factors, self.sell_unit = self.ids, self.factors, self.unit
        self.index: dict[int, int] = {}
        self.sell_index: dict[int, int] = {}

    def refresh(self) -> None:
        row = self.conn.execute("SELECT value FROM catalog_meta WHERE key='version'").fetchone()
        version = row[0] if row else "0"
        if version == self._version:
            return
        rows = self.conn.execute("SELECT f.product_id, f.vec, p.in_stock FROM item_factors f "
                                 "JOIN products p ON p.id = f.product_id ORDER BY f.product_id").fetchall()
        if rows:
            self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            raw = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f2")
            self.factors = raw.reshape(len(rows), -1).astype(np.float32)
            self.sellable = np.fromiter((r[2] == 1 for r in rows), dtype=bool, count=len(rows))
        else:
            self.ids, self.factors, self.sellable = np.zeros(0, np.int64), np.zeros((0, 1), np.float32), np.zeros(0, bool)
        norms = np.linalg.norm(self.factors, axis=1, keepdims=True)
        self.unit = self.factors / np.maximum(norms, 1e-6)
        # Scoring runs over the sellable rows only (contiguous copies): no per-query mask pass.
        self.rows = np.flatnonzero(self.sellable)
        self.sell_ids = self.ids[self.rows]
        self.sell_factors = np.ascontiguousarray(self.factors[self.rows])
        self.sell_unit = np.ascontiguousarray(self.unit[self.rows])
        self.index = {int(pid): n for n, pid in enumerate(self.ids)}
        self.sell_index = {int(pid): n for n, pid in enumerate(self.sell_ids)}
        self._version = version

    def _user_vector(self, user: str) -> np.ndarray | None:
        row = self.conn.execute("SELECT vec FROM user_factors WHERE user_id = ?", (user,)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype="<f2").astype(np.float32)

    def recent(self, user: str) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT product_id FROM user_recent WHERE user_id = ?", (user,))]

    def _top(self, scores: np.ndarray, exclude: Sequence[int], k: int) -> list[tuple[int, float]]:
        """Best k of ``scores`` (one per sellable row), minus the excluded product ids."""
        drop = [self.sell_index[p] for p in exclude if p in self.sell_index]
        if drop:
            scores[drop] = -np.inf
        k = min(k, len(scores) - len(set(drop)))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best])]
        return [(int(self.sell_ids[i]), float(scores[i])) for i in best]

    def _products(self, scored: list[tuple[int, float]], reason: str) -> list[Recommendation]:
        if not scored:
            return []
        ids = [pid for pid, _ in scored]
        rows = {r[0]: r for r in self.conn.execute(
            f"SELECT {_SELECT} FROM products p WHERE p.id IN ({','.join('?' * len(ids))})", ids)}
        return [Recommendation(_product(rows[pid]), score, reason) for pid, score in scored if pid in rows]

    def recommend(self, user: str, context_products: Sequence[int] = (), k: int = 5,
                  exclude_recent: bool = True) -> list[Recommendation]:
        """Top-k in-stock products for ``user``, never one in ``context_products`` or bought recently."""
        self.refresh()
        if k <= 0:
            return []
        exclude = [int(p) for p in context_products] + (self.recent(user) if exclude_recent else [])
        vector = self._user_vector(user)
        if len(self.ids) and vector is not None and vector.shape[0] == self.factors.shape[1]:
            return self._products(self._top(self.sell_factors @ vector, exclude, k), "for you")
        context = [self.index[p] for p in context_products if p in self.index]
        if context:
            return self._products(self._top(self.sell_unit @ self.unit[context].mean(axis=0), exclude, k),
                                  "goes with your cart")
        return self.popular(k, exclude)

    def often_bought_with(self, product_id: int, k: int = 3, exclude: Sequence[int] = ()) -> list[Recommendation]:
        """Items whose factors point the same way as ``product_id``'s (cosine), in stock."""
        self.refresh()
        index = self.index.get(int(product_id))
        if index is None or k <= 0:
            return []
        name = self.conn.execute("SELECT name FROM products WHERE id = ?", (product_id,)).fetchone()
        scored = self._top(self.sell_unit @ self.unit[index], [int(product_id), *exclude], k)
        return self._products(scored, f"often bought with {name[0] if name else product_id}")

    def popular(self, k: int, exclude: Sequence[int] = ()) -> list[Recommendation]:
        """Most popular in-stock products: the answer when nothing is known about anyone."""
        skip = set(exclude)
        rows = self.conn.execute(f"SELECT {_SELECT} FROM products p WHERE p.in_stock = 1 "
                                 f"ORDER BY p.popularity DESC LIMIT ?", (k + len(skip),)).fetchall()
        return [Recommendation(_product(r), float(r[10]), "popular") for r in rows if r[0] not in skip][:k]
