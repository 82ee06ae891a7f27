"""Apply signed catalog payloads: deltas in one transaction, snapshots by atomic replacement.

The rules the device lives by:
- verify first (signature, body hash, every field) and only then touch the database;
- a delta applies only on top of exactly its base version (version == current + 1); an older
  one is ``stale`` (already have it), a newer one is ``snapshot_needed`` (a gap: ask the cloud
  for a snapshot); both leave the catalog untouched;
- the whole delta is one SQLite transaction, so a crash, a kill -9 or a power cut half-way
  leaves the previous version exactly as it was (WAL replays only committed transactions);
- a snapshot is built in a side file and copied over the live catalog with SQLite's backup
  API, which is itself one transaction on the destination;
- a rejected payload is logged with its reason and never raises into the device loop.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.catalog import wire
from edge.catalog.chinese import fts_text
from edge.catalog.indexing import reindex_aliases, write_products
from edge.catalog.schema import catalog_version, connect, migrate, set_meta

if TYPE_CHECKING:  # cryptography (~10 MB resident) loads with the first key, not with every catalog
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplyResult:
    """What happened to one payload; ``status`` is applied | stale | snapshot_needed | rejected."""

    status: str
    kind: str = ""
    version: int = 0
    """Catalog version after the call (unchanged unless applied)."""
    payload_version: int = 0
    changes: int = 0
    reason: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("applied", "stale")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """Read the cloud's catalog signing public key (PEM, or 64 hex characters of the raw key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = Path(path).expanduser().read_bytes()
    if data.lstrip().startswith(b"-----BEGIN"):
        key = load_pem_public_key(data)
    else:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(data.decode().strip()))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def _count_changes(body: dict[str, Any]) -> int:
    products = body.get("products", {})
    aliases = body.get("aliases", {})
    faq = body.get("faq", {})
    return sum(len(products.get(op, [])) for op in ("upsert", "delete", "price", "stock")) + \
        sum(len(aliases.get(op, [])) for op in ("upsert", "delete")) + \
        sum(len(faq.get(op, [])) for op in ("upsert", "delete"))


