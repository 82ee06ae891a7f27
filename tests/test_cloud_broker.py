"""The embedded amqtt broker: device and cloud fall back to MQTT 3.1.1 and orders flow end to end."""

from __future__ import annotations

import pytest

from cloud.broker import EmbeddedBroker
from edge.orders import Outbox
from tests.brokers import wait_for
from tests.orders_rig import assert_exactly_once, cloud_worker, confirm_orders, device_client, make_catalog

pytestmark = pytest.mark.broker


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "master.sqlite"
    return path, make_catalog(path)


def test_orders_flow_through_the_embedded_broker(tmp_path, catalog):
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    keys = confirm_orders(outbox, catalog[1], 25)
    with EmbeddedBroker() as broker, \
            cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite", ship_after=0.2) as cloud:
        assert cloud.protocol == "3.1.1" and not cloud.shared  # amqtt: no MQTT 5, no shared subscriptions
        client = device_client(outbox, broker.url)
        client.start()
        wait_for(lambda: outbox.counts()["shipped"] == 25, 60, "orders acked and shipped via amqtt")
        client.stop()
        assert client.stats.protocol == "3.1.1"
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
    outbox.close()


def test_forced_protocol_is_respected(tmp_path, catalog):
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    confirm_orders(outbox, catalog[1], 2)
    with EmbeddedBroker() as broker:
        strict = device_client(outbox, broker.url, protocol="5", backoff=(0.05, 0.1))
        assert not strict.run_until_settled(1.5)  # MQTT 5 only: amqtt refuses, the device keeps its orders
        assert strict.stats.connects == 0 and outbox.counts()["queued"] + outbox.counts()["confirmed"] == 2
    outbox.close()


def test_broker_stops_and_frees_its_port():
    broker = EmbeddedBroker().start()
    port = broker.port
    broker.stop()
    again = EmbeddedBroker(port=port).start()  # the port is free again
    again.stop()
