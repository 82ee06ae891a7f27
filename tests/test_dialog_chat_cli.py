"""`python -m edge chat` as a newcomer meets it: a clear message (exit 2, no traceback) when there is no
catalog, the owner's unlock, and --json that is one record per turn and nothing else."""

from __future__ import annotations

import json
import sqlite3

import pytest

from edge.dialog.guard import PurchaseGuard
from edge.simulation.world import demo_catalog, device_dir
from tests.conftest import MODELS_DIR


def test_no_catalog_says_how_to_load_one(cli, tmp_path):
    result = cli("edge", "chat", "--json", "--db", str(tmp_path / "nowhere"), stdin="find apples\n")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for hint in ("No catalog at", "--demo-catalog", "python -m cloud catalog generate", "python -m edge catalog"):
        assert hint in result.stderr, hint
    assert not (tmp_path / "nowhere" / "catalog.db").exists(), "the check must not create an empty catalog"


def test_empty_catalog_says_so(cli, tmp_path):
    from edge.catalog.schema import open_catalog

    open_catalog(tmp_path / "catalog.db").close()
    result = cli("edge", "chat", "--db", str(tmp_path), stdin="find apples\n")
    assert result.returncode == 2 and "has no products" in result.stderr and "Traceback" not in result.stderr


def test_demo_catalog_into_a_data_dir_that_is_a_file(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("edge", "chat", "--db", str(blocker), "--demo-catalog", stdin="find apples\n")
    assert result.returncode == 2 and result.stdout == ""
    assert f"chat: cannot build the demo catalog in {blocker}" in result.stderr and "Traceback" not in result.stderr


def test_unlock_purchasing_resets_the_pin_lock(cli, tmp_path):
    guard = PurchaseGuard(tmp_path / "dialog.sqlite", "1234")
    for wrong in ("0000", "1111", "2222"):
        guard.check(wrong)
    assert guard.locked
    result = cli("edge", "chat", "--db", str(tmp_path), "--unlock-purchasing",
                 env={"VOICESHOP_DIALOG__PIN": "1234"})
    assert result.returncode == 0, result.stderr
    assert not PurchaseGuard(tmp_path / "dialog.sqlite", "1234").locked


@pytest.mark.slow
def test_json_is_one_record_per_turn_and_bad_lines_lose_nothing(cli, bundle, tmp_path):
    bundle("nlu")
    data = device_dir(demo_catalog(MODELS_DIR), tmp_path)
    lines = ["add two bags of fuji apples", "\x00\x01 ~~ ##", "é" * 3000, "what's in my cart", ""]
    result = cli("edge", "chat", "--json", "--db", str(data), stdin="\n".join(lines) + "\n",
                 env={"VOICESHOP_BROKER__URL": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(lines)
    for record in records:
        assert set(record) >= {"user", "intent", "slots", "reply", "state", "actions"}
    assert records[0]["state"]["cart"], records[0]
    assert records[3]["state"]["cart"] == records[0]["state"]["cart"], "a garbage line changed the cart"
    assert "the total is" in records[3]["reply"].lower()
    with sqlite3.connect(data / "outbox.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


@pytest.mark.slow
def test_a_malformed_broker_url_is_a_clear_message(cli, bundle, tmp_path):
    bundle("nlu")
    data = device_dir(demo_catalog(MODELS_DIR), tmp_path)
    result = cli("edge", "chat", "--db", str(data), "--broker", "http://nope:99", stdin="find apples\n")
    assert result.returncode == 2 and result.stdout == ""
    assert "mqtt://" in result.stderr and "Traceback" not in result.stderr