def _apply_body(conn: sqlite3.Connection, body: dict[str, Any], version: int, fresh: bool) -> None:
    """Write a validated body inside the caller's transaction."""
    products = body.get("products", {})
    deleted = products.get("delete", [])
    if deleted:
        params = [(pid,) for pid in deleted]
        conn.executemany("DELETE FROM products_fts WHERE rowid = ?", params)
        conn.executemany("DELETE FROM products WHERE id = ?", params)
        conn.executemany("DELETE FROM item_factors WHERE product_id = ?", params)
    aliases = body.get("aliases", {})
    touched_names = set()
    if aliases.get("delete"):
        rows = conn.execute(f"SELECT name FROM aliases WHERE alias IN ({','.join('?' * len(aliases['delete']))})",
                            aliases["delete"]).fetchall()
        touched_names.update(r[0] for r in rows)
        conn.executemany("DELETE FROM aliases WHERE alias = ?", [(a,) for a in aliases["delete"]])
    if aliases.get("upsert"):
        old = conn.execute(
            f"SELECT name FROM aliases WHERE alias IN ({','.join('?' * len(aliases['upsert']))})",
            [a for a, _ in aliases["upsert"]]).fetchall() if not fresh else []
        touched_names.update(r[0] for r in old)
        touched_names.update(name for _alias, name in aliases["upsert"])
        conn.executemany("INSERT INTO aliases (alias, name) VALUES (?, ?) "
                         "ON CONFLICT(alias) DO UPDATE SET name = excluded.name",
                         [(a.lower(), n) for a, n in aliases["upsert"]])
    write_products(conn, products.get("upsert", []), version, fresh=fresh)
    if products.get("price"):
        conn.executemany("UPDATE products SET price_cents = ?, version = ? WHERE id = ?",
                         [(cents, version, pid) for pid, cents in products["price"]])
    if products.get("stock"):
        conn.executemany("UPDATE products SET in_stock = ?, version = ? WHERE id = ?",
                         [(flag, version, pid) for pid, flag in products["stock"]])
    if touched_names and not fresh:
        reindex_aliases(conn, touched_names)
    faq = body.get("faq", {})
    for fid in faq.get("delete", []):
        conn.execute("DELETE FROM faq WHERE id = ?", (fid,))
        conn.execute("DELETE FROM faq_fts WHERE rowid = ?", (fid,))
    for fid, question, answer, tags in faq.get("upsert", []):
        conn.execute("DELETE FROM faq_fts WHERE rowid = ?", (fid,))
        conn.execute("INSERT OR REPLACE INTO faq (id, question, answer, tags) VALUES (?, ?, ?, ?)",
                     (fid, question, answer, tags))
        conn.execute("INSERT INTO faq_fts (rowid, question, answer, tags) VALUES (?, ?, ?, ?)",
                     (fid, *map(fts_text, (question, answer, tags))))
    if body.get("families", {}).get("upsert"):
        conn.executemany("INSERT INTO families (name, family) VALUES (?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET family = excluded.family", body["families"]["upsert"])
    if "embeddings" in body:
        block = body["embeddings"]
        matrix = wire.decode_matrix(block["data"], len(block["ids"]), block["dim"])
        conn.executemany("INSERT OR REPLACE INTO embeddings (id, text, vec) VALUES (?, ?, ?)",
                         [(i, t, matrix[n].tobytes()) for n, (i, t) in enumerate(zip(block["ids"], block["texts"],
                                                                                     strict=True))])
        set_meta(conn, embedding_model=block["model"], embedding_dim=block["dim"])
    if "recs" in body:
        recs = body["recs"]
        items = wire.decode_matrix(recs["items"]["data"], len(recs["items"]["ids"]), recs["items"]["dim"])
        users = wire.decode_matrix(recs["users"]["data"], len(recs["users"]["ids"]), recs["users"]["dim"])
        for table in ("item_factors", "user_factors", "user_recent", "complements"):
            conn.execute(f"DELETE FROM {table}")  # factors from one training run are only valid together
        conn.executemany("INSERT OR REPLACE INTO complements (family, other, score) VALUES (?, ?, ?)",
                         recs.get("complements", []))
        blend = recs.get("blend", {})
        conn.execute("DELETE FROM catalog_meta WHERE key IN (?, ?)", tuple(f"recs_{w}" for w in wire.BLEND_WEIGHTS))
        set_meta(conn, **{f"recs_{name}": value for name, value in blend.items()})
        conn.executemany("INSERT INTO item_factors (product_id, vec) VALUES (?, ?)",
                         [(pid, items[n].tobytes()) for n, pid in enumerate(recs["items"]["ids"])])
        conn.executemany("INSERT INTO user_factors (user_id, vec) VALUES (?, ?)",
                         [(uid, users[n].tobytes()) for n, uid in enumerate(recs["users"]["ids"])])
        conn.executemany("INSERT OR REPLACE INTO user_recent (user_id, product_id, bought_at) VALUES (?, ?, ?)",
                         recs.get("recent", []))
        set_meta(conn, recs_dim=recs["items"]["dim"])


