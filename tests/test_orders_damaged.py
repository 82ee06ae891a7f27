"""A damaged outbox file: said so in plain words, set aside with every order in it, never deleted, never
"busy, retrying". Real SQLite files damaged on disk the way flash cards fail (garbage pages)."""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from edge.orders import Outbox, OutboxDamaged
from edge.orders.db import is_damage
from tests.orders_rig import confirm_orders, device_client, device_env, make_catalog

DAMAGE_WORDS = ("is damaged", "moved aside to", "nothing was deleted", ".recover")


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    return make_catalog(tmp_path_factory.mktemp("damaged") / "master.sqlite")


def outbox_with_orders(path: Path, products, count: int = 40) -> list[str]:
    box = Outbox(path)
    keys = confirm_orders(box, products, count, seed=5)
    box.close()  # the last connection checkpoints the WAL into the main file
    return keys


def smash_pages(path: Path) -> bytes:
    """Overwrite everything after the first page (the header survives, the b-trees do not); return the bytes."""
    data = bytearray(path.read_bytes())
    data[4096:] = os.urandom(len(data) - 4096)
    path.write_bytes(bytes(data))
    return bytes(data)


def test_not_a_database_is_set_aside_whole_and_a_fresh_outbox_follows(tmp_path, caplog):
    path = tmp_path / "outbox.sqlite"
    garbage = b"this is not an sqlite file, it is what a bad card gave back" * 100
    path.write_bytes(garbage)
    (tmp_path / "outbox.sqlite-wal").write_bytes(b"wal bytes")
    with pytest.raises(OutboxDamaged) as info:
        Outbox(path)
    message, kept = str(info.value), info.value.kept
    assert all(word in message for word in DAMAGE_WORDS), message
    assert kept is not None and kept.name.startswith("outbox.sqlite.corrupt-") and str(kept) in message
    assert kept.read_bytes() == garbage  # set aside byte for byte, nothing deleted
    assert Path(f"{kept}-wal").read_bytes() == b"wal bytes"
    assert not path.exists()
    with caplog.at_level(logging.WARNING, logger="edge.orders"):
        box = Outbox(path)  # the next start begins an empty outbox ...
    assert box.counts()["confirmed"] == 0
    box.close()
    assert any(str(kept) in r.getMessage() for r in caplog.records)  # ... and keeps saying where the old one is


def test_damaged_pages_are_found_at_start_up(tmp_path, products):
    path = tmp_path / "outbox.sqlite"
    outbox_with_orders(path, products)
    smashed = smash_pages(path)
    with pytest.raises(OutboxDamaged, match="malformed") as info:
        Outbox(path)
    assert info.value.kept.read_bytes() == smashed


def test_orders_list_and_sync_say_damaged_and_exit_1(tmp_path, products, cli):
    data = tmp_path / "data"
    outbox_with_orders(data / "outbox.sqlite", products)
    smash_pages(data / "outbox.sqlite")
    env = device_env(data, "mqtt://127.0.0.1:1")
    listed = cli("edge", "orders", "list", "--json", env=env)
    assert listed.returncode == 1 and listed.stdout == ""
    assert "Traceback" not in listed.stderr and "DatabaseError" not in listed.stderr
    assert all(word in listed.stderr for word in DAMAGE_WORDS), listed.stderr
    kept = [p for p in data.iterdir() if p.name.startswith("outbox.sqlite.corrupt-")
            and not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1
    again = cli("edge", "orders", "list", env=env)
    assert again.returncode == 0 and "no orders" in again.stdout
    assert str(kept[0]) in again.stderr  # the set-aside file is still pointed at
    outbox_with_orders(data / "outbox.sqlite", products)  # orders in the new outbox, then it fails too
    smash_pages(data / "outbox.sqlite")
    synced = cli("edge", "orders", "sync", "--once", "--timeout", "5", env=env)
    assert synced.returncode == 1 and "busy" not in synced.stderr and "Traceback" not in synced.stderr
    assert "is damaged" in synced.stderr
    assert len([p for p in data.iterdir() if p.name.startswith("outbox.sqlite.corrupt-")
                and not p.name.endswith(("-wal", "-shm"))]) == 2


@pytest.mark.broker
def test_sync_loop_stops_on_damage_found_mid_run_instead_of_retrying_as_busy(tmp_path, products, caplog):
    path = tmp_path / "outbox.sqlite"
    outbox_with_orders(path, products)
    box = Outbox(path)  # opened while intact ...
    smash_pages(path)  # ... then the card fails under it
    with sqlite3.connect(path) as other:  # another writer: the open connection re-reads pages from disk
        other.execute("PRAGMA user_version=3")
    client = device_client(box, "mqtt://127.0.0.1:1883", f"dmg-{uuid.uuid4().hex[:8]}")
    with caplog.at_level(logging.INFO):
        settled = client.run_until_settled(20)
    box.close()
    messages = [r.getMessage() for r in caplog.records]
    assert not settled
    assert any("order sync stopped" in m and "is damaged" in m for m in messages), messages
    assert not any("busy" in m for m in messages)


def test_busy_and_full_are_not_called_damage(tmp_path):
    assert not is_damage(sqlite3.OperationalError("database is locked"))
    assert not is_damage(ValueError("malformed"))
    path = tmp_path / "x.sqlite"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(sqlite3.DatabaseError) as info:
        sqlite3.connect(path).execute("PRAGMA user_version")
    assert is_damage(info.value)


@pytest.mark.slow
def test_chat_on_a_damaged_outbox_says_so_and_exits_1(tmp_path, products, cli, bundle):
    from edge.simulation.world import demo_catalog, device_dir
    from tests.conftest import MODELS_DIR

    bundle("nlu")
    data = device_dir(demo_catalog(MODELS_DIR), tmp_path)
    outbox_with_orders(data / "outbox.sqlite", products)
    smashed = smash_pages(data / "outbox.sqlite")
    result = cli("edge", "chat", "--json", "--db", str(data), stdin="find apples\n",
                 env={"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "VOICESHOP_BROKER__URL": ""})
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert all(word in result.stderr for word in DAMAGE_WORDS), result.stderr
    kept = [p for p in data.iterdir() if p.name.startswith("outbox.sqlite.corrupt-") and "-" not in p.name[-4:]]
    assert [p.read_bytes() for p in kept] == [smashed]
    again = cli("edge", "chat", "--json", "--db", str(data), stdin="find apples\n",
                env={"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "VOICESHOP_BROKER__URL": ""})
    assert again.returncode == 0 and len(again.stdout.splitlines()) == 1, again.stderr[-2000:]
    assert str(kept[0]) in again.stderr  # still pointed at
