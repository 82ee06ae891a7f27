"""Edits to the master catalog, each logged as a pending change for the next delta.

`random_changes` plays a day of merchandising (price moves, stock outs and restocks, new SKUs,
delisted SKUs, edited descriptions) so demos, tests and the benchmark have realistic deltas to
publish. Direct edits (`set_price`, `set_stock`, `delete`) are the same operations one at a time.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

from cloud.catalog import store
from cloud.catalog.generate import generate_rows


def set_price(conn: sqlite3.Connection, product_id: int, cents: int) -> None:
    conn.execute("UPDATE products SET price_cents = ? WHERE id = ?", (int(cents), product_id))
    store.record(conn, "price", [product_id])


def set_stock(conn: sqlite3.Connection, product_id: int, in_stock: bool) -> None:
    conn.execute("UPDATE products SET in_stock = ? WHERE id = ?", (int(in_stock), product_id))
    store.record(conn, "stock", [product_id])


def delete(conn: sqlite3.Connection, product_ids: list[int]) -> None:
    conn.executemany("DELETE FROM products WHERE id = ?", [(pid,) for pid in product_ids])
    conn.executemany("DELETE FROM item_factors WHERE product_id = ?", [(pid,) for pid in product_ids])
    store.record(conn, "delete", product_ids)


def random_changes(conn: sqlite3.Connection, *, prices: int = 0, stock: int = 0, new: int = 0, delete_count: int = 0,
                   edits: int = 0, seed: int = 0) -> dict[str, Any]:
    """Apply a random mix of edits in one transaction; returns what was done."""
    rng = np.random.default_rng(seed)
    ids = np.array([r[0] for r in conn.execute("SELECT id FROM products")], dtype=np.int64)
    wanted = prices + stock + delete_count + edits
    if wanted > len(ids):
        raise ValueError(f"asked for {wanted} edits of existing products but the catalog has {len(ids)}")
    chosen = rng.choice(ids, size=wanted, replace=False)
    price_ids, rest = chosen[:prices], chosen[prices:]
    stock_ids, rest = rest[:stock], rest[stock:]
    delete_ids, edit_ids = rest[:delete_count], rest[delete_count:]
    conn.execute("BEGIN")
    old_prices = dict(conn.execute(f"SELECT id, price_cents FROM products WHERE id IN "
                                   f"({','.join(map(str, price_ids.tolist())) or '0'})"))
    factors = np.exp(rng.normal(0, 0.08, len(price_ids)))
    conn.executemany("UPDATE products SET price_cents = ? WHERE id = ?",
                     [(int(max(9, (old_prices[pid] * f) // 10 * 10 + 9)), int(pid))
                      for pid, f in zip(price_ids.tolist(), factors, strict=True)])
    store.record(conn, "price", price_ids.tolist())
    conn.executemany("UPDATE products SET in_stock = 1 - in_stock WHERE id = ?", [(int(p),) for p in stock_ids])
    store.record(conn, "stock", stock_ids.tolist())
    delete(conn, delete_ids.tolist())
    conn.executemany("UPDATE products SET description = description || ' New look.', "
                     "popularity = MIN(1.0, popularity * 1.1) WHERE id = ?", [(int(p),) for p in edit_ids])
    store.record(conn, "upsert", edit_ids.tolist())
    if new:
        next_id = (conn.execute("SELECT MAX(id) FROM products").fetchone()[0] or 0) + 1
        rows = generate_rows(new + 400, seed=seed + 1)[400:]  # skip the canonical rows: these are new SKUs
        rows = [(next_id + n, f"{r[1].split('-')[0]}-{next_id + n:07d}", *r[2:]) for n, r in enumerate(rows)]
        store.insert_products(conn, rows)
        store.record(conn, "upsert", [r[0] for r in rows])
    conn.execute("COMMIT")
    return {"prices": len(price_ids), "stock": len(stock_ids), "new": new, "deleted": len(delete_ids),
            "edited": len(edit_ids), "pending_version": store.pending_version(conn)}