def _finish_meta(conn: sqlite3.Connection, header: wire.Header, signature: bytes) -> None:
    set_meta(conn, version=header.version, published_at=header.published_at, key_id=header.key_id,
             signature=signature.hex(), applied_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def _reject(reason: str, current: int, kind: str = "", payload_version: int = 0) -> ApplyResult:
    log.warning("catalog payload rejected (catalog stays at version %d): %s", current, reason)
    return ApplyResult("rejected", kind, current, payload_version, reason=reason)


def apply_delta(conn: sqlite3.Connection, payload: bytes, public_key: Ed25519PublicKey) -> ApplyResult:
    """Verify and apply one payload (delta, or a snapshot arriving on the same channel).

    Never raises for bad input: the result says what happened and why.
    """
    started = time.perf_counter()
    current = catalog_version(conn)
    try:
        header, body = wire.open_payload(payload, public_key)
        signature = wire.read_header(payload)[2]
    except wire.PayloadError as exc:
        return _reject(str(exc), current)
    if header.kind == "snapshot":
        return apply_snapshot(conn, payload, public_key)
    if header.version <= current:
        log.info("catalog delta v%d ignored: already at v%d", header.version, current)
        return ApplyResult("stale", "delta", current, header.version)
    if header.base_version != current:
        log.warning("catalog delta v%d needs base v%d but catalog is at v%d: snapshot needed",
                    header.version, header.base_version, current)
        return ApplyResult("snapshot_needed", "delta", current, header.version,
                           reason=f"gap: catalog at v{current}, delta is v{header.base_version}->v{header.version}")
    changes = _count_changes(body)
    log.info("applying catalog delta v%d -> v%d (%d changes)", current, header.version, changes)
    # A large delta dirties tens of thousands of pages; copying them from the WAL into the main
    # file (the automatic checkpoint after COMMIT) is housekeeping, not part of applying, so it
    # is left to checkpoint() at an idle moment (or to the next write).
    autocheckpoint = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if catalog_version(conn) != current:  # another writer won the race
            raise RuntimeError("catalog version changed while applying")
        _apply_body(conn, body, header.version, fresh=False)
        _finish_meta(conn, header, signature)
        conn.execute("COMMIT")
    except Exception as exc:  # a bad reference or a constraint: nothing of it stays
        conn.execute("ROLLBACK")
        return _reject(f"delta v{header.version} failed to apply: {exc}", current, "delta", header.version)
    finally:
        conn.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    seconds = time.perf_counter() - started
    log.info("catalog now at v%d (%d changes in %.3f s)", header.version, changes, seconds)
    return ApplyResult("applied", "delta", header.version, header.version, changes, seconds=seconds)


def checkpoint(conn: sqlite3.Connection) -> float:
    """Fold the WAL back into the catalog file (run when idle); returns the seconds it took."""
    started = time.perf_counter()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def _db_path(conn: sqlite3.Connection) -> Path:
    row = conn.execute("PRAGMA database_list").fetchone()
    if not row or not row[2]:
        raise ValueError("snapshots need a catalog stored in a file")
    return Path(row[2])


def apply_snapshot(conn: sqlite3.Connection, payload: bytes, public_key: Ed25519PublicKey) -> ApplyResult:
    """Bootstrap or re-base the catalog from a signed snapshot, atomically."""
    started = time.perf_counter()
    current = catalog_version(conn)
    try:
        header, body = wire.open_payload(payload, public_key)
        signature = wire.read_header(payload)[2]
    except wire.PayloadError as exc:
        return _reject(str(exc), current)
    if header.kind != "snapshot":
        return _reject("expected a snapshot, got a delta", current, header.kind, header.version)
    if header.version <= current:
        log.info("catalog snapshot v%d ignored: already at v%d", header.version, current)
        return ApplyResult("stale", "snapshot", current, header.version)
    try:
        live = _db_path(conn)
    except ValueError as exc:
        return _reject(str(exc), current, "snapshot", header.version)
    side = live.with_name(live.name + ".snapshot-tmp")
    for leftover in (side, Path(f"{side}-wal"), Path(f"{side}-shm")):
        leftover.unlink(missing_ok=True)
    build = connect(side)
    try:
        build.execute("PRAGMA journal_mode=OFF")  # a scratch file: if we die, it is thrown away
        build.execute("PRAGMA synchronous=OFF")
        migrate(build)
        build.execute("BEGIN")
        _apply_body(build, body, header.version, fresh=True)
        _finish_meta(build, header, signature)
        build.execute("COMMIT")
        build.backup(conn)  # one write transaction on the live catalog: all of it or none
    except Exception as exc:
        return _reject(f"snapshot v{header.version} failed to build: {exc}", current, "snapshot", header.version)
    finally:
        build.close()
        side.unlink(missing_ok=True)
    changes = _count_changes(body)
    seconds = time.perf_counter() - started
    log.info("catalog bootstrapped from snapshot v%d (%d rows in %.1f s)", header.version, changes, seconds)
    return ApplyResult("applied", "snapshot", header.version, header.version, changes, seconds=seconds)
