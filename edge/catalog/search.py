"""Hybrid product search: FTS5 bm25 + sentence-embedding cosine + fuzzy/phonetic names + aliases.

Each signal finds candidates its own way, always with the filters (stock, price, brand) inside
the SQL so a filter never empties a truncated list:
- lexical: FTS5 over name/brand/category/aliases/tags, AND of the content words first, OR when
  AND finds nothing; bm25 weights name > aliases > brand > category > tags;
- alias: a spoken alias ("oj") names a product; its SKUs come through the name index;
- fuzzy/phonetic: ASR-mangled names ("fugi apples") matched against the few hundred distinct
  names (see ``matching``), expanded to SKUs by popularity;
- semantic: cosine between the query vector and one stored vector per distinct product text
  (numpy, one matrix-vector product), expanded the same way. Skipped when no encoder is
  available or the catalog's vectors come from a different model.
Scores are combined with fixed weights plus a small popularity prior, and every hit says which
signals found it.

A Chinese catalog (zh mode) runs through the same signals: FTS5 documents and queries space their
Chinese characters out, so a query word is a phrase (a substring of the name), with every character
ANDed as the last lexical try; "phonetic" is toneless pinyin instead of Metaphone (edge.catalog.chinese).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.catalog.chinese import fts_text, has_cjk
from edge.catalog.matching import Vocabulary, content_words
from edge.catalog.schema import FTS_TOKENIZER

WEIGHTS = {"lexical": 0.45, "alias": 0.35, "fuzzy": 0.3, "phonetic": 0.3, "semantic": 0.3}
"""How much each signal (0-1) adds to a hit's score."""
POPULARITY_WEIGHT = 0.05
BM25_WEIGHTS = (10.0, 3.0, 1.0, 6.0, 1.5)  # products_fts: name, brand, category, aliases, tags
NAME_BM25_WEIGHTS = (10.0, 6.0, 1.0, 1.5)  # names_fts: name, aliases, category, tags
SEMANTIC_MIN = 0.45
"""Cosine below which a semantic neighbour is not a candidate (MiniLM unit vectors)."""
PER_NAME = 20
"""SKUs fetched per embedding before the final ranking."""
MAX_NAMES = 8
"""Distinct product names (best evidence first) expanded to SKUs per query."""

PRODUCT_FIELDS = ("id", "sku", "name", "brand", "category", "unit", "pack_size", "price_cents", "currency",
                  "in_stock", "popularity")
_SELECT = ", ".join(f"p.{f}" for f in PRODUCT_FIELDS)


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    brand: str
    category: str
    unit: str
    pack_size: str
    price_cents: int
    currency: str
    in_stock: bool
    popularity: float


@dataclass
class SearchHit:
    """One result: the product, its combined score, and the signals (0-1) that found it."""

    product: Product
    score: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def why(self) -> list[str]:
        return sorted(self.signals, key=lambda s: -self.signals[s])

    def to_dict(self) -> dict[str, Any]:
        return {**self.product.__dict__, "score": round(self.score, 4), "why": self.why,
                "signals": {k: round(v, 3) for k, v in self.signals.items()}}


def _fts_query(words: list[str], joiner: str) -> str:
    """FTS5 query of the words; a Chinese word is a phrase of its characters (edge.catalog.chinese)."""
    return f" {joiner} ".join('"' + fts_text(w).replace('"', "") + '"' for w in words)


def _chinese_chars(words: list[str]) -> list[str]:
    """Every Chinese character of the words on its own: the last lexical try, when no phrase matched."""
    return [c for w in words for c in w if has_cjk(c)]


