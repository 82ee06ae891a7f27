"""The cloud's order database, on SQLite (one host) or PostgreSQL (several ingest workers).

Exactly-once in effect rests on one constraint: ``orders.key`` is UNIQUE, and an order is written
with ``INSERT … ON CONFLICT (key) DO NOTHING`` (same syntax in both engines). A re-sent order finds
its first copy and is answered with the same ack; it is never stored twice, whichever worker gets it.
Status moves are single ``UPDATE … WHERE status = … RETURNING`` statements, so when two workers run
the shipping timer, each order is shipped (and announced) by exactly one of them.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud.serve.pricing import PricedOrder

log = logging.getLogger("cloud.serve.store")


@dataclass(frozen=True)
class Stored:
    """What the store holds for one order after an ingest: enough to ack it and announce its status."""

    key: str
    device_id: str
    order_ref: str
    status: str
    total_cents: int
    currency: str
    reason: str
    created: bool
    """False when this key was already stored (a duplicate)."""
    code: str = ""
    """The refusal's Ack code (edge.wire.ACK_CODES), "" when accepted."""
    conflict: bool = False
    """A duplicate key whose contents differ from the stored order's: not a re-send but another
    order under a used key. The stored order stands; this copy is refused and counted."""


@dataclass(frozen=True)
class StatusRow:
    device_id: str
    key: str
    status: str
    at: float
    detail: str = ""


