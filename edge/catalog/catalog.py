"""`Catalog`: the one object the rest of the device uses (dialogue, CLI, sync).

It owns a connection to ``<data_dir>/catalog.db``, a Searcher and a Recommender, and the trust
anchor for sync (the cloud's public key). The sentence encoder for semantic search is optional:
it is loaded from the NLU bundle only if that bundle's encoder is the one the catalog's vectors
were made with, otherwise search stays lexical + fuzzy and says so in ``stats``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.catalog.apply import ApplyResult, apply_delta, checkpoint, load_public_key
from edge.catalog.recommend import Recommendation, Recommender
from edge.catalog.schema import catalog_version, get_meta, open_catalog, schema_version
from edge.catalog.search import Searcher, SearchHit
from edge.config import Settings

log = logging.getLogger(__name__)

DB_NAME = "catalog.db"
PUBLIC_KEY_NAME = "catalog_signing.pub"


@dataclass(frozen=True)
class FaqEntry:
    id: int
    question: str
    answer: str
    tags: str


def _bundle_encoder(settings: Settings) -> tuple[Callable[[str], np.ndarray] | None, str]:
    """The NLU bundle's sentence encoder and its model id (encoder SHA-256), or (None, "").

    The encoder loads on its first query, not here: a catalog without vectors from this encoder
    (the zh demo catalog has none) never asks, and a zh device then saves the ~50 MB it holds.
    The device's warm-up search loads it before the first request when the vectors are there.
    """
    import json

    bundle_dir = settings.models.path / ("nlu-zh" if settings.device.language == "zh" else "nlu")
    try:
        files = json.loads((bundle_dir / "manifest.json").read_text())["files"]
        model_id = next(info["sha256"] for info in files.values() if info.get("role") == "encoder")
    except Exception as exc:  # no bundle, or an incomplete one: lexical + fuzzy still work
        log.info("semantic search off: no usable NLU encoder at %s (%s)", bundle_dir, exc)
        return None, ""
    loaded: list[Callable[[str], np.ndarray]] = []

    def encode(text: str) -> np.ndarray:
        if not loaded:
            from edge.nlu.embed import Embedder

            loaded.append(Embedder.from_bundle(bundle_dir, settings.runtime, settings.threads.nlu).encode_one)
        return loaded[0](text)

    return encode, model_id


class Catalog:
    """Search, recommend, FAQ and sync over one device catalog file."""

    def __init__(self, path: str | Path, *, public_key_file: str | Path | None = None,
                 encode: Callable[[str], np.ndarray] | None = None, encoder_model: str = "") -> None:
        self.path = Path(path)
        self.conn: sqlite3.Connection = open_catalog(self.path)
        self.public_key_file = Path(public_key_file) if public_key_file else None
        self.searcher = Searcher(self.conn, encode, encoder_model)
        self.recommender = Recommender(self.conn)

    @classmethod
    def from_settings(cls, settings: Settings, db: str | Path | None = None, *, semantic: bool | None = None) -> Catalog:
        path = Path(db) if db else settings.device.data_path / DB_NAME
        key = settings.catalog.public_key_file or str(settings.device.data_path / PUBLIC_KEY_NAME)
        use_semantic = settings.catalog.semantic_search if semantic is None else semantic
        encode, model = _bundle_encoder(settings) if use_semantic else (None, "")
        return cls(path, public_key_file=Path(key).expanduser(), encode=encode, encoder_model=model)

    def close(self) -> None:
        self.conn.close()

    def checkpoint(self) -> float:
        """Fold the WAL into the catalog file; call when idle (after a delta). Returns seconds."""
        return checkpoint(self.conn)

    # --- reading -------------------------------------------------------------------------
    def search(self, query: str, max_price: float | None = None, brand: str | None = None, limit: int = 5,
               in_stock_only: bool = True) -> list[SearchHit]:
        """Hybrid search; ``max_price`` in currency units (4.5 = $4.50)."""
        return self.searcher.search(query, max_price=max_price, brand=brand, limit=limit, in_stock_only=in_stock_only)

    def recommend(self, user: str, context_products: Sequence[int] = (), k: int = 5,
                  focus: int | None = None) -> list[Recommendation]:
        return self.recommender.recommend(user, context_products, k, focus=focus)

    def often_bought_with(self, product_id: int, k: int = 3) -> list[Recommendation]:
        return self.recommender.often_bought_with(product_id, k)

    def alternatives(self, product_id: int, k: int = 3, *, cheaper: bool = False) -> list[Recommendation]:
        return self.recommender.alternatives(product_id, k, cheaper=cheaper)

    def faq(self) -> list[FaqEntry]:
        return [FaqEntry(*r) for r in self.conn.execute("SELECT id, question, answer, tags FROM faq ORDER BY id")]

    def brands(self) -> list[str]:
        self.searcher.refresh()
        assert self.searcher.vocab is not None
        return list(self.searcher.vocab.brands)

    def product_id(self, text: str) -> int | None:
        """An id from an id, a SKU, or the best search hit for a name (for `--with PRODUCT`)."""
        if text.isdigit():
            return int(text)
        row = self.conn.execute("SELECT id FROM products WHERE sku = ?", (text,)).fetchone()
        if row:
            return int(row[0])
        hits = self.search(text, limit=1, in_stock_only=False)
        return hits[0].product.id if hits else None

    def stats(self) -> dict[str, Any]:
        count = self.conn.execute
        self.searcher.refresh()
        return {
            "path": str(self.path),
            "version": catalog_version(self.conn),
            "schema_version": schema_version(self.conn),
            "published_at": get_meta(self.conn, "published_at"),
            "key_id": get_meta(self.conn, "key_id"),
            "products": count("SELECT COUNT(*) FROM products").fetchone()[0],
            "in_stock": count("SELECT COUNT(*) FROM products WHERE in_stock = 1").fetchone()[0],
            "aliases": count("SELECT COUNT(*) FROM aliases").fetchone()[0],
            "faq": count("SELECT COUNT(*) FROM faq").fetchone()[0],
            "embeddings": count("SELECT COUNT(*) FROM embeddings").fetchone()[0],
            "item_factors": count("SELECT COUNT(*) FROM item_factors").fetchone()[0],
            "user_factors": count("SELECT COUNT(*) FROM user_factors").fetchone()[0],
            "semantic_search": self.searcher.semantic_ready,
            "bytes": sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file()),
        }

    # --- sync ----------------------------------------------------------------------------
    def apply(self, payload: bytes) -> ApplyResult:
        """Verify and apply a signed delta or snapshot (see edge.catalog.apply)."""
        if self.public_key_file is None or not self.public_key_file.is_file():
            reason = f"no catalog public key at {self.public_key_file}; install the cloud's catalog_signing.pub"
            log.warning("catalog payload rejected: %s", reason)
            return ApplyResult("rejected", version=catalog_version(self.conn), reason=reason)
        try:
            key = load_public_key(self.public_key_file)
        except (ValueError, OSError) as exc:
            log.warning("catalog payload rejected: unreadable public key %s: %s", self.public_key_file, exc)
            return ApplyResult("rejected", version=catalog_version(self.conn), reason=f"bad public key: {exc}")
        return apply_delta(self.conn, payload, key)
