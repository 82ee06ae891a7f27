"""The embedded amqtt broker: device and cloud fall back to MQTT 3.1.1 and orders flow end to end."""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt
import pytest

from cloud.broker import EmbeddedBroker
from edge.orders import Outbox
from edge.wire import device_filter, device_topic
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


def _client(broker: EmbeddedBroker, client_id: str, received: list[str] | None = None) -> Any:
    """A plain MQTT 3.1.1 client with a persistent session (as the device's and the cloud's are)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                         clean_session=False)
    if received is not None:
        client.on_message = lambda _c, _ud, msg: received.append(msg.topic)
    connected: list[bool] = []
    client.on_connect = lambda *_args: connected.append(True)
    client.connect(broker.host, broker.port)
    client.loop_start()
    wait_for(lambda: connected, 10, f"{client_id} connected")
    return client


def _close(client: Any) -> None:
    client.disconnect()
    client.loop_stop()


def test_a_resumed_session_gets_only_its_own_retained_messages():
    """amqtt replays every client's retained filters to a resuming session; ours replays its own only,
    so a device that reconnects is not sent the presence the cloud subscribes to (and drops nothing)."""
    presence, acks = device_topic("dev-2", "presence"), device_topic("dev-1", "acks")
    with EmbeddedBroker() as broker:
        cloud = _client(broker, "cloud")
        cloud.subscribe(device_filter("presence"), qos=1)
        cloud.publish(presence, b"{}", qos=1, retain=True).wait_for_publish(10)
        received: list[str] = []
        device = _client(broker, "dev-1", received)
        device.subscribe(acks, qos=1)
        device.publish(acks, b"first", qos=1)
        wait_for(lambda: received, 10, "the device's own message")
        _close(device)
        device = _client(broker, "dev-1", received)  # resumes its session, subscribes again (as SyncClient)
        device.subscribe(acks, qos=1)
        device.publish(acks, b"marker", qos=1)
        wait_for(lambda: len(received) >= 2 and received[-1] == acks, 10, "the marker after the resume")
        _close(device)
        _close(cloud)
        assert presence not in received, received  # the replay comes before the marker, if at all