class Searcher:
    """Search over one open catalog connection; word tables and vectors reload when the version moves."""

    def __init__(self, conn: sqlite3.Connection, encode: Callable[[str], np.ndarray] | None = None,
                 encoder_model: str = "") -> None:
        self.conn = conn
        self.encode = encode
        self.encoder_model = encoder_model
        self._version: str | None = None
        self.vocab: Vocabulary | None = None
        self.vectors: np.ndarray | None = None
        self.vector_ids: np.ndarray | None = None

    def refresh(self) -> None:
        """Reload in-memory tables if the catalog changed since the last query."""
        row = self.conn.execute("SELECT value FROM catalog_meta WHERE key='version'").fetchone()
        version = row[0] if row else "0"
        if version == self._version and self.vocab is not None:
            return
        self.vocab = Vocabulary(self.conn)
        self._build_names_fts()
        self.vectors = self.vector_ids = None
        model = self.conn.execute("SELECT value FROM catalog_meta WHERE key='embedding_model'").fetchone()
        if self.encode is not None and model and (not self.encoder_model or model[0] == self.encoder_model):
            rows = self.conn.execute("SELECT id, vec FROM embeddings ORDER BY id").fetchall()
            if rows:
                matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f2").reshape(len(rows), -1)
                self.vectors = matrix.astype(np.float32)
                self.vector_ids = np.array([r[0] for r in rows], dtype=np.int64)
        self._version = version

    @property
    def semantic_ready(self) -> bool:
        return self.vectors is not None

    def _filters(self, max_price_cents: int | None, brand: str | None, in_stock_only: bool) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if in_stock_only:
            clauses.append("p.in_stock = 1")
        if max_price_cents is not None:
            clauses.append("p.price_cents <= ?")
            params.append(max_price_cents)
        if brand:
            clauses.append("p.brand = ?")  # already snapped to the catalog spelling; binary uses the index
            params.append(brand)
        return "".join(f" AND {c}" for c in clauses), params

    def _build_names_fts(self) -> None:
        """A per-connection in-memory FTS5 over distinct names: bm25 over hundreds, not millions, of rows."""
        assert self.vocab is not None
        self.conn.execute("DROP TABLE IF EXISTS temp.names_fts")
        self.conn.execute(f"CREATE VIRTUAL TABLE temp.names_fts USING fts5(name, aliases, category, tags, "
                          f"tokenize='{FTS_TOKENIZER}')")
        self.conn.executemany(
            "INSERT INTO temp.names_fts (rowid, name, aliases, category, tags) VALUES (?, ?, ?, ?, ?)",
            [(n, fts_text(name), fts_text(self.vocab.aliases_of(name)), *map(fts_text, self.vocab.name_info[n]))
             for n, name in enumerate(self.vocab.names)])

    def _lexical(self, words: list[str]) -> list[tuple[str, float]]:
        """(name, bm25 rank) for names matching all words, else any word; best first."""
        weights = ", ".join(str(w) for w in NAME_BM25_WEIGHTS)
        sql = (f"SELECT rowid, bm25(names_fts, {weights}) AS rank FROM temp.names_fts WHERE names_fts MATCH ? "
               f"ORDER BY rank LIMIT 20")
        assert self.vocab is not None
        queries = [_fts_query(words, joiner) for joiner in (("AND", "OR") if len(words) > 1 else ("AND",))]
        if len(_chinese_chars(words)) > 1:  # "有机苹果" is no substring of 有机富士苹果: all its characters are
            queries.append(_fts_query(_chinese_chars(words), "AND"))
        for query in queries:
            rows = self.conn.execute(sql, [query]).fetchall()
            if rows:
                return [(self.vocab.names[r[0]], r[1]) for r in rows]
        return []

    def _sku_lexical(self, words: list[str], where: str, params: list[Any], limit: int) -> list[tuple]:
        """Last resort over the per-SKU FTS5 index (all words must match, so the doclists stay short)."""
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        sql = (f"SELECT {_SELECT}, bm25(products_fts, {weights}) AS rank FROM products_fts "
               f"JOIN products p ON p.id = products_fts.rowid WHERE products_fts MATCH ?{where} "
               f"ORDER BY rank LIMIT ?")
        return self.conn.execute(sql, [_fts_query(words, "AND"), *params, limit]).fetchall()

    def _by_names(self, names: list[str], where: str, params: list[Any], per_name: int) -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = {}
        for name in names:
            out[name] = self.conn.execute(
                f"SELECT {_SELECT} FROM products p WHERE p.name = ?{where} ORDER BY p.popularity DESC LIMIT ?",
                [name, *params, per_name]).fetchall()
        return out

    def _semantic(self, query: str, where: str, params: list[Any], top: int = 8) -> list[tuple[float, tuple]]:
        assert self.vectors is not None and self.vector_ids is not None and self.encode is not None
        qv = np.asarray(self.encode(query), dtype=np.float32)
        sims = self.vectors @ qv
        best = np.argpartition(-sims, min(top, len(sims) - 1))[:top] if len(sims) > top else np.arange(len(sims))
        out = []
        for index in best[np.argsort(-sims[best])]:
            if sims[index] < SEMANTIC_MIN:
                break
            rows = self.conn.execute(
                f"SELECT {_SELECT} FROM products p WHERE p.embedding_id = ?{where} "
                f"ORDER BY p.popularity DESC LIMIT ?", [int(self.vector_ids[index]), *params, PER_NAME]).fetchall()
            out += [(float(sims[index]), row) for row in rows]
        return out

    def search(self, query: str, max_price: float | None = None, brand: str | None = None, limit: int = 5,
               in_stock_only: bool = True, semantic: bool = True) -> list[SearchHit]:
        """Best ``limit`` products for a spoken query; ``max_price`` in currency units (dollars)."""
        self.refresh()
        assert self.vocab is not None
        words = content_words(query or "")
        if not words or limit <= 0:
            return []
        if brand:
            brand = self.vocab.brand(brand) or brand
        elif (named := self.vocab.brand_in(query)) is not None:
            # "green valley apples": the brand filters, the rest is the product; if the brand has
            # no such product, search everything (a misheard brand must not hide the product).
            hits = self.search(named[1] or named[0], max_price, named[0], limit, in_stock_only, semantic) \
                if named[1] else []
            if hits:
                return hits
        cents = None if max_price is None else int(round(float(max_price) * 100))
        where, params = self._filters(cents, brand, in_stock_only)
        hits: dict[int, SearchHit] = {}

        def add(row: tuple, signal: str, value: float) -> None:
            hit = hits.get(row[0])
            if hit is None:
                values = list(row[:len(PRODUCT_FIELDS)])
                values[9] = bool(values[9])
                hit = hits[row[0]] = SearchHit(Product(*values))
            hit.signals[signal] = max(hit.signals.get(signal, 0.0), value)

        scored: list[tuple[str, str, float]] = []  # (name, signal, 0-1)
        lexical = self._lexical(words)
        if lexical:
            best = lexical[0][1]  # bm25 is negative: more negative is better
            scored += [(name, "lexical", rank / best if best < 0 else 1.0) for name, rank in lexical]
        scored += [(m.name, "alias", m.score) for m in self.vocab.alias_hits(query)]
        if not lexical or not self.vocab.is_close(" ".join(words), lexical[0][0]):
            # Spelling/sound matching only when the words did not already name a product.
            scored += [(m.name, m.how, m.score) for m in self.vocab.fuzzy_hits(query)]
        best_per_name: dict[str, float] = {}
        for name, signal, value in scored:
            best_per_name[name] = best_per_name.get(name, 0.0) + WEIGHTS[signal] * value
        names = sorted(best_per_name, key=lambda n: -best_per_name[n])[:MAX_NAMES]
        by_name = self._by_names(names, where, params, max(limit * 2, 10))
        for name, signal, value in scored:
            for row in by_name.get(name, []):
                add(row, signal, value)
        if semantic and self.semantic_ready:
            for similarity, row in self._semantic(" ".join(words), where, params):
                add(row, "semantic", similarity)
        if not hits:
            for row in self._sku_lexical(words, where, params, limit * 4):
                add(row, "lexical", 0.5)
        for hit in hits.values():
            hit.score = sum(WEIGHTS[s] * v for s, v in hit.signals.items()) + POPULARITY_WEIGHT * hit.product.popularity
        ranked = sorted(hits.values(), key=lambda h: (-h.score, h.product.price_cents, h.product.id))
        return ranked[:limit]
