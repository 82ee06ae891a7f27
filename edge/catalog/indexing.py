"""Keep products and their FTS5 documents in step.

The FTS document of a product is its name, brand, category, tags and the spoken aliases of its
name. Aliases belong to a product *name* ("oj" -> "orange juice") and also reach variants of it
("organic orange juice"), so a product's alias text is found by matching its name, then its
name without leading modifier words. Everything here runs inside the caller's transaction and
uses executemany, so a 10,000-row delta is a handful of statements, not 10,000 round trips.
Chinese text is indexed with its characters spaced out (edge.catalog.chinese.fts_text).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from edge.catalog.chinese import fts_text
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
    """Insert or update product rows (wire order) and their FTS documents.

    An existing row is updated only in the columns that changed, so an edited description does
    not rewrite five index entries, and only rows whose indexed words changed touch the FTS
    index (an FTS5 delete re-tokenizes the old document, the costliest step of a delta).
    """
    if not rows:
        return
    aliases = alias_map(conn)
    old = {} if fresh else _stored_rows(conn, [row[0] for row in rows])
    new_rows = [row for row in rows if row[0] not in old]
    columns = ", ".join(PRODUCT_COLUMNS) + ", version"
    marks = ", ".join("?" * (len(PRODUCT_COLUMNS) + 1))
    conn.executemany(f"INSERT INTO products ({columns}) VALUES ({marks})", [(*row, version) for row in new_rows])
    by_change: dict[tuple[int, ...], list[tuple]] = defaultdict(list)
    for row in rows:
        stored = old.get(row[0])
        if stored is not None:
            changed = tuple(i for i in range(1, len(PRODUCT_COLUMNS)) if stored[i] != row[i])
            by_change[changed].append((*(row[i] for i in changed), version, row[0]))
    for changed, params in by_change.items():
        sets = ", ".join(f"{PRODUCT_COLUMNS[i]} = ?" for i in changed)
        conn.executemany(f"UPDATE products SET {sets}{', ' if sets else ''}version = ? WHERE id = ?", params)
    reindex = [row for row in rows if row[0] not in old or
               tuple(old[row[0]][i] for i in _FTS_FIELDS) != tuple(row[i] for i in _FTS_FIELDS)]
    conn.executemany("DELETE FROM products_fts WHERE rowid = ?", [(row[0],) for row in reindex if row[0] in old])
    conn.executemany(
        "INSERT INTO products_fts (rowid, name, brand, category, aliases, tags) VALUES (?, ?, ?, ?, ?, ?)",
        [(row[0], *map(fts_text, (row[2], row[3], row[4], alias_text(row[2], aliases), row[10]))) for row in reindex])


_FTS_FIELDS = (2, 3, 4, 10)  # name, brand, category, tags at their wire positions


def _stored_rows(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple]:
    """id -> stored row in wire order, for the ids that exist."""
    found: dict[int, tuple] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for row in conn.execute(f"SELECT {', '.join(PRODUCT_COLUMNS)} FROM products WHERE id IN "
                                f"({','.join('?' * len(chunk))})", chunk):
            found[row[0]] = tuple(row)
    return found


def reindex_aliases(conn: sqlite3.Connection, names: Iterable[str]) -> int:
    """Refresh the alias column of every product whose name is or ends with one of ``names``."""
    aliases = alias_map(conn)
    count = 0
    for name in set(names):
        rows = conn.execute("SELECT id, name FROM products WHERE name = ? COLLATE NOCASE "
                            "OR name LIKE ?", (name, f"% {name}")).fetchall()
        conn.executemany("UPDATE products_fts SET aliases = ? WHERE rowid = ?",
                         [(fts_text(alias_text(pname, aliases)), pid) for pid, pname in rows])
        count += len(rows)
    return count
