"""Keep products and their FTS5 documents in step.

The FTS document of a product is its name, brand, category, tags and the spoken aliases of its
name. Aliases belong to a product *name* ("oj" -> "orange juice") and also reach variants of it
("organic orange juice"), so a product's alias text is found by matching its name, then its
name without leading modifier words. Everything here runs inside the caller's transaction and
uses executemany, so a 10,000-row delta is a handful of statements, not 10,000 round trips.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from edge.catalog.wire import PRODUCT_COLUMNS


def alias_map(conn: sqlite3.Connection) -> dict[str, str]:
    """Lower-cased product name -> its aliases joined by ' | '."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for alias, name in conn.execute("SELECT alias, name FROM aliases ORDER BY alias"):
        grouped[name.lower()].append(alias)
    return {name: " | ".join(values) for name, values in grouped.items()}


def alias_text(name: str, aliases: dict[str, str]) -> str:
    """Aliases of ``name`` or of its longest suffix that has any ("organic oat milk" -> oat milk's)."""
    words = name.lower().split()
    for start in range(len(words)):
        text = aliases.get(" ".join(words[start:]))
        if text:
            return text
    return ""


def write_products(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], version: int, *, fresh: bool) -> None:
    """Insert or replace product rows (wire order) and their FTS documents."""
    if not rows:
        return
    aliases = alias_map(conn)
    reindex = list(rows)
    if not fresh:
        # Only rows whose indexed words changed touch the FTS index (an FTS5 delete re-tokenizes
        # the old document, the costliest step of a delta); a description edit does not.
        old = _indexed_fields(conn, [row[0] for row in rows])
        reindex = [row for row in rows if old.get(row[0]) != (row[2], row[3], row[4], row[10])]
        conn.executemany("DELETE FROM products_fts WHERE rowid = ?", [(row[0],) for row in reindex if row[0] in old])
    columns = ", ".join(PRODUCT_COLUMNS) + ", version"
    marks = ", ".join("?" * (len(PRODUCT_COLUMNS) + 1))
    conn.executemany(f"INSERT OR REPLACE INTO products ({columns}) VALUES ({marks})",
                     [(*row, version) for row in rows])
    # id, name, brand, category, ..., tags are at fixed wire positions.
    conn.executemany(
        "INSERT INTO products_fts (rowid, name, brand, category, aliases, tags) VALUES (?, ?, ?, ?, ?, ?)",
        [(row[0], row[2], row[3], row[4], alias_text(row[2], aliases), row[10]) for row in reindex])


def _indexed_fields(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple]:
    """id -> (name, brand, category, tags) as currently stored, for the ids that exist."""
    found: dict[int, tuple] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for pid, *fields in conn.execute(f"SELECT id, name, brand, category, tags FROM products WHERE id IN "
                                         f"({','.join('?' * len(chunk))})", chunk):
            found[pid] = tuple(fields)
    return found


def reindex_aliases(conn: sqlite3.Connection, names: Iterable[str]) -> int:
    """Refresh the alias column of every product whose name is or ends with one of ``names``."""
    aliases = alias_map(conn)
    count = 0
    for name in set(names):
        rows = conn.execute("SELECT id, name FROM products WHERE name = ? COLLATE NOCASE "
                            "OR name LIKE ?", (name, f"% {name}")).fetchall()
        conn.executemany("UPDATE products_fts SET aliases = ? WHERE rowid = ?",
                         [(alias_text(pname, aliases), pid) for pid, pname in rows])
        count += len(rows)
    return count
