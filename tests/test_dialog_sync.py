"""Checkout reaches the cloud: online the confirmation says the order was sent and the store has it;
offline (the broker down) the order queues, the confirmation says so honestly, and it goes out
exactly once when the broker is back. Real Mosquitto, the real cloud ingest worker pricing from the
same master catalog the device's catalog came from, real NLU.
"""

from __future__ import annotations

import pytest

from cloud.serve import Store
from edge.simulation.world import demo_catalog, device_dir
from tests.brokers import Mosquitto, wait_for
from tests.conftest import MODELS_DIR, run_cli
from tests.dialog_rig import action_types, chat, orders
from tests.orders_rig import cloud_worker

pytestmark = [pytest.mark.slow, pytest.mark.broker]

SHOPPING = ["add two bags of fuji apples", "add a gallon of whole milk", "check out", "yes"]


@pytest.fixture(scope="module")
def world(bundle):
    bundle("nlu")
    return demo_catalog(MODELS_DIR)


def _device_env(device_id: str) -> dict[str, str]:
    return {"VOICESHOP_DEVICE__ID": device_id, "VOICESHOP_DIALOG__SYNC_WAIT_SECONDS": "10"}


def test_online_checkout_is_sent_acked_and_its_status_is_spoken(world, tmp_path):
    data = device_dir(world, tmp_path)
    cloud_db = tmp_path / "cloud.db"
    with Mosquitto(tmp_path / "broker") as broker, \
            cloud_worker(broker.url, world / "demo-cloud" / "master.db", db=cloud_db):
        records = chat(data, [*SHOPPING, "where is my order"], args=("--broker", broker.url),
                       env=_device_env("dev-online"))
    placed, status = records[3], records[4]
    assert "order_queued" in action_types(placed), placed
    action = next(a for a in placed["actions"] if a["type"] == "order_queued")
    assert action["state"] == "acked", placed
    assert "sent to the store" in placed["reply"]
    assert "received by the store" in status["reply"], status
    stored = orders(data)
    assert [o["state"] for o in stored] == ["acked"]
    cloud = Store.open(db=cloud_db)
    try:
        assert cloud.keys("dev-online") == [action["idempotency_key"]]
    finally:
        cloud.close()


def test_offline_checkout_queues_says_so_and_syncs_once_when_back(world, tmp_path):
    data = device_dir(world, tmp_path)
    broker = Mosquitto(tmp_path / "broker")  # its port is chosen but nothing listens yet: offline
    env = _device_env("dev-tunnel")
    records = chat(data, [*SHOPPING, "what's the status of my order"], args=("--broker", broker.url), env=env)
    placed, status = records[3], records[4]
    assert "order_queued" in action_types(placed)
    assert "queued on this device" in placed["reply"] and "sent to the store" not in placed["reply"]
    assert "will be sent as soon as" in status["reply"] or "waiting on this device" in status["reply"], status
    (waiting,) = orders(data)
    assert waiting["state"] in ("confirmed", "queued", "sent")
    cloud_db = tmp_path / "cloud.db"
    with broker, cloud_worker(broker.url, world / "demo-cloud" / "master.db", db=cloud_db):
        synced = run_cli("edge", "orders", "sync", "--once", "--timeout", "60", "--broker", broker.url,
                         env={"VOICESHOP_DEVICE__DATA_DIR": str(data), **env})
        assert synced.returncode == 0, synced.stderr[-2000:]
        wait_for(lambda: orders(data)[0]["state"] == "acked", 30, "the order to be acked")
    cloud = Store.open(db=cloud_db)
    try:
        assert cloud.keys("dev-tunnel") == [waiting["key"]]
    finally:
        cloud.close()
