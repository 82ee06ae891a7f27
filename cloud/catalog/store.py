"""The cloud's master catalog (SQLite through sqlite-utils) and its change log.

The master is the source of truth the generator writes and merchandisers edit. Every edit is
recorded in ``changes`` under the *pending* version (published + 1); publishing a delta reads
the pending changes, folds them per product (a price change followed by a rename is an upsert)
and advances ``published_version``. Recommendation factors, product families, family complements
and sentence embeddings are stored here too, so a snapshot is one read of one file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from voiceshop_common.catalog_wire import PRODUCT_COLUMNS  # shared wire format

CHANGE_OPS = ("upsert", "price", "stock", "delete")


def connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def create(path: str | Path) -> sqlite3.Connection:
    """A new, empty master catalog (replacing any file at ``path``)."""
    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    db = sqlite_utils.Database(conn)
    columns: dict[str, Any] = {name: str for name in PRODUCT_COLUMNS}
    columns.update(id=int, price_cents=int, in_stock=int, popularity=float, embedding_id=int)
    db["products"].create(columns, pk="id")
    db["products"].create_index(["sku"], unique=True)
    db["aliases"].create({"alias": str, "name": str}, pk="alias")
    db["faq"].create({"id": int, "question": str, "answer": str, "tags": str}, pk="id")
    _create_recs_tables(conn)
    db["embeddings"].create({"id": int, "text": str, "vec": bytes, "version": int}, pk="id")
    db["embeddings"].create_index(["text"], unique=True)
    db["changes"].create({"version": int, "product_id": int, "op": str})
    db["changes"].create_index(["version"])
    db["item_factors"].create({"product_id": int, "vec": bytes}, pk="product_id")
    db["user_factors"].create({"user_id": str, "vec": bytes}, pk="user_id")
    db["user_recent"].create({"user_id": str, "product_id": int, "bought_at": str}, pk=("user_id", "product_id"))
    db["meta"].create({"key": str, "value": str}, pk="key")
    set_meta(conn, published_version=0, recs_version=0, recs_published=0, embedding_model="", embedding_dim=0)
    return conn


def _create_recs_tables(conn: sqlite3.Connection) -> None:
    """Product families and learned family complements (added after the first masters were made,
    so opening an older master adds them empty: its products are then each their own family)."""
    conn.execute("CREATE TABLE IF NOT EXISTS families (name TEXT PRIMARY KEY, family TEXT NOT NULL)")
    conn.execute("CREATE TABLE IF NOT EXISTS complements (family TEXT NOT NULL, other TEXT NOT NULL, "
                 "score REAL NOT NULL, PRIMARY KEY (family, other))")


def open_master(path: str | Path) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no master catalog at {path}: make one with `python -m cloud catalog generate`")
    conn = connect(path)
    _create_recs_tables(conn)
    return conn


def family_map(conn: sqlite3.Connection) -> dict[str, str]:
    """Product name -> family key; a name not listed is its own family (lower-cased)."""
    return dict(conn.execute("SELECT name, family FROM families"))


def family_of(families: dict[str, str], name: str) -> str:
    return families.get(name) or name.strip().lower()


def get_meta(conn: sqlite3.Connection, key: str, default: str = "") -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, **values: object) -> None:
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                     [(k, str(v)) for k, v in values.items()])


def published_version(conn: sqlite3.Connection) -> int:
    return int(get_meta(conn, "published_version", "0"))


def pending_version(conn: sqlite3.Connection) -> int:
    return published_version(conn) + 1


def insert_products(conn: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk insert wire-ordered product rows (the generator's path; not logged as changes)."""
    marks = ", ".join("?" * len(PRODUCT_COLUMNS))
    conn.executemany(f"INSERT INTO products ({', '.join(PRODUCT_COLUMNS)}) VALUES ({marks})", rows)


def record(conn: sqlite3.Connection, op: str, product_ids: Iterable[int]) -> None:
    if op not in CHANGE_OPS:
        raise ValueError(f"unknown change op {op!r}")
    version = pending_version(conn)
    conn.executemany("INSERT INTO changes (version, product_id, op) VALUES (?, ?, ?)",
                     [(version, int(pid), op) for pid in product_ids])


def pending_changes(conn: sqlite3.Connection) -> dict[str, list[int]]:
    """Pending product changes folded per product: op -> product ids."""
    ops: dict[int, set[str]] = {}
    for pid, op in conn.execute("SELECT product_id, op FROM changes WHERE version = ?", (pending_version(conn),)):
        ops.setdefault(pid, set()).add(op)
    folded: dict[str, list[int]] = {op: [] for op in CHANGE_OPS}
    for pid, kinds in ops.items():
        if "delete" in kinds:
            folded["delete"].append(pid)
        elif "upsert" in kinds or len(kinds) > 1:
            folded["upsert"].append(pid)
        else:
            folded[next(iter(kinds))].append(pid)
    return folded


def product_rows(conn: sqlite3.Connection, ids: Sequence[int] | None = None) -> list[list[Any]]:
    """Wire-ordered product rows, all of them or the given ids."""
    sql = f"SELECT {', '.join(PRODUCT_COLUMNS)} FROM products"
    if ids is None:
        return [list(r) for r in conn.execute(sql + " ORDER BY id")]
    rows: list[list[Any]] = []
    for start in range(0, len(ids), 900):
        chunk = list(ids[start:start + 900])
        rows += [list(r) for r in conn.execute(f"{sql} WHERE id IN ({','.join('?' * len(chunk))})", chunk)]
    return rows
