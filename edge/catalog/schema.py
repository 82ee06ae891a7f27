"""The device catalog's SQLite schema and its versioned migrations (through sqlite-utils).

A device in the field may carry a catalog file written by any earlier release, so the schema is
a numbered list of migrations and ``schema_version`` records the last one applied. Opening a
catalog runs whatever is missing, each migration in its own transaction, so a power cut between
two leaves a database that the next start simply continues. Never edit a released migration:
append a new one.

Tables (latest schema):
- products: one row per SKU (prices in cents, in_stock 0/1, tags space-separated words).
- aliases: spoken variant -> canonical product name ("oj" -> "orange juice").
- faq: customer-service questions and answers; faq_fts indexes them.
- catalog_meta: key/value (version, published_at, signature, key_id, embedding_model, ...).
- products_fts: FTS5 over name, brand, category, aliases, tags (bm25 ranking), rowid = product id.
- embeddings: one 384-d float16 sentence vector per distinct product text; products.embedding_id
  points at it (thousands of SKUs share "organic Fuji apples", so one vector serves them all).
- item_factors / user_factors: float16 ALS factors; user_recent: what a user bought lately.
- families: product name -> family key ("organic bananas" -> "bananas"); a name not listed is its
  own family. complements: family -> family scores learned from co-purchases (with the factors).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by migrate() only when a migration is due: ~8 MB resident with click & co.
    import sqlite_utils

log = logging.getLogger(__name__)

FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"


def _v1_core(db: sqlite_utils.Database) -> None:
    db["products"].create({
        "id": int, "sku": str, "name": str, "brand": str, "category": str, "unit": str, "pack_size": str,
        "price_cents": int, "currency": str, "in_stock": int, "tags": str, "description": str,
        "popularity": float, "version": int,
    }, pk="id", not_null={"sku", "name", "price_cents", "currency", "in_stock"},
        defaults={"currency": "USD", "in_stock": 1, "popularity": 0.0, "version": 0, "tags": "", "description": ""})
    db["products"].create_index(["sku"], unique=True)
    db["products"].create_index(["name", "popularity"])
    db["products"].create_index(["brand"])
    db["products"].create_index(["popularity"])
    db["aliases"].create({"alias": str, "name": str}, pk="alias", not_null={"name"})
    db["aliases"].create_index(["name"])
    db["faq"].create({"id": int, "question": str, "answer": str, "tags": str}, pk="id",
                     not_null={"question", "answer"})
    db["catalog_meta"].create({"key": str, "value": str}, pk="key")
    db.execute(f"CREATE VIRTUAL TABLE products_fts USING fts5(name, brand, category, aliases, tags, "
               f"tokenize='{FTS_TOKENIZER}')")
    db.execute(f"CREATE VIRTUAL TABLE faq_fts USING fts5(question, answer, tags, tokenize='{FTS_TOKENIZER}')")


def _v2_embeddings(db: sqlite_utils.Database) -> None:
    db["embeddings"].create({"id": int, "text": str, "vec": bytes}, pk="id", not_null={"vec"})
    db["products"].add_column("embedding_id", int)
    db["products"].create_index(["embedding_id", "popularity"])


def _v3_recommendations(db: sqlite_utils.Database) -> None:
    db["item_factors"].create({"product_id": int, "vec": bytes}, pk="product_id", not_null={"vec"})
    db["user_factors"].create({"user_id": str, "vec": bytes}, pk="user_id", not_null={"vec"})
    db["user_recent"].create({"user_id": str, "product_id": int, "bought_at": str},
                             pk=("user_id", "product_id"))


def _v4_brand_name_index(db: sqlite_utils.Database) -> None:
    # "Green Valley apples": name AND brand equality, best sellers first, without scanning every
    # SKU of the name; a brand-only lookup uses the index's prefix, so the old one goes.
    db["products"].create_index(["brand", "name", "popularity"])
    db.execute("DROP INDEX IF EXISTS idx_products_brand")


def _v5_families_and_complements(db: sqlite_utils.Database) -> None:
    # Recommendations must not offer another brand of what is in the cart, and should offer what
    # goes with it: both are per product family, which the device cannot guess from names.
    db["families"].create({"name": str, "family": str}, pk="name", not_null={"family"})
    db["families"].create_index(["family"])
    db["complements"].create({"family": str, "other": str, "score": float}, pk=("family", "other"),
                             not_null={"score"})


MIGRATIONS: tuple[tuple[int, str, Callable[[sqlite_utils.Database], None]], ...] = (
    (1, "products, aliases, faq, meta, FTS5 indexes", _v1_core),
    (2, "sentence embeddings per product text", _v2_embeddings),
    (3, "recommendation factors and recent purchases", _v3_recommendations),
    (4, "index for brand-filtered name lookups", _v4_brand_name_index),
    (5, "product families and family complements", _v5_families_and_complements),
)
LATEST = MIGRATIONS[-1][0]


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in WAL mode with the pragmas every catalog user wants."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a process kill.
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    # Reads go through the OS page cache by mmap, and a bigger page cache keeps index pages of a
    # million-product catalog warm between queries (negative cache_size = KiB).
    conn.execute("PRAGMA mmap_size=536870912")
    conn.execute("PRAGMA cache_size=-32768")
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """Last migration applied (0 for an empty file)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name='schema_version'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply every missing migration up to ``target``, each atomically; returns the new version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                 "description TEXT, applied_at TEXT DEFAULT CURRENT_TIMESTAMP)")
    current = schema_version(conn)
    if current > LATEST:
        raise RuntimeError(f"catalog schema v{current} is newer than this software (v{LATEST}); upgrade it")
    if current >= target:  # the device's every start: an up-to-date catalog needs no sqlite-utils
        return current
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    for version, description, step in MIGRATIONS:
        if current < version <= target:
            conn.execute("BEGIN IMMEDIATE")
            try:
                step(db)
                conn.execute("INSERT INTO schema_version (version, description) VALUES (?, ?)",
                             (version, description))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            log.info("catalog schema migrated to v%d (%s)", version, description)
            current = version
    return current


def open_catalog(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (creating if allowed) a catalog file and bring its schema up to date."""
    path = Path(path)
    if not create and not path.exists():
        raise FileNotFoundError(f"no catalog at {path}: bootstrap it with `python -m edge catalog apply SNAPSHOT`")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    migrate(conn)
    return conn


def get_meta(conn: sqlite3.Connection, key: str, default: str = "") -> str:
    row = conn.execute("SELECT value FROM catalog_meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else str(row[0])


def catalog_version(conn: sqlite3.Connection) -> int:
    """The applied catalog version (0 before the first snapshot)."""
    return int(get_meta(conn, "version", "0"))


def set_meta(conn: sqlite3.Connection, **values: object) -> None:
    conn.executemany("INSERT INTO catalog_meta (key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     [(key, str(value)) for key, value in values.items()])


def selling_units(conn: sqlite3.Connection) -> list[str]:
    """The distinct, non-empty units the catalog's products are sold by, as stored: correction, spotting and the
    recognizer's catalog bias each build their unit words from these, so all three know the same units."""
    return [str(r[0]) for r in conn.execute("SELECT DISTINCT unit FROM products") if r[0]]