def _schema(postgres: bool) -> list[str]:
    ident = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY"
    return [
        f"""CREATE TABLE IF NOT EXISTS orders (
            id {ident},
            key TEXT NOT NULL UNIQUE,
            device_id TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('accepted', 'rejected', 'shipped', 'delivered', 'cancelled')),
            currency TEXT NOT NULL,
            total_cents BIGINT NOT NULL,
            device_total_cents BIGINT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            confirmed_at DOUBLE PRECISION NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            status_at DOUBLE PRECISION NOT NULL,
            worker TEXT NOT NULL DEFAULT '',
            copies INTEGER NOT NULL DEFAULT 1,
            code TEXT NOT NULL DEFAULT '',
            conflicts INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, status_at)",
        "CREATE INDEX IF NOT EXISTS orders_by_device ON orders (device_id, status_at)",
        """CREATE TABLE IF NOT EXISTS order_lines (
            order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
            line_no INTEGER NOT NULL,
            sku TEXT NOT NULL,
            name TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            unit_price_cents BIGINT NOT NULL,
            device_unit_price_cents BIGINT NOT NULL,
            PRIMARY KEY (order_id, line_no)
        )""",
        """CREATE TABLE IF NOT EXISTS presence (
            device_id TEXT PRIMARY KEY,
            online BOOLEAN NOT NULL,
            at DOUBLE PRECISION NOT NULL
        )""",
    ]


class Store:
    """Orders, their lines and device presence; one connection, used from one thread."""

    def __init__(self, conn: Any, postgres: bool, label: str, dsn: str = "") -> None:
        self._conn, self.postgres, self.label, self._dsn = conn, postgres, label, dsn
        with self._tx() as cur:
            if postgres:  # concurrent workers must not race on CREATE TABLE
                cur.execute("SELECT pg_advisory_xact_lock(74007)")
            for statement in _schema(postgres):
                cur.execute(statement)
            self._add_columns(cur)

    def _add_columns(self, cur: Any) -> None:
        """Columns added after the first release, for stores created before them."""
        added = {"code": "TEXT NOT NULL DEFAULT ''", "conflicts": "INTEGER NOT NULL DEFAULT 0"}
        if self.postgres:
            for name, kind in added.items():
                cur.execute(f"ALTER TABLE orders ADD COLUMN IF NOT EXISTS {name} {kind}")
            return
        cur.execute("PRAGMA table_info(orders)")
        have = {row[1] for row in cur.fetchall()}
        for name, kind in added.items():
            if name not in have:
                cur.execute(f"ALTER TABLE orders ADD COLUMN {name} {kind}")

    @classmethod
    def open(cls, *, db: str | Path | None = None, pg: str | None = None) -> Store:
        """A store on a SQLite file (db) or a PostgreSQL DSN (pg); exactly one of them."""
        if (db is None) == (pg is None):
            raise ValueError("give either a SQLite path (--db) or a PostgreSQL DSN (--pg)")
        if pg is not None:
            import psycopg  # only the cloud needs it; a device never imports this module

            return cls(psycopg.connect(pg, autocommit=True), True, "postgresql", pg)
        path = Path(db).expanduser()  # type: ignore[arg-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return cls(conn, False, str(path))

    def close(self) -> None:
        self._conn.close()

    def recover(self) -> None:
        """After a failed batch: reopen a PostgreSQL connection the server dropped (restart, failover).

        SQLite needs nothing: its errors (a lock held too long) leave the connection usable.
        """
        if not self.postgres or not (self._conn.closed or self._conn.broken):
            return
        import psycopg

        log.warning("PostgreSQL connection lost; reconnecting")
        self._conn = psycopg.connect(self._dsn, autocommit=True)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """A write transaction yielding a cursor whose execute() takes '?' placeholders in both engines."""
        if self.postgres:
            with self._conn.transaction(), self._conn.cursor() as cur:
                yield _PgCursor(cur)
            return
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.postgres:
            with self._conn.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), params)
                return list(cur.fetchall())
        return list(self._conn.execute(sql, params).fetchall())

    # -- orders ----------------------------------------------------------------------------------------

    def ingest(self, orders: Sequence[PricedOrder], *, worker: str = "") -> list[Stored]:
        """Store new orders (one transaction); duplicates come back with created=False and their first verdict."""
        results: list[Stored] = []
        now = time.time()
        with self._tx() as cur:
            for o in orders:
                status = "accepted" if o.accepted else "rejected"
                cur.execute(
                    "INSERT INTO orders (key, device_id, status, currency, total_cents, device_total_cents, reason,"
                    " confirmed_at, received_at, status_at, worker, code)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING RETURNING id",
                    (o.key, o.device_id, status, o.currency, o.total_cents, o.device_total_cents, o.reason,
                     o.confirmed_at, now, now, worker, o.code))
                row = cur.fetchone()
                if row is not None:
                    cur.executemany(
                        "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_cents,"
                        " device_unit_price_cents) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(row[0], n, ln.sku, ln.name, ln.quantity, ln.unit_price_cents, ln.device_unit_price_cents)
                         for n, ln in enumerate(o.lines)])
                    results.append(Stored(o.key, o.device_id, str(row[0]), status, o.total_cents, o.currency,
                                          o.reason, True, o.code))
                    continue
                results.append(self._duplicate(cur, o))
        return results

    def _duplicate(self, cur: Any, o: PricedOrder) -> Stored:
        """A key already stored: a re-send (same contents) is counted and answered like its first copy;
        different contents under the key are a conflict, counted apart and never acked as accepted."""
        cur.execute("SELECT id, device_id, status, total_cents, currency, reason, code, device_total_cents,"
                    " confirmed_at FROM orders WHERE key = ?", (o.key,))
        first = cur.fetchone()
        cur.execute("SELECT sku, quantity, device_unit_price_cents FROM order_lines WHERE order_id = ?"
                    " ORDER BY line_no", (first[0],))
        stored_lines = [(sku, int(qty), int(price)) for sku, qty, price in cur.fetchall()]
        same = (first[4] == o.currency and int(first[7]) == o.device_total_cents
                and float(first[8]) == o.confirmed_at
                and stored_lines == [(ln.sku, ln.quantity, ln.device_unit_price_cents) for ln in o.lines])
        column = "copies" if same else "conflicts"
        cur.execute(f"UPDATE orders SET {column} = {column} + 1 WHERE id = ?", (first[0],))
        return Stored(o.key, first[1], str(first[0]), first[2], int(first[3]), first[4], first[5], False, first[6],
                      conflict=not same)

    def cancel(self, key: str, device_id: str) -> StatusRow | None:
        """Cancel an accepted order of this device; returns its resulting status, None if unknown."""
        now = time.time()
        with self._tx() as cur:
            cur.execute("UPDATE orders SET status = 'cancelled', status_at = ? "
                        "WHERE key = ? AND device_id = ? AND status = 'accepted' RETURNING status_at",
                        (now, key, device_id))
            if cur.fetchone() is not None:
                return StatusRow(device_id, key, "cancelled", now, "cancelled at the customer's request")
            cur.execute("SELECT status, status_at FROM orders WHERE key = ? AND device_id = ?", (key, device_id))
            row = cur.fetchone()
        if row is None:
            return None
        detail = "already cancelled" if row[0] == "cancelled" else f"cancel refused: order is {row[0]}"
        return StatusRow(device_id, key, row[0], float(row[1]), detail)

    def advance(self, *, ship_after: float | None, deliver_after: float | None) -> list[StatusRow]:
        """Ship accepted orders older than ship_after and deliver shipped ones older than deliver_after."""
        moved: list[StatusRow] = []
        now = time.time()
        for old, new, after in (("shipped", "delivered", deliver_after), ("accepted", "shipped", ship_after)):
            if after is None or after < 0:
                continue
            with self._tx() as cur:
                cur.execute("UPDATE orders SET status = ?, status_at = ? WHERE status = ? AND status_at <= ? "
                            "RETURNING device_id, key", (new, now, old, now - after))
                moved += [StatusRow(device, key, new, now) for device, key in cur.fetchall()]
        return moved

    def recent_statuses(self, device_id: str, since: float) -> list[StatusRow]:
        """Statuses beyond `accepted` changed since `since`, to replay to a device that comes online."""
        rows = self._query("SELECT key, status, status_at FROM orders WHERE device_id = ? AND status_at >= ? "
                           "AND status IN ('shipped', 'delivered', 'cancelled') ORDER BY status_at",
                           (device_id, since))
        return [StatusRow(device_id, key, status, float(at)) for key, status, at in rows]

    def set_presence(self, device_id: str, online: bool, at: float) -> None:
        with self._tx() as cur:
            cur.execute("INSERT INTO presence (device_id, online, at) VALUES (?, ?, ?) ON CONFLICT (device_id) "
                        "DO UPDATE SET online = excluded.online, at = excluded.at", (device_id, online, at))

    # -- reading ---------------------------------------------------------------------------------------

    def list_orders(self, *, status: str | None = None, device_id: str | None = None,
                    limit: int | None = None) -> list[dict[str, Any]]:
        """Orders with their lines, newest first, as plain dicts (for `python -m cloud orders list`)."""
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if device_id:
            where.append("device_id = ?")
            params.append(device_id)
        sql = ("SELECT id, key, device_id, status, currency, total_cents, device_total_cents, reason, confirmed_at,"
               " received_at, status_at, worker, copies, code, conflicts FROM orders"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC"
               + (f" LIMIT {int(limit)}" if limit else ""))
        names = ("id", "key", "device_id", "status", "currency", "total_cents", "device_total_cents", "reason",
                 "confirmed_at", "received_at", "status_at", "worker", "copies", "code", "conflicts")
        orders = [dict(zip(names, row, strict=True)) for row in self._query(sql, params)]
        if orders:
            lines: dict[int, list[dict[str, Any]]] = {}
            ids = [o["id"] for o in orders]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for oid, sku, name, qty, price, quoted in self._query(
                    "SELECT order_id, sku, name, quantity, unit_price_cents, device_unit_price_cents FROM order_lines"
                    f" WHERE order_id IN ({', '.join('?' for _ in chunk)}) ORDER BY order_id, line_no", chunk):
                    lines.setdefault(oid, []).append({"sku": sku, "name": name, "quantity": qty,
                                                      "unit_price_cents": price, "device_unit_price_cents": quoted})
            for order in orders:
                order["lines"] = lines.get(order["id"], [])
        return orders

    def keys(self, device_id: str | None = None) -> list[str]:
        """Every stored idempotency key, one per row (fault tests compare these with the device's orders)."""
        if device_id is None:
            return [k for (k,) in self._query("SELECT key FROM orders")]
        return [k for (k,) in self._query("SELECT key FROM orders WHERE device_id = ?", (device_id,))]

    def copies_received(self) -> int:
        """Order messages received in all, duplicates included (rows + absorbed re-sends)."""
        return int(self._query("SELECT COALESCE(SUM(copies), 0) FROM orders")[0][0])


class _PgCursor:
    """psycopg cursor speaking the '?' placeholders the SQL above is written with."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql.replace("?", "%s"), rows)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()
