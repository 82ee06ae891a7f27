"""The device sync client against a real Mosquitto (started per test) and the real cloud worker."""

from __future__ import annotations

import json
import random

import pytest

from cloud.catalog import changes
from cloud.catalog import store as master_store
from cloud.catalog.publish import publish
from cloud.catalog.signing import generate_keypair, load_private_key
from edge.catalog.catalog import Catalog
from edge.orders import Outbox
from edge.sync import Backoff
from edge.sync.deltas import catalog_delta_handler
from edge.wire import MAX_PAYLOAD_BYTES, Ack, decode, device_topic, encode
from tests.brokers import Mosquitto, RawClient, TcpProxy, wait_for
from tests.orders_rig import assert_exactly_once, cloud_worker, confirm_orders, device_client, make_catalog

pytestmark = pytest.mark.broker


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as mq:
        yield mq


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "master.sqlite"
    return path, make_catalog(path)


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "device" / "outbox.sqlite")
    yield box
    box.close()


def test_flush_ack_ship_over_mqtt5(broker, catalog, outbox, tmp_path):
    keys = confirm_orders(outbox, catalog[1], 40)
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite", ship_after=0.3) as cloud:
        client = device_client(outbox, broker.url)
        assert client.run_until_settled(30)
        assert client.stats.protocol == "5" and cloud.protocol == "5" and cloud.shared
        assert client.stats.published == 40 and client.stats.acks == 40
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
        acked = outbox.list()
        assert all(o.cloud_total_cents is not None and o.cloud_ref for o in acked)
        client.start()
        wait_for(lambda: outbox.counts()["shipped"] == 40, 20, "all orders shipped")
        client.stop()


def test_orders_are_published_in_confirmation_order(broker, catalog, outbox):
    keys = confirm_orders(outbox, catalog[1], 30)
    spy = RawClient(broker.port)
    spy.subscribe(device_topic("dev-1", "orders"))
    client = device_client(outbox, broker.url, max_inflight=7)
    assert not client.run_until_settled(1.0)  # no cloud: nothing is acked
    wait_for(lambda: len(spy.messages) >= 30, 10, "30 orders on the wire")
    seen = [decode(p, "orders").key for _t, p in spy.messages]
    assert seen[:30] == keys
    spy.close()


def test_unacked_orders_are_sent_again_after_the_timeout(broker, catalog, outbox, tmp_path):
    keys = confirm_orders(outbox, catalog[1], 5)
    client = device_client(outbox, broker.url, ack_timeout=0.3)
    client.start()
    wait_for(lambda: outbox.counts()["sent"] == 5, 10, "orders sent")
    wait_for(lambda: client.stats.republished >= 5, 10, "re-sends after the ack timeout")
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite") as cloud:
        wait_for(lambda: outbox.counts()["acked"] == 5, 20, "acks")
        client.stop()
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
        assert cloud.ingest.store.copies_received() >= 5  # copies may or may not reach the worker


def test_statuses_sent_while_the_device_was_offline_arrive_on_reconnect(broker, catalog, outbox, tmp_path):
    confirm_orders(outbox, catalog[1], 10)
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite", ship_after=1.0) as cloud:
        assert device_client(outbox, broker.url).run_until_settled(20)
        wait_for(lambda: len(cloud.ingest.store.list_orders(status="shipped")) == 10, 20, "cloud ships")
        # The device went offline right after its last ack. On a loaded machine the acks of ten orders can
        # take longer than ship_after, so the first orders may already have been shipped (and told) while
        # it was still online; the last ones were shipped while it was offline, in any case.
        counts = outbox.counts()
        assert counts["acked"] >= 1 and counts["acked"] + counts["shipped"] == 10, counts
        again = device_client(outbox, broker.url)
        again.start()
        wait_for(lambda: outbox.counts()["shipped"] == 10, 20, "statuses after reconnect")
        again.stop()
        assert again.stats.connects == 1


def test_last_will_announces_a_vanished_device(broker, catalog, outbox):
    proxy = TcpProxy(broker.port)
    spy = RawClient(broker.port)
    spy.subscribe(device_topic("dev-1", "presence"))
    client = device_client(outbox, proxy.url)
    client.start()
    wait_for(lambda: any(json.loads(p)["online"] for _t, p in spy.messages), 10, "online presence")
    proxy.cut()  # the device vanishes without a DISCONNECT: the broker sends its Will
    wait_for(lambda: any(not json.loads(p)["online"] for _t, p in spy.messages), 30, "the Will (offline)")
    wait_for(lambda: json.loads(spy.messages[-1][1])["online"], 20, "back online after reconnecting")
    client.stop()  # a clean stop says offline itself
    wait_for(lambda: not json.loads(spy.messages[-1][1])["online"], 10, "offline on clean stop")
    spy.close()
    proxy.close()


