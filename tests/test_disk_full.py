"""A full disk is called a full disk: at start-up (catalog, outbox), during checkout, during sync.

The disk is a real tmpfs filled to the last byte, so the errors are the kernel's ENOSPC as SQLite meets
it (SQLITE_FULL on a write, "disk I/O error" when a WAL database cannot create its -shm at open).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from edge.dialog.session import catalog_problem
from edge.orders import Outbox
from edge.simulation.world import demo_catalog, device_dir
from edge.storage import StorageFull, is_disk_full
from tests.conftest import MODELS_DIR, REPO
from tests.disk_rig import small_disk
from tests.orders_rig import device_env

LINE = {"sku": "SKU-1", "name": "apples", "quantity": 2, "unit_price_cents": 299}


def test_outbox_on_a_full_disk_says_so_and_loses_nothing(tmp_path):
    with small_disk(tmp_path / "disk", 2 * 1024 * 1024) as disk:
        path = disk.path / "outbox.sqlite"
        box = Outbox(path)
        first = box.confirm([LINE])
        disk.fill()
        with pytest.raises(sqlite3.OperationalError) as info:
            box.confirm([LINE])  # the write fails with the disk's error, not "cannot rollback"
        assert "full" in str(info.value) and is_disk_full(info.value, path)
        assert box.counts()["confirmed"] == 1 and box.get(first.id).state == "confirmed"
        box.close()
        assert not [p for p in disk.path.iterdir() if ".corrupt-" in p.name]  # full is not damaged
        disk.free()
        box = Outbox(path)
        assert box.confirm([LINE]).state == "confirmed" and box.counts()["confirmed"] == 2
        box.close()


def test_orders_cli_and_catalog_check_on_a_full_disk(tmp_path, cli):
    with small_disk(tmp_path / "disk", 2 * 1024 * 1024) as disk:
        data = disk.path / "data"
        Outbox(data / "outbox.sqlite").close()
        conn = sqlite3.connect(data / "catalog.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE products (id INTEGER)")
        conn.execute("INSERT INTO products VALUES (1)")
        conn.close()
        disk.fill()
        with pytest.raises(StorageFull) as opened:
            Outbox(data / "outbox.sqlite")  # a WAL database cannot create its -shm: "disk I/O error"
        assert "is full" in str(opened.value) and "free some space" in str(opened.value)
        assert (data / "outbox.sqlite").is_file()
        assert not [p for p in data.iterdir() if ".corrupt-" in p.name]  # full is not damaged: nothing set aside
        listed = cli("edge", "orders", "list", env=device_env(data))
        assert listed.returncode == 1 and "Traceback" not in listed.stderr
        assert "is full" in listed.stderr and "free some space" in listed.stderr, listed.stderr
        problem = catalog_problem(data)
        assert problem is not None and "is full" in problem
        assert "cannot be read" not in problem and "catalog generate" not in problem  # no rebuild advice
        disk.free()
        assert catalog_problem(data) is None


@pytest.mark.slow
def test_checkout_on_a_full_disk_says_so_and_orders_nothing_then_works(tmp_path, bundle):
    bundle("nlu")
    catalog = demo_catalog(MODELS_DIR)
    size = sum(p.stat().st_size for p in catalog.glob("catalog.db*")) + 12 * 1024 * 1024
    with small_disk(tmp_path / "disk", size) as disk:
        data = device_dir(catalog, disk.path)
        env = {**device_env(data), "VOICESHOP_MODELS__DIR": str(MODELS_DIR), "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-m", "edge", "chat", "--json", "--db", str(data)], cwd=REPO,
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

        def turn(line: str) -> dict:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            out = proc.stdout.readline()
            assert out, proc.stderr.read()[-3000:]
            return json.loads(out)

        def actions(record: dict) -> list[str]:
            return [a["type"] for a in record["actions"]]

        try:
            assert "add_to_cart" in actions(turn("add two bags of fuji apples"))
            assert "read_back" in actions(turn("check out"))
            disk.fill()
            full = turn("yes")
            assert "order_queued" not in actions(full)
            assert "storage is full" in full["reply"] and "Nothing was ordered" in full["reply"], full
            assert {"type": "refused", "reason": "storage_full"} in full["actions"]
            disk.free()
            assert "read_back" in actions(turn("check out"))  # the cart was kept
            placed = turn("yes")
            assert "order_queued" in actions(placed), placed
        finally:
            proc.stdin.close()
            proc.wait(120)
        stderr = proc.stderr.read()
        assert proc.returncode == 0, stderr[-3000:]
        assert "Traceback" not in stderr and "something went wrong" not in stderr
        assert stderr.count("is full") == 1, stderr[-3000:]  # one clear line, not two tracebacks
        orders = [json.loads(line) for line in
                  subprocess.run([sys.executable, "-m", "edge", "orders", "list", "--json"], cwd=REPO,
                                 env=device_env(data), capture_output=True, text=True).stdout.splitlines()]
        assert len(orders) == 1


@pytest.mark.slow
def test_starting_chat_on_a_full_disk_names_the_disk_not_the_catalog(tmp_path, cli, bundle):
    bundle("nlu")
    catalog = demo_catalog(MODELS_DIR)
    size = sum(p.stat().st_size for p in catalog.glob("catalog.db*")) + 4 * 1024 * 1024
    with small_disk(tmp_path / "disk", size) as disk:
        data = device_dir(catalog, disk.path)
        disk.fill()
        result = cli("edge", "chat", "--json", "--db", str(data), stdin="find apples\n",
                     env={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)})
        assert result.returncode != 0 and result.stdout == "" and "Traceback" not in result.stderr
        assert "is full" in result.stderr and "cannot be read" not in result.stderr
        assert "catalog generate" not in result.stderr, result.stderr
    shutil.rmtree(tmp_path / "disk", ignore_errors=True)


def test_orders_cancel_while_the_device_runs_on_a_full_disk(tmp_path, cli):
    with small_disk(tmp_path / "disk", 2 * 1024 * 1024) as disk:
        data = disk.path / "data"
        device = Outbox(data / "outbox.sqlite")  # the device loop holds the outbox open (its -shm exists)
        order = device.confirm([LINE])
        disk.fill()
        result = cli("edge", "orders", "cancel", str(order.id), env=device_env(data))
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "is full" in result.stderr and "cannot record the change" in result.stderr, result.stderr
        assert device.get(order.id).state == "confirmed"  # nothing half-done
        disk.free()
        device.close()
