"""Signed snapshots and deltas: apply, tamper, gaps, malformed payloads, and a kill mid-apply."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cloud.catalog import changes, generate, publish, signing, store
from edge.catalog import wire
from edge.catalog.apply import apply_delta, load_public_key
from edge.catalog.schema import catalog_version, open_catalog
from tests.catalog_world import World, build_world
from tests.conftest import REPO


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return build_world(tmp_path_factory.mktemp("catalog_world"))


def _fingerprint(path: Path) -> str:
    """Hash of everything a user could see: products, FTS documents, meta version."""
    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    for table in ("products", "aliases", "item_factors"):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1"):
            digest.update(repr(row).encode())
    for row in conn.execute("SELECT rowid, * FROM products_fts ORDER BY rowid"):
        digest.update(repr(row).encode())
    digest.update(repr(conn.execute("SELECT value FROM catalog_meta WHERE key='version'").fetchone()).encode())
    conn.close()
    return digest.hexdigest()


def _next_delta(world: World, name: str, **edits: int) -> tuple[Path, bytes]:
    """A private master copy with edits, published as delta v2 (and snapshot v2)."""
    master = world.master_copy(f"{name}.db")
    conn = store.open_master(master)
    changes.random_changes(conn, seed=11, **edits)
    result = publish.publish(conn, signing.load_private_key(world.keys), world.root / name)
    conn.close()
    return master, Path(result["delta"]).read_bytes()


def test_snapshot_bootstrap_matches_master(world):
    dev = open_catalog(world.device)
    master = sqlite3.connect(world.master)
    cols = "id, sku, name, brand, price_cents, in_stock"
    assert set(dev.execute(f"SELECT {cols} FROM products")) == set(master.execute(f"SELECT {cols} FROM products"))
    assert catalog_version(dev) == 1
    assert dev.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert dev.execute("SELECT COUNT(*) FROM item_factors").fetchone()[0] > 0
    assert dev.execute("SELECT COUNT(*) FROM faq").fetchone()[0] >= 10


def test_delta_applies_once_and_matches_master(world):
    master, payload = _next_delta(world, "d_apply", prices=40, stock=30, new=25, delete_count=10, edits=15)
    device = world.device_copy("d_apply_dev.db")
    conn = open_catalog(device)
    key = load_public_key(world.public_key)
    result = apply_delta(conn, payload, key)
    assert result.status == "applied" and result.version == 2 and result.changes == 120
    cols = "id, sku, name, price_cents, in_stock, description"
    assert set(conn.execute(f"SELECT {cols} FROM products")) == set(
        sqlite3.connect(master).execute(f"SELECT {cols} FROM products"))
    # The FTS index follows: a deleted product is not found, a new one is.
    assert conn.execute("SELECT COUNT(*) FROM products_fts WHERE rowid NOT IN (SELECT id FROM products)"
                        ).fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == \
        conn.execute("SELECT COUNT(*) FROM products_fts").fetchone()[0]
    again = apply_delta(conn, payload, key)
    assert again.status == "stale" and again.version == 2


@pytest.mark.parametrize("where", ["header", "signature", "body", "truncated"])
def test_tampered_delta_is_rejected_and_nothing_changes(world, where, caplog):
    _master, payload = _next_delta(world, f"d_tamper_{where}", prices=20)
    device = world.device_copy(f"d_tamper_{where}.db")
    before = _fingerprint(device)
    data = bytearray(payload)
    header_end = len(wire.MAGIC) + 4 + int.from_bytes(data[8:12], "big")
    if where == "header":
        data[header_end - 5] ^= 0x01
    elif where == "signature":
        data[header_end + 10] ^= 0x80
    elif where == "body":
        data[-20] ^= 0xFF
    else:
        data = data[: len(data) - 100]
    conn = open_catalog(device)
    with caplog.at_level("WARNING"):
        result = apply_delta(conn, bytes(data), load_public_key(world.public_key))
    assert result.status == "rejected" and result.version == 1
    assert "rejected" in caplog.text and result.reason in caplog.text
    conn.close()
    assert _fingerprint(device) == before


def test_delta_signed_by_another_key_is_rejected(world, tmp_path):
    _master, payload = _next_delta(world, "d_otherkey", prices=5)
    other_private, _ = signing.generate_keypair(tmp_path / "other")
    header, _signed, _sig, compressed = wire.read_header(payload)
    import json
    import zlib
    body = json.loads(zlib.decompress(compressed))
    forged = wire.pack("delta", 2, 1, header.published_at, body, signing.load_private_key(other_private).sign,
                       header.key_id)  # even claiming the real key id
    conn = open_catalog(world.device_copy("d_otherkey.db"))
    result = apply_delta(conn, forged, load_public_key(world.public_key))
    assert result.status == "rejected" and "signature" in result.reason


def test_version_gap_asks_for_snapshot(world):
    master = world.master_copy("d_gap.db")
    conn = store.open_master(master)
    key = signing.load_private_key(world.keys)
    changes.random_changes(conn, prices=10, seed=1)
    publish.publish(conn, key, world.root / "d_gap")  # v2: the device misses it
    changes.random_changes(conn, prices=10, seed=2)
    v3 = publish.publish(conn, key, world.root / "d_gap")
    device = world.device_copy("d_gap_dev.db")
    before = _fingerprint(device)
    dev = open_catalog(device)
    result = apply_delta(dev, Path(v3["delta"]).read_bytes(), load_public_key(world.public_key))
    assert result.status == "snapshot_needed" and result.version == 1 and "gap" in result.reason
    dev.close()
    assert _fingerprint(device) == before
    # The snapshot brings it to v3 in one go.
    dev = open_catalog(device)
    result = apply_delta(dev, Path(v3["snapshot"]).read_bytes(), load_public_key(world.public_key))
    assert result.status == "applied" and catalog_version(dev) == 3
    assert set(dev.execute("SELECT id, price_cents FROM products")) == set(
        conn.execute("SELECT id, price_cents FROM products"))
    older = apply_delta(dev, world.snapshot.read_bytes(), load_public_key(world.public_key))
    assert older.status == "stale" and catalog_version(dev) == 3  # no rollback to an old snapshot


@pytest.mark.parametrize("body", [
    {"products": {"price": [[1, -5]]}},                       # negative price
    {"products": {"upsert": [[1, "SKU"]]}},                    # short row
    {"products": {"stock": [[1, 2]]}},                         # stock not 0/1
    {"products": {"frobnicate": []}},                          # unknown operation
    {"recs": {"items": {"dim": 4, "ids": [1], "data": "AAAA"}, "users": {}}},  # wrong matrix size
    ["not", "an", "object"],
])
def test_signed_but_malformed_body_is_rejected(world, body):
    """Even a correctly signed payload is checked field by field before anything is written."""
    key = signing.load_private_key(world.keys)
    payload = wire.pack("delta", 2, 1, "2026-01-01T00:00:00+00:00", body, key.sign, signing.signer_id(key))
    device = world.device_copy("d_malformed.db")
    before = _fingerprint(device)
    conn = open_catalog(device)
    result = apply_delta(conn, payload, load_public_key(world.public_key))
    assert result.status == "rejected" and result.reason
    conn.close()
    assert _fingerprint(device) == before


@pytest.mark.parametrize("payload", [b"", b"hello", wire.MAGIC + b"\xff\xff\xff\xff", os.urandom(500)])
def test_garbage_is_rejected(world, payload):
    conn = open_catalog(world.device_copy("d_garbage.db"))
    result = apply_delta(conn, payload, load_public_key(world.public_key))
    assert result.status == "rejected" and catalog_version(conn) == 1


def test_kill_during_apply_keeps_previous_version(tmp_path):
    """SIGKILL a real `python -m edge catalog apply` mid-transaction: v1 stays, intact; the retry works."""
    master = tmp_path / "m.db"
    generate.generate(master, 20_000, seed=5)
    private, public = signing.generate_keypair(tmp_path / "keys")
    conn = store.open_master(master)
    v1 = publish.publish(conn, signing.load_private_key(private), tmp_path / "out")
    changes.random_changes(conn, edits=10_000, prices=2_000, new=8_000, seed=3)
    v2 = publish.publish(conn, signing.load_private_key(private), tmp_path / "out", snapshot=False)
    device = tmp_path / "device.db"
    dev = open_catalog(device)
    assert apply_delta(dev, Path(v1["snapshot"]).read_bytes(), load_public_key(public)).status == "applied"
    dev.close()
    before = _fingerprint(device)
    env = {**os.environ, "VOICESHOP_CATALOG__PUBLIC_KEY_FILE": str(public)}
    cmd = [sys.executable, "-m", "edge", "catalog", "-v", "apply", v2["delta"], "--db", str(device)]
    # How long the transaction runs on this machine (an uninterrupted apply to a copy): on a quiet machine
    # the whole delta went in within 0.25 s, so fixed delays killed it after its commit. Kill at a fifth
    # and at half of that instead, inside the transaction whatever the CPU.
    spare = tmp_path / "spare.db"
    shutil.copyfile(device, spare)
    timed = subprocess.Popen([*cmd[:-1], str(spare)], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    assert timed.stderr is not None
    for line in timed.stderr:
        if "applying catalog delta" in line:
            started = time.monotonic()
            break
    timed.wait(timeout=120)
    took = time.monotonic() - started
    assert timed.returncode == 0
    after = _fingerprint(spare)  # v2, applied whole
    v1_copy = tmp_path / "v1.db"
    shutil.copyfile(device, v1_copy)
    landed_inside = 0
    # A kill is timed from the measured run, and load can move it past the commit: whatever the moment, the
    # catalog must be v1 or v2 whole and intact, and at least one kill must land inside the transaction.
    for delay in (0.05 * took, 0.2 * took, 0.5 * took):
        shutil.copyfile(v1_copy, device)
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        for line in proc.stderr:
            if "applying catalog delta" in line:
                break
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        check = sqlite3.connect(device)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.execute("INSERT INTO products_fts(products_fts) VALUES ('integrity-check')")
        check.close()
        seen = _fingerprint(device)
        assert seen in (before, after), "a kill left a mix of v1 and v2"
        landed_inside += proc.returncode == -signal.SIGKILL and seen == before
    assert landed_inside, "no kill landed inside the transaction: make the delta larger"
    shutil.copyfile(v1_copy, device)
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    dev = open_catalog(device)
    assert catalog_version(dev) == 2
    assert set(dev.execute("SELECT id, price_cents, description FROM products")) == set(
        conn.execute("SELECT id, price_cents, description FROM products"))
