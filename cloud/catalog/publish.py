"""Turn the master catalog into signed snapshots and deltas.

``publish`` is what a release does: embed product texts that have no vector yet (when the NLU
bundle is there), fold the pending changes into a delta from the last published version, write a
full snapshot of the new version, and only then advance ``published_version``. A device that is
one version behind takes the delta; one further behind (or new) takes the snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud.catalog import store
from cloud.catalog.embed import BundleMissing, SentenceEncoder, product_text
from cloud.catalog.signing import signer_id
from voiceshop_common import catalog_wire as wire  # shared wire format

log = logging.getLogger(__name__)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def embed_missing(conn: sqlite3.Connection, encoder: SentenceEncoder) -> int:
    """Give every product without a vector one (shared by all SKUs with the same text)."""
    model = store.get_meta(conn, "embedding_model")
    if model and model != encoder.model_id:
        log.warning("encoder changed (%s -> %s): re-embedding every product", model[:12], encoder.model_id[:12])
        conn.execute("BEGIN")
        conn.execute("DELETE FROM embeddings")
        conn.execute("UPDATE products SET embedding_id = NULL")
        conn.execute("COMMIT")
    rows = conn.execute("SELECT id, name, category, tags FROM products WHERE embedding_id IS NULL").fetchall()
    if not rows:
        return 0
    texts = {pid: product_text(name, category, tags) for pid, name, category, tags in rows}
    known = dict(conn.execute("SELECT text, id FROM embeddings"))
    new_texts = sorted(set(texts.values()) - set(known))
    vectors = encoder.encode(new_texts) if new_texts else np.zeros((0, encoder.dim), np.float32)
    version = store.pending_version(conn)
    conn.execute("BEGIN")
    next_id = (conn.execute("SELECT MAX(id) FROM embeddings").fetchone()[0] or 0) + 1
    for offset, text in enumerate(new_texts):
        conn.execute("INSERT INTO embeddings (id, text, vec, version) VALUES (?, ?, ?, ?)",
                     (next_id + offset, text, vectors[offset].astype("<f2").tobytes(), version))
        known[text] = next_id + offset
    conn.executemany("UPDATE products SET embedding_id = ? WHERE id = ?", [(known[t], pid) for pid, t in texts.items()])
    if store.published_version(conn) > 0:
        store.record(conn, "upsert", texts)
    store.set_meta(conn, embedding_model=encoder.model_id, embedding_dim=encoder.dim)
    conn.execute("COMMIT")
    log.info("embedded %d new product texts for %d products", len(new_texts), len(texts))
    return len(new_texts)


def _embeddings_block(conn: sqlite3.Connection, min_version: int | None) -> dict[str, Any] | None:
    sql = "SELECT id, text, vec FROM embeddings" + (" WHERE version >= ?" if min_version else "") + " ORDER BY id"
    rows = conn.execute(sql, (min_version,) if min_version else ()).fetchall()
    dim = int(store.get_meta(conn, "embedding_dim", "0"))
    if not rows or not dim:
        return None
    matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f2").reshape(len(rows), dim)
    return {"model": store.get_meta(conn, "embedding_model"), "dim": dim, "ids": [r[0] for r in rows],
            "texts": [r[1] for r in rows], "data": wire.encode_matrix(matrix)}


def _factor_block(rows: list[tuple[Any, bytes]]) -> dict[str, Any]:
    dim = len(rows[0][1]) // 2 if rows else 1
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f2").reshape(len(rows), dim)
    return {"dim": dim, "ids": [r[0] for r in rows], "data": wire.encode_matrix(matrix)}


def _recs_block(conn: sqlite3.Connection) -> dict[str, Any] | None:
    items = conn.execute("SELECT product_id, vec FROM item_factors WHERE product_id IN (SELECT id FROM products) "
                         "ORDER BY product_id").fetchall()
    users = conn.execute("SELECT user_id, vec FROM user_factors ORDER BY user_id").fetchall()
    if not items or not users:
        return None
    recent = [list(r) for r in conn.execute("SELECT user_id, product_id, bought_at FROM user_recent "
                                            "WHERE product_id IN (SELECT id FROM products) ORDER BY user_id")]
    complements = [list(r) for r in conn.execute("SELECT family, other, score FROM complements "
                                                 "ORDER BY family, score DESC, other")]
    blend = {name: float(value) for name in wire.BLEND_WEIGHTS
             if (value := store.get_meta(conn, f"recs_{name}"))}
    return {"items": _factor_block(items), "users": _factor_block(users), "recent": recent,
            "complements": complements, "blend": blend}


def _families_block(conn: sqlite3.Connection, names: set[str] | None) -> dict[str, Any]:
    """The family of every product name (or of ``names``): what "the same thing" means on the device."""
    if names is None:
        return {"upsert": [list(r) for r in conn.execute("SELECT name, family FROM families WHERE name IN "
                                                         "(SELECT name FROM products) ORDER BY name")]}
    wanted = sorted(names)
    rows: list[list[Any]] = []
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        rows += [list(r) for r in conn.execute(f"SELECT name, family FROM families WHERE name IN "
                                               f"({','.join('?' * len(chunk))}) ORDER BY name", chunk)]
    return {"upsert": rows}


def snapshot_body(conn: sqlite3.Connection) -> dict[str, Any]:
    body: dict[str, Any] = {
        "products": {"upsert": store.product_rows(conn)},
        "aliases": {"upsert": [list(r) for r in conn.execute("SELECT alias, name FROM aliases ORDER BY alias")]},
        "faq": {"upsert": [list(r) for r in conn.execute("SELECT id, question, answer, tags FROM faq ORDER BY id")]},
        "families": _families_block(conn, None),
    }
    embeddings = _embeddings_block(conn, None)
    if embeddings:
        body["embeddings"] = embeddings
    recs = _recs_block(conn)
    if recs:
        body["recs"] = recs
    return body


def delta_body(conn: sqlite3.Connection) -> dict[str, Any]:
    pending = store.pending_changes(conn)
    prices = store.product_rows(conn, pending["price"])
    stock = store.product_rows(conn, pending["stock"])
    upserts = store.product_rows(conn, pending["upsert"])
    body: dict[str, Any] = {"products": {
        "upsert": upserts,
        "delete": sorted(pending["delete"]),
        "price": [[r[0], r[7]] for r in prices],
        "stock": [[r[0], r[9]] for r in stock],
    }}
    families = _families_block(conn, {r[2] for r in upserts})
    if families["upsert"]:
        body["families"] = families
    embeddings = _embeddings_block(conn, store.pending_version(conn))
    if embeddings:
        body["embeddings"] = embeddings
    if store.get_meta(conn, "recs_version", "0") != store.get_meta(conn, "recs_published", "0"):
        recs = _recs_block(conn)
        if recs:
            body["recs"] = recs
    return body


def _sign(kind: str, version: int, base: int, body: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    wire.validate_body(body)  # never publish what a device would reject
    return wire.pack(kind, version, base, _now(), body, key.sign, signer_id(key))


def write_snapshot(conn: sqlite3.Connection, key: Ed25519PrivateKey, out: Path) -> int:
    """Sign the published state as a snapshot; refuses while unpublished changes exist."""
    version = store.published_version(conn)
    if version == 0:
        raise RuntimeError("nothing published yet: run `python -m cloud catalog publish` first")
    if any(store.pending_changes(conn).values()):
        raise RuntimeError("the master has unpublished changes: run `python -m cloud catalog publish` first")
    out.write_bytes(_sign("snapshot", version, 0, snapshot_body(conn), key))
    return version


def publish(conn: sqlite3.Connection, key: Ed25519PrivateKey, out_dir: Path, *, encoder: SentenceEncoder | None = None,
            bundle_dir: Path | None = None, snapshot: bool = True, delta: bool = True) -> dict[str, Any]:
    """Release the next version: embeddings, delta (if there is a base), snapshot; then advance."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if encoder is None and bundle_dir is not None:
        try:
            encoder = SentenceEncoder(bundle_dir)
        except BundleMissing as exc:
            log.warning("publishing without embeddings (devices use lexical + fuzzy search): %s", exc)
    embedded = embed_missing(conn, encoder) if encoder else 0
    base = store.published_version(conn)
    version = base + 1
    result: dict[str, Any] = {"version": version, "base_version": base, "embedded_texts": embedded}
    if delta and base > 0:
        body = delta_body(conn)
        path = out_dir / f"delta-{version:06d}.vscat"
        path.write_bytes(_sign("delta", version, base, body, key))
        result["delta"] = str(path)
        result["delta_changes"] = sum(len(v) for v in body["products"].values())
    if snapshot or base == 0:
        path = out_dir / f"snapshot-{version:06d}.vscat"
        path.write_bytes(_sign("snapshot", version, 0, snapshot_body(conn), key))
        result["snapshot"] = str(path)
    conn.execute("BEGIN")
    store.set_meta(conn, published_version=version, published_at=_now(),
                   recs_published=store.get_meta(conn, "recs_version", "0"))
    conn.execute("COMMIT")
    return result
