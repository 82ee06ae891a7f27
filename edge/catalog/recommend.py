"""Recommendations from cached factors and complements: "you may also like" that goes with the cart.

The cloud ships float16 ALS item and user factors (a person's taste), the family of every product
name ("organic bananas" are bananas) and family complements learned from co-purchase baskets
("bananas" -> cereal, milk, peanut butter), with the weights to blend them. A list is then:

    score = ALS(user, item) + complement_weight * max P(item's family | cart family)
            + popularity_weight * popularity

over the sellable items (one matrix-vector product and two gathers, no Python loop over items),
never an item of a cart family or one bought recently, then a diverse pick from the best few
items of the best families (``candidates``): one item per family, brands and aisles mixed
(``diverse``). The sellable rows are kept grouped by family, so a cart family's complement boost
or ban is a slice of the score vector, not a gather over every item. A user the cloud has not
seen scores by the cosine to the cart's item vectors instead of ALS; with nothing to go on, the
most popular items. ``alternatives`` is the other question ("something like this", "cheaper
ones"): the same family, other SKUs. The blend mirrors cloud.recs.evaluate, where its figures
are measured; a test keeps the two in step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.catalog.search import _SELECT, PRODUCT_FIELDS, Product
from voiceshop_common.recs import COMPLEMENT_WEIGHT, POPULARITY_WEIGHT, candidates, diverse

DEFAULT_WEIGHTS = {"complement_weight": COMPLEMENT_WEIGHT, "popularity_weight": POPULARITY_WEIGHT}
"""Used when the catalog's recs carry no weights of their own (the cloud's defaults)."""
_FAMILY = "COALESCE(fm.family, lower(p.name))"
_FAMILY_JOIN = "LEFT JOIN families fm ON fm.name = p.name"


@dataclass(frozen=True)
class Recommendation:
    product: Product
    score: float
    reason: str
    """"for you", "goes with your cart", "often bought with <name>", "popular", "like <name>"."""

    def to_dict(self) -> dict[str, Any]:
        return {**self.product.__dict__, "score": round(self.score, 4), "reason": self.reason}


def _product(row: tuple) -> Product:
    values = list(row[:len(PRODUCT_FIELDS)])
    values[9] = bool(values[9])
    return Product(*values)


class Recommender:
    """Blended top-k over one open catalog; reloads its arrays when the catalog version moves."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._version: str | None = None
        self.ids = np.zeros(0, dtype=np.int64)
        self.factors = np.zeros((0, 1), dtype=np.float32)
        self.unit = self.factors
        self.index: dict[int, int] = {}
        self.sell_index: dict[int, int] = {}
        self.family_code: dict[str, int] = {}
        self.complements: dict[int, list[tuple[int, float]]] = {}
        self.segment: dict[int, tuple[int, int]] = {}
        self.weights = dict(DEFAULT_WEIGHTS)

    def refresh(self) -> None:
        row = self.conn.execute("SELECT value FROM catalog_meta WHERE key='version'").fetchone()
        version = row[0] if row else "0"
        if version == self._version:
            return
        rows = self.conn.execute(
            f"SELECT f.product_id, f.vec, p.in_stock, p.popularity, p.brand, p.category, {_FAMILY} "
            f"FROM item_factors f JOIN products p ON p.id = f.product_id {_FAMILY_JOIN} "
            f"ORDER BY f.product_id").fetchall()
        n = len(rows)
        self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        self.factors = (np.frombuffer(b"".join(r[1] for r in rows), dtype="<f2").reshape(n, -1).astype(np.float32)
                        if rows else np.zeros((0, 1), np.float32))
        self.unit = self.factors / np.maximum(np.linalg.norm(self.factors, axis=1, keepdims=True), 1e-6)
        # Scoring runs over the sellable rows only, grouped by family (contiguous copies): no
        # per-query mask pass, and one family is one slice.
        self.family_code = {}
        family = np.array([self._family(r[6]) for r in rows], dtype=np.int32)
        sell = np.flatnonzero(np.fromiter((r[2] == 1 for r in rows), dtype=bool, count=n))
        sell = sell[np.argsort(family[sell], kind="stable")]
        self.sell_ids = self.ids[sell]
        self.sell_factors = np.ascontiguousarray(self.factors[sell])
        self.sell_unit = np.ascontiguousarray(self.unit[sell])
        self.sell_popularity = np.array([rows[i][3] or 0.0 for i in sell], dtype=np.float32)
        self.sell_brand = self._codes([rows[i][4] or "" for i in sell])
        self.sell_category = self._codes([rows[i][5] or "" for i in sell])
        self.sell_family = family[sell]
        first = np.flatnonzero(np.r_[True, self.sell_family[1:] != self.sell_family[:-1]]) if len(sell) else sell
        self.starts = first.astype(np.int64)
        self.ends = np.r_[first[1:], len(sell)].astype(np.int64) if len(sell) else self.starts
        self.segment = {int(self.sell_family[a]): (int(a), int(b)) for a, b in zip(self.starts, self.ends, strict=True)}
        self.complements = self._load_complements()
        self.index = {int(pid): i for i, pid in enumerate(self.ids)}
        self.sell_index = {int(pid): i for i, pid in enumerate(self.sell_ids)}
        for name in self.weights:
            value = self.conn.execute("SELECT value FROM catalog_meta WHERE key = ?", (f"recs_{name}",)).fetchone()
            self.weights[name] = float(value[0]) if value else DEFAULT_WEIGHTS[name]
        self._version = version

    @staticmethod
    def _codes(values: list[str]) -> np.ndarray:
        return np.unique(values, return_inverse=True)[1].astype(np.int32) if values else np.zeros(0, np.int32)

    def _family(self, key: str) -> int:
        return self.family_code.setdefault(key, len(self.family_code))

    def _load_complements(self) -> dict[int, list[tuple[int, float]]]:
        grouped: dict[int, list[tuple[int, float]]] = {}
        for family, other, score in self.conn.execute("SELECT family, other, score FROM complements"):
            grouped.setdefault(self._family(family), []).append((self._family(other), float(score)))
        return grouped

    def families(self, product_ids: Sequence[int]) -> dict[int, str]:
        """Product id -> family key ("bananas"), for products with or without factors."""
        ids = [int(p) for p in product_ids]
        if not ids:
            return {}
        return dict(self.conn.execute(f"SELECT p.id, {_FAMILY} FROM products p {_FAMILY_JOIN} "
                                      f"WHERE p.id IN ({','.join('?' * len(ids))})", ids).fetchall())

    def _user_vector(self, user: str) -> np.ndarray | None:
        row = self.conn.execute("SELECT vec FROM user_factors WHERE user_id = ?", (user,)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype="<f2").astype(np.float32)

    def recent(self, user: str) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT product_id FROM user_recent WHERE user_id = ?", (user,))]

    def _blend(self, base: np.ndarray, cart_families: Sequence[int], exclude: Sequence[int],
               k: int, sources: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """Add the complements of ``sources`` (default: the cart's families) and popularity to
        ``base`` (one score per sellable row), drop the excluded ids and the cart's families, pick
        k diverse ones."""
        scores = base + self.weights["popularity_weight"] * self.sell_popularity
        boost: dict[int, float] = {}
        for family in cart_families if sources is None else sources:
            for other, value in self.complements.get(family, ()):
                boost[other] = max(boost.get(other, 0.0), value)
        weight = self.weights["complement_weight"]
        for family, value in boost.items():
            if family in self.segment:
                start, end = self.segment[family]
                scores[start:end] += weight * value
        for family in cart_families:
            if family in self.segment:
                start, end = self.segment[family]
                scores[start:end] = -np.inf
        drop = [self.sell_index[p] for p in exclude if p in self.sell_index]
        if drop:
            scores[drop] = -np.inf
        order = candidates(scores, self.starts, self.ends, k)
        chosen = diverse(order, self.sell_family, self.sell_brand, self.sell_category, k)
        return [(int(self.sell_ids[i]), float(scores[i])) for i in chosen]

    def _products(self, scored: list[tuple[int, float]], reason: str) -> list[Recommendation]:
        if not scored:
            return []
        ids = [pid for pid, _ in scored]
        rows = {r[0]: r for r in self.conn.execute(
            f"SELECT {_SELECT} FROM products p WHERE p.id IN ({','.join('?' * len(ids))})", ids)}
        return [Recommendation(_product(rows[pid]), score, reason) for pid, score in scored if pid in rows]

    def _cart_families(self, product_ids: Sequence[int]) -> list[int]:
        return sorted({self._family(key) for key in self.families(product_ids).values()})

    def recommend(self, user: str, context_products: Sequence[int] = (), k: int = 5,
                  exclude_recent: bool = True, focus: int | None = None) -> list[Recommendation]:
        """Top-k in-stock products for ``user`` that go with ``context_products`` (the cart): never
        one of them, one of their families or one bought recently; one per family, brands mixed.
        With ``focus`` (the product just added) only its complements count: "you may also like"
        right after bananas is about bananas, while the rest of the cart is still excluded."""
        self.refresh()
        if k <= 0:
            return []
        context = [int(p) for p in context_products] + ([int(focus)] if focus is not None else [])
        exclude = context + (self.recent(user) if exclude_recent else [])
        families = self._cart_families(context)
        sources = self._cart_families([focus]) if focus is not None else families
        vector = self._user_vector(user)
        if len(self.sell_ids) and vector is not None and vector.shape[0] == self.factors.shape[1]:
            return self._products(self._blend(self.sell_factors @ vector, families, exclude, k, sources), "for you")
        rows = [self.index[p] for p in context if p in self.index]
        if len(self.sell_ids) and (rows or any(f in self.complements for f in sources)):
            base = self.sell_unit @ self.unit[rows].mean(axis=0) if rows else np.zeros(len(self.sell_ids), np.float32)
            return self._products(self._blend(base, families, exclude, k, sources), "goes with your cart")
        return self.popular(k, exclude, families)

    def often_bought_with(self, product_id: int, k: int = 3, exclude: Sequence[int] = ()) -> list[Recommendation]:
        """What goes with ``product_id``: its family's complements and nearby factors, never its family."""
        self.refresh()
        families = self._cart_families([product_id])
        index = self.index.get(int(product_id))
        if k <= 0 or not len(self.sell_ids) or (index is None and not any(f in self.complements for f in families)):
            return []
        name = self.conn.execute("SELECT name FROM products WHERE id = ?", (product_id,)).fetchone()
        base = self.sell_unit @ self.unit[index] if index is not None else np.zeros(len(self.sell_ids), np.float32)
        scored = self._blend(base, families, [int(product_id), *exclude], k)
        return self._products(scored, f"often bought with {name[0] if name else product_id}")

    def popular(self, k: int, exclude: Sequence[int] = (), families: Sequence[int] = ()) -> list[Recommendation]:
        """Most popular in-stock products, one per family and none of ``families``: the answer
        when nothing is known about anyone."""
        skip = set(exclude)
        banned = set(families)
        out: list[Recommendation] = []
        seen: set[int] = set()
        # Bestsellers bunch up (many SKUs of a few products), so read on in pages until k families.
        cursor = self.conn.execute(f"SELECT {_SELECT}, {_FAMILY} FROM products p {_FAMILY_JOIN} "
                                   f"WHERE p.in_stock = 1 ORDER BY p.popularity DESC")
        for _page in range(50):
            rows = cursor.fetchmany(200)
            for r in rows:
                family = self._family(r[-1])
                if r[0] in skip or family in banned or family in seen:
                    continue
                seen.add(family)
                out.append(Recommendation(_product(r), float(r[10]), "popular"))
                if len(out) == k:
                    return out
            if not rows:
                break
        return out

    def alternatives(self, product_id: int, k: int = 3, *, cheaper: bool = False) -> list[Recommendation]:
        """Other SKUs of ``product_id``'s family ("something like this"); ``cheaper`` keeps those
        below its price, cheapest first. Other brands come before more of the same brand."""
        row = self.conn.execute(f"SELECT p.name, p.price_cents, p.brand, {_FAMILY} FROM products p {_FAMILY_JOIN} "
                                f"WHERE p.id = ?", (int(product_id),)).fetchone()
        if row is None or k <= 0:
            return []
        name, price, brand, family = row
        names = [r[0] for r in self.conn.execute("SELECT name FROM families WHERE family = ?", (family,))] or [name]
        marks = ",".join("?" * len(names))
        order = "p.price_cents ASC, p.popularity DESC" if cheaper else "p.popularity DESC"
        candidates = self.conn.execute(
            f"SELECT {_SELECT} FROM products p WHERE p.name IN ({marks}) AND p.in_stock = 1 AND p.id != ? "
            f"{'AND p.price_cents < ?' if cheaper else ''} ORDER BY {order} LIMIT 400",
            [*names, int(product_id), *([price] if cheaper else [])]).fetchall()
        picked, brands = [], {brand}
        for candidate in candidates:  # one per brand first (brand sits at column 3)
            if candidate[3] not in brands and len(picked) < k:
                picked.append(candidate)
                brands.add(candidate[3])
        picked += [c for c in candidates if c not in picked][:k - len(picked)]
        if cheaper:
            picked.sort(key=lambda r: r[7])
        reason = f"cheaper than {name}" if cheaper else f"like {name}"
        return [Recommendation(_product(r), float(r[10]), reason) for r in picked]
