"""An order's confirmation is ready as soon as the order is durable; whether it reached the store is
said after (ShopSession.turn(settle=False), then settle), so the device never makes the user wait on
the network before it starts speaking. Real NLU, real outbox, real Mosquitto and the real cloud
ingest worker; offline is a broker port nobody listens on.
"""

from __future__ import annotations

import pytest

from edge.config import load_settings
from edge.dialog.session import ShopSession
from edge.simulation.world import demo_catalog, device_dir
from tests.brokers import Mosquitto
from tests.conftest import MODELS_DIR
from tests.orders_rig import cloud_worker

pytestmark = [pytest.mark.slow, pytest.mark.broker]

SHOPPING = ["add two bags of fuji apples", "check out", "yes"]


@pytest.fixture(scope="module")
def world(bundle):
    bundle("nlu")
    return demo_catalog(MODELS_DIR)


def _session(world, tmp_path, url: str, device_id: str) -> ShopSession:
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "VOICESHOP_DEVICE__ID": device_id,
                                      "VOICESHOP_DIALOG__SYNC_WAIT_SECONDS": "10"})
    return ShopSession(settings, device_dir(world, tmp_path), broker_url=url)


def _confirm(session: ShopSession):
    for line in SHOPPING[:-1]:
        turn = session.turn(line, settle=False)
        assert turn.unsettled_order is None, turn  # nothing to settle but an order
    return session.turn(SHOPPING[-1], settle=False)


def _order_action(turn) -> dict:
    return next(a for a in turn.reply.actions if a["type"] == "order_queued")


def test_online_the_confirmation_comes_first_and_the_ack_after(world, tmp_path):
    with Mosquitto(tmp_path / "broker") as broker, \
            cloud_worker(broker.url, world / "demo-cloud" / "master.db", db=tmp_path / "cloud.db"):
        session = _session(world, tmp_path, broker.url, "dev-settle-online")
        try:
            placed = _confirm(session)
            assert placed.unsettled_order == _order_action(placed)["order_id"]
            assert placed.reply.text.startswith("Done. Order number 1")
            assert "store" not in placed.reply.text and "queued" not in placed.reply.text, placed.reply.text
            assert session.outbox.get(placed.unsettled_order) is not None  # durable before a word is said
            settled = session.settle(placed)
        finally:
            session.close()
    assert settled.reply.text.startswith(placed.reply.text)  # the reply only grows: said, then the rest
    assert "sent to the store" in settled.reply.text, settled.reply.text
    assert _order_action(settled)["state"] == "acked" and settled.unsettled_order is None
    assert session.settle(settled) is settled  # nothing left to wait for


def test_offline_the_confirmation_says_queued_after_the_wait(world, tmp_path):
    broker = Mosquitto(tmp_path / "broker")  # its port is chosen but nothing listens: offline
    session = _session(world, tmp_path, broker.url, "dev-settle-offline")
    try:
        placed = _confirm(session)
        settled = session.settle(placed)
    finally:
        session.close()
    assert "queued on this device" in settled.reply.text and "sent to the store" not in settled.reply.text
    assert _order_action(settled)["state"] in ("confirmed", "queued")


def test_without_a_broker_the_dialogue_says_it_all_at_once(world, tmp_path):
    session = _session(world, tmp_path, "", "dev-settle-none")
    try:
        placed = _confirm(session)
    finally:
        session.close()
    assert placed.unsettled_order is None
    assert "queued on this device" in placed.reply.text, placed.reply.text
