"""The outbox's SQLite file: connection settings and versioned schema migrations.

The outbox is its own file (not the catalog's) because it needs ``synchronous=FULL``: a confirmed
order must survive the device losing power right after the user heard "order placed", while the
catalog can be re-synced and is better served by the faster NORMAL. WAL lets `python -m edge orders
list` read while the device loop writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from edge.orders.model import STATES

_STATE_CHECK = ", ".join(f"'{s}'" for s in STATES)

# Migration i brings the schema from user_version i to i+1. Append only; never edit a shipped one.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ({_STATE_CHECK})),
        key TEXT UNIQUE,
        seq INTEGER UNIQUE,
        currency TEXT NOT NULL,
        total_cents INTEGER NOT NULL,
        created_at REAL NOT NULL,
        confirmed_at REAL,
        sent_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        resend_at REAL,
        acked_at REAL,
        cloud_ref TEXT NOT NULL DEFAULT '',
        cloud_total_cents INTEGER,
        cancel_requested_at REAL,
        cancel_resend_at REAL,
        updated_at REAL NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX orders_by_state ON orders (state, seq);
    CREATE TABLE order_lines (
        order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        line_no INTEGER NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
        PRIMARY KEY (order_id, line_no)
    );
    CREATE TABLE order_events (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        at REAL NOT NULL,
        state TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX order_events_by_order ON order_events (order_id, id);
    """,
    # 2: find overdue resends without walking every sent order (a 10,000-order backlog made that quadratic).
    """
    CREATE INDEX orders_by_resend ON orders (state, resend_at);
    """,
    # 3: the transactional-outbox payload, encoded once at confirmation; orders confirmed before get
    # theirs built here from their lines (wire v1).
    """
    ALTER TABLE orders ADD COLUMN payload BLOB;
    UPDATE orders SET payload = CAST(json_object(
        'v', 1, 'type', 'order', 'key', key,
        'lines', json((SELECT json_group_array(json_object('sku', sku, 'name', name, 'quantity', quantity,
                                                           'unit_price_cents', unit_price_cents))
                       FROM (SELECT * FROM order_lines WHERE order_id = orders.id ORDER BY line_no))),
        'total_cents', total_cents, 'currency', currency, 'confirmed_at', confirmed_at) AS BLOB)
    WHERE key IS NOT NULL;
    """,
    # 4: why the cloud refused an order, for machines (edge.wire.ACK_CODES): "price_increased" lets
    # the dialogue tell the user the new total (kept in cloud_total_cents) and ask again.
    """
    ALTER TABLE orders ADD COLUMN cloud_code TEXT NOT NULL DEFAULT '';
    """,
)


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the outbox database at path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this file lacks, each in its own transaction; return the new version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(f"outbox schema version {version} is newer than this software ({len(MIGRATIONS)})")
    for number in range(version, len(MIGRATIONS)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            if conn.execute("PRAGMA user_version").fetchone()[0] != number:
                conn.execute("ROLLBACK")
                continue
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)
