"""PostgreSQL as the cloud store, and two ingest workers splitting the stream via a shared subscription."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from cloud.serve import CatalogPrices, Ingest, Store
from cloud.serve.pricing import PricedLine, PricedOrder
from edge.orders import Outbox
from edge.wire import CancelRequest, OrderLine, OrderMessage, decode, device_topic, encode
from tests.brokers import Mosquitto, wait_for
from tests.orders_rig import (
    PG_ADMIN_DSN,
    assert_exactly_once,
    cloud_worker,
    confirm_orders,
    device_client,
    make_catalog,
    postgres_database,
)

pytestmark = pytest.mark.broker


@pytest.fixture
def pg():
    with postgres_database() as dsn:
        yield dsn


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "master.sqlite"
    return path, make_catalog(path)


def priced(key: str) -> PricedOrder:
    return PricedOrder(key, "dev-1", "USD", 1.8e9, (PricedLine("PRO-1", "x", 2, 100, 90),), 200, 180, True, "")


def test_postgres_store_unique_key_and_statuses(pg):
    store = Store.open(pg=pg)
    key = str(uuid.uuid4())
    [first] = store.ingest([priced(key)], worker="w1")
    [again] = store.ingest([priced(key)], worker="w2")
    assert first.created and not again.created and again.order_ref == first.order_ref
    [row] = store.list_orders()
    assert row["copies"] == 2 and row["worker"] == "w1" and row["lines"][0]["device_unit_price_cents"] == 90
    assert [r.status for r in store.advance(ship_after=0, deliver_after=None)] == ["shipped"]
    assert store.cancel(key, "dev-1").detail.startswith("cancel refused")
    store.close()


def test_concurrent_workers_racing_on_the_same_keys_store_each_once(pg):
    keys = [str(uuid.uuid4()) for _ in range(60)]
    stores = [Store.open(pg=pg) for _ in range(3)]
    created: list[int] = []

    def worker(store: Store) -> None:
        for start in range(0, len(keys), 10):
            created.append(sum(s.created for s in store.ingest([priced(k) for k in keys[start:start + 10]])))

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(created) == 60
    assert sorted(stores[0].keys()) == sorted(keys)
    for store in stores:
        store.close()


def test_ingest_policy_on_postgres(pg, catalog):
    store = Store.open(pg=pg)
    ingest = Ingest(store, CatalogPrices(catalog[0]))
    sku, name, price = catalog[1][0]
    msg = OrderMessage(str(uuid.uuid4()), (OrderLine(sku, name, 2, price + 1),), 2 * price + 2, "USD", time.time())
    out = ingest.handle([(device_topic("dev-1", "orders"), encode(msg))] * 2)
    assert len(out) == 2 and store.list_orders()[0]["total_cents"] == 2 * price
    ingest.handle([(device_topic("dev-1", "orders"), encode(CancelRequest(msg.key, 1.8e9)))])
    assert store.list_orders()[0]["status"] == "cancelled"
    # Issue 15 on PostgreSQL too: a higher total than confirmed is refused with its code, and a
    # reused key with other contents is counted as a conflict, not acked as accepted.
    cheap = OrderMessage(str(uuid.uuid4()), (OrderLine(sku, name, 2, 1),), 2, "USD", time.time())
    [ack] = [decode(o.payload, "acks") for o in ingest.handle([(device_topic("dev-1", "orders"), encode(cheap))])]
    assert not ack.accepted and ack.code == "price_increased" and ack.total_cents == 2 * price
    other = OrderMessage(cheap.key, (OrderLine(sku, name, 3, 1),), 3, "USD", cheap.confirmed_at)
    [nack] = [decode(o.payload, "acks") for o in ingest.handle([(device_topic("dev-1", "orders"), encode(other))])]
    assert nack.code == "key_conflict" and store.list_orders()[0]["conflicts"] == 1
    store.close()


def test_two_workers_split_the_stream_through_a_shared_subscription(pg, catalog, tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as broker, \
            cloud_worker(broker.url, catalog[0], pg=pg, client_id="cloud-1") as one, \
            cloud_worker(broker.url, catalog[0], pg=pg, client_id="cloud-2") as two:
        assert one.shared and two.shared
        outboxes, keys = {}, {}
        for device in ("dev-1", "dev-2"):
            outboxes[device] = Outbox(tmp_path / device / "outbox.sqlite")
            keys[device] = confirm_orders(outboxes[device], catalog[1], 150, seed=len(device) + hash(device) % 7)
        clients = [device_client(outboxes[d], broker.url, d, ack_timeout=5) for d in outboxes]
        for client in clients:
            client.start()
        wait_for(lambda: all(o.counts()["acked"] == 150 for o in outboxes.values()), 60, "all 300 orders acked")
        for client in clients:
            client.stop()
        stored = (one.ingest.stats.stored, two.ingest.stats.stored)
        assert sum(stored) == 300 and min(stored) > 0, f"workers stored {stored}: the load was not split"
        for device, outbox in outboxes.items():
            assert_exactly_once(outbox, one.ingest.store, device, keys[device])
            outbox.close()


def test_worker_survives_losing_its_postgres_connection(pg, catalog, tmp_path):
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    keys = confirm_orders(outbox, catalog[1], 10, seed=3)
    with Mosquitto(tmp_path / "mosquitto") as broker, \
            cloud_worker(broker.url, catalog[0], pg=pg, client_id="cloud-1") as cloud:
        client = device_client(outbox, broker.url, ack_timeout=1.0)
        client.start()
        wait_for(lambda: outbox.counts()["acked"] == 10, 30, "first orders acked")
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:  # what a server restart does to it
            killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = %s AND pid <> pg_backend_pid()", (pg.rsplit("/", 1)[1],))
            assert any(row[0] for row in killed.fetchall())
        keys += confirm_orders(outbox, catalog[1], 10, seed=4)
        wait_for(lambda: outbox.counts()["acked"] == 20, 60, "orders acked after the worker reconnected")
        client.stop()
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
    outbox.close()