def test_reconnects_with_backoff_until_the_broker_appears(tmp_path, catalog, outbox):
    broker = Mosquitto(tmp_path / "late")
    keys = confirm_orders(outbox, catalog[1], 5)
    client = device_client(outbox, broker.url, backoff=(0.05, 0.2))
    client.start()
    wait_for(lambda: client._backoff.attempts >= 3, 10, "failed connection attempts")
    assert not client.connected.is_set()
    with broker:
        with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite") as cloud:
            wait_for(lambda: outbox.counts()["acked"] == 5, 30, "orders acked once the broker is up")
            assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
        client.stop()


def test_backoff_doubles_with_jitter_and_caps():
    backoff = Backoff(0.5, 8.0, random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    steps = [0.5, 1, 2, 4, 8, 8, 8, 8]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps, strict=True))
    assert len({round(d, 6) for d in delays[4:]}) == 4  # jittered, not a fixed schedule
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_bad_payloads_on_device_topics_are_dropped_and_sync_goes_on(broker, catalog, outbox, tmp_path):
    device_catalog = Catalog(tmp_path / "device" / "catalog.db")
    client = device_client(outbox, broker.url, on_catalog_delta=catalog_delta_handler(device_catalog))
    client.start()
    wait_for(client.connected.is_set, 10, "device connected")
    spy = RawClient(broker.port)
    junk = [b"", b"\xff", b"{}", b"[]", b'{"v":2,"type":"ack"}', b"x" * (MAX_PAYLOAD_BYTES + 10),
            encode(Ack("3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8", True, 1, "USD", "1"))]  # ack for no order
    for leaf in ("acks", "status"):
        for payload in junk:
            spy.publish(device_topic("dev-1", leaf), payload)
    for payload in (b"", b"garbage", b"VSCATLG1" + b"\x00" * 100):
        spy.publish("voiceshop/v1/catalog/deltas", payload)
    wait_for(lambda: client.stats.dropped + client.stats.deltas >= 2 * 6 + 3, 20, "junk handled")
    assert client.stats.acks == 0 and outbox.list() == []
    keys = confirm_orders(outbox, catalog[1], 3)
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite") as cloud:
        wait_for(lambda: outbox.counts()["acked"] == 3, 20, "orders still flow")
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
    client.stop()
    spy.close()
    device_catalog.close()


def test_bad_payloads_to_the_cloud_store_nothing(broker, catalog, tmp_path):
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite") as cloud:
        spy = RawClient(broker.port)
        spy.subscribe(device_topic("dev-1", "acks"))
        for leaf in ("orders", "presence"):
            for payload in (b"", b"\x00\xff", b"[]", b'{"v":1,"type":"order"}', b'{"v":99}',
                            b'{"v":1,"type":"' + b"x" * (MAX_PAYLOAD_BYTES + 1) + b'"}'):
                spy.publish(device_topic("dev-1", leaf), payload)
        wait_for(lambda: cloud.ingest.stats.dropped == 12, 20, "the cloud to drop 12 bad messages")
        assert cloud.ingest.store.keys() == [] and spy.messages == []
        spy.close()


def test_catalog_deltas_reach_the_device_catalog(broker, catalog, outbox, tmp_path):
    master = master_store.open_master(catalog[0])
    _private, public = generate_keypair(tmp_path / "keys")
    key = load_private_key(tmp_path / "keys")
    releases = tmp_path / "releases"
    first = publish(master, key, releases)
    device_catalog = Catalog(tmp_path / "device" / "catalog.db", public_key_file=public)
    assert device_catalog.apply((releases / "snapshot-000001.vscat").read_bytes()).status == "applied"
    client = device_client(outbox, broker.url, on_catalog_delta=catalog_delta_handler(device_catalog))
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite", deltas_dir=str(releases)) as cloud:
        client.start()
        wait_for(client.connected.is_set, 10, "device connected")
        changes.set_price(master, 1, 12345)
        second = publish(master, key, releases)
        assert first["version"] == 1 and second["version"] == 2 and "delta" in second
        wait_for(lambda: device_catalog.stats()["version"] == 2, 20, "the delta applied on the device")
        assert cloud.deltas_published == 1
        price = device_catalog.conn.execute("SELECT price_cents FROM products WHERE id = 1").fetchone()[0]
        assert price == 12345
    client.stop()
    device_catalog.close()
    master.close()
