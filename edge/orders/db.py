"""The outbox's SQLite file: connection settings and versioned schema migrations.

The outbox is its own file (not the catalog's) because it needs ``synchronous=FULL``: a confirmed
order must survive the device losing power right after the user heard "order placed", while the
catalog can be re-synced and is better served by the faster NORMAL. WAL lets `python -m edge orders
list` read while the device loop writes.

A damaged file (a bad SD card, a power cut on cheap flash) is never deleted and never retried as if
it were busy: `connect` checks the file, and one that SQLite calls corrupt or "not a database" is
renamed to ``outbox.sqlite.corrupt-<UTC time>`` with its -wal/-shm, and OutboxDamaged tells the
user what happened and how to get the orders out of it. The next start begins an empty outbox.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from edge.orders.model import STATES
from edge.storage import StorageFull, full_message, is_disk_full

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


# SQLite's primary result codes for a damaged file (sqlite3.h): SQLITE_CORRUPT, SQLITE_NOTADB.
_DAMAGE_CODES = (11, 26)
CORRUPT_SUFFIX = ".corrupt-"


class OutboxDamaged(OSError):
    """The outbox file is damaged; it was set aside (``kept``) and the message says what to do.

    An OSError because the storage under the outbox failed: callers that already guard file access
    (a missing directory, no permission) report it the same way, without a traceback.
    """

    def __init__(self, message: str, kept: Path | None = None) -> None:
        super().__init__(message)
        self.kept = kept

    def __str__(self) -> str:
        return str(self.args[0])


def is_damage(exc: BaseException) -> bool:
    """True when exc is SQLite saying the file is corrupt or not a database (not busy, locked or full)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def set_aside(path: Path) -> Path:
    """Rename path (and its -wal, -shm) to path.corrupt-<UTC time>; return the new name. Deletes nothing."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    kept = path.with_name(f"{path.name}{CORRUPT_SUFFIX}{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}{CORRUPT_SUFFIX}{stamp}-{n}")
    for suffix in ("-wal", "-shm"):  # the WAL may hold the newest committed orders: keep it with the file
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(kept.with_name(kept.name + suffix))
    path.rename(kept)
    return kept


def damaged_message(path: Path, reason: str, kept: Path | None) -> str:
    """What the user is told: what happened, that nothing was deleted, and what to do.

    kept is where the file was set aside, or None when it was found damaged while in use (it stays
    in place until the next start sets it aside).
    """
    if kept is None:
        return (f"the order outbox {path} is damaged ({reason}). Nothing was deleted. Restart the device (or run "
                "`python -m edge orders list`): the damaged file is then set aside with every order in it and a "
                "new, empty outbox begun.")
    return (f"the order outbox {path} is damaged ({reason}). It was moved aside to {kept}, with every order in "
            "it: nothing was deleted, but orders in it that had not reached the store are not being sent. The "
            f"next start begins a new, empty outbox. To get the orders back: sqlite3 {kept} .recover > "
            "orders.sql, and check with the store which of them it has before ordering again.")


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the outbox database at path.

    Raises OutboxDamaged, after setting the file aside, when SQLite finds it damaged, and StorageFull
    when the disk under it is full.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # Whole-file structure check: a few ms for thousands of orders, and it turns a damaged page
        # into one clear message at start-up instead of an error in the middle of a checkout.
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("database disk image is malformed: " + "; ".join(problems)[:300])
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        if is_disk_full(exc, path):  # not damage: say so, and leave the file alone
            conn.close()
            raise StorageFull(full_message(path, "the order outbox cannot be opened")) from None
        if not is_damage(exc):
            conn.close()
            raise
        # Set aside *before* closing: SQLite's last close deletes the -wal, which may hold the
        # newest orders; after the rename it finds nothing to delete.
        kept = set_aside(path) if path.exists() else None
        conn.close()
        raise OutboxDamaged(damaged_message(path, str(exc).split(":")[0], kept), kept) from None
    except BaseException:
        conn.close()
        raise
    return conn


def kept_aside(path: str | Path) -> list[Path]:
    """Damaged outbox files set aside next to path (not their -wal/-shm), oldest first."""
    path = Path(path)
    found = path.parent.glob(f"{path.name}{CORRUPT_SUFFIX}*")
    return sorted(p for p in found if not p.name.endswith(("-wal", "-shm")))


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
