"""Issue 15 item 2: the price confirmed is the price charged.

The cloud re-prices every order from its own catalog. When its total is above the total the user
said yes to, it refuses the order (Ack code price_increased, with the new total); the device tells
the user the new total and asks again, and a yes places a new order at that total, through the same
spending limit and PIN. A lower total goes through and is said. Real NLU, real outbox, real
Mosquitto and the real cloud ingest worker; the cloud's catalog is a copy of the demo master with
one price changed.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from cloud.serve import Store
from edge.config import load_settings
from edge.dialog.session import ShopSession
from edge.simulation.world import demo_catalog, device_dir
from tests.brokers import Mosquitto
from tests.conftest import MODELS_DIR
from tests.orders_rig import cloud_worker

pytestmark = [pytest.mark.slow, pytest.mark.broker]


@pytest.fixture(scope="module")
def world(bundle):
    bundle("nlu")
    return demo_catalog(MODELS_DIR)


def _cloud_catalog(world: Path, tmp: Path, factor: float) -> tuple[Path, int]:
    """A copy of the demo master catalog with every Fuji apples product repriced by factor; returns
    it and the new price of the one the device offers for "add one bag of fuji apples"."""
    master = tmp / "master.db"
    for suffix in ("", "-wal", "-shm"):
        src = world / "demo-cloud" / f"master.db{suffix}"
        if src.exists():
            shutil.copyfile(src, f"{master}{suffix}")
    with sqlite3.connect(master) as conn:
        before = dict(conn.execute("SELECT sku, price_cents FROM products WHERE name = 'Fuji apples'").fetchall())
        conn.executemany("UPDATE products SET price_cents = ? WHERE sku = ?",
                         [(round(price * factor), sku) for sku, price in before.items()])
    offered = _offered_sku(world, tmp)
    return master, round(before[offered] * factor)


def _offered_sku(world: Path, tmp: Path) -> str:
    """The SKU the device's dialogue adds for "add one bag of fuji apples" (a session without a broker)."""
    session = _session(world, tmp / "probe", "", "dev-probe")
    try:
        turn = session.turn("add one bag of fuji apples")
        return next(a["sku"] for a in turn.reply.actions if a["type"] == "add_to_cart")
    finally:
        session.close()


def _session(world: Path, tmp: Path, url: str, device_id: str, **dialog: str) -> ShopSession:
    env = {"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "VOICESHOP_DEVICE__ID": device_id,
           "VOICESHOP_DIALOG__SYNC_WAIT_SECONDS": "10"}
    env.update({f"VOICESHOP_DIALOG__{k.upper()}": v for k, v in dialog.items()})
    return ShopSession(load_settings(environ=env), device_dir(world, tmp), broker_url=url)


def _types(turn) -> list[str]:
    return [a["type"] for a in turn.reply.actions]


def _buy(session: ShopSession):
    session.turn("add one bag of fuji apples")
    read_back = session.turn("check out")
    assert "read_back" in _types(read_back), read_back.reply.text
    return read_back, session.turn("yes")


def test_a_higher_cloud_price_is_said_and_asked_again_never_charged_silently(world, tmp_path):
    master, new_price = _cloud_catalog(world, tmp_path, 6.0)
    with Mosquitto(tmp_path / "broker") as broker, cloud_worker(broker.url, master, db=tmp_path / "cloud.db"):
        session = _session(world, tmp_path, broker.url, "dev-price-up")
        try:
            read_back, placed = _buy(session)
            quoted = next(a["total_cents"] for a in read_back.reply.actions if a["type"] == "read_back")
            assert quoted < new_price
            text = placed.reply.text
            assert "sent to the store" not in text, text
            assert f"${new_price // 100}.{new_price % 100:02d}" in text and "yes or no" in text.lower(), text
            assert "price_changed" in _types(placed) and placed.reply.expects_answer
            assert session.dialog.state.pending is not None and session.dialog.state.pending.kind == "checkout"
            first = session.outbox.list()[0]
            assert first.state == "cancelled" and first.cloud_code == "price_increased"
            assert first.cloud_total_cents == new_price
            again = session.turn("yes")  # the yes to the new total: a new order at that total
            assert "order_queued" in _types(again) and "sent to the store" in again.reply.text, again.reply.text
        finally:
            session.close()
    store = Store.open(db=tmp_path / "cloud.db")
    try:
        stored = store.list_orders()
    finally:
        store.close()
    assert [(o["status"], o["code"]) for o in stored] == [("accepted", ""), ("rejected", "price_increased")]
    assert stored[0]["total_cents"] == new_price  # charged exactly what the user said yes to
    assert stored[0]["device_total_cents"] == new_price


def test_no_to_the_new_price_orders_nothing_and_the_limit_sees_the_new_total(world, tmp_path):
    master, new_price = _cloud_catalog(world, tmp_path, 6.0)
    with Mosquitto(tmp_path / "broker") as broker, cloud_worker(broker.url, master, db=tmp_path / "cloud.db"):
        # The read-back is under the limit, the charged total is over it, and no PIN is set.
        session = _session(world, tmp_path, broker.url, "dev-price-limit",
                           spending_limit_cents=str(new_price - 1))
        try:
            _read_back, placed = _buy(session)
            assert "price_changed" in _types(placed)
            refused = session.turn("yes")
            assert "refused" in _types(refused) and "order_queued" not in _types(refused), refused.reply.text
            _read_back, placed = _buy(session)
            assert "price_changed" in _types(placed)
            stopped = session.turn("no")
            assert "order_queued" not in _types(stopped) and session.dialog.state.pending is None
            status = session.turn("where is my order")  # said again when asked later
            assert "did not take it" in status.reply.text and f"{new_price % 100:02d}" in status.reply.text, \
                status.reply.text
            assert [o.state for o in session.outbox.list()] == ["cancelled", "cancelled"]
        finally:
            session.close()


def test_a_lower_cloud_price_goes_through_and_is_said(world, tmp_path):
    master, new_price = _cloud_catalog(world, tmp_path, 0.5)
    with Mosquitto(tmp_path / "broker") as broker, cloud_worker(broker.url, master, db=tmp_path / "cloud.db"):
        session = _session(world, tmp_path, broker.url, "dev-price-down")
        try:
            _read_back, placed = _buy(session)
            order = session.outbox.list()[0]
        finally:
            session.close()
    assert "order_queued" in _types(placed) and "sent to the store" in placed.reply.text
    assert f"${new_price // 100}.{new_price % 100:02d}" in placed.reply.text, placed.reply.text
    assert order.state == "acked" and order.cloud_total_cents == new_price < order.total_cents
