"""Security with a real Mosquitto: per-device passwords, a %u ACL, TLS from a CA the test makes.

Proves device A cannot read device B's acks or orders, cannot write into B's topics, and that a
plaintext client (or one trusting another CA) cannot talk to the TLS listener.
"""

from __future__ import annotations

import ssl
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from edge.orders import Outbox
from edge.wire import CancelRequest, OrderLine, OrderMessage, device_topic, encode, new_idempotency_key
from tests.brokers import DEVICE_ACL, Mosquitto, RawClient, make_tls, wait_for
from tests.orders_rig import assert_exactly_once, cloud_worker, confirm_orders, device_client, make_catalog

pytestmark = pytest.mark.broker

USERS = {"dev-a": "secret-a", "dev-b": "secret-b", "cloud": "secret-cloud"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    work = tmp_path_factory.mktemp("secure")
    tls = make_tls(work / "tls")
    catalog = work / "master.sqlite"
    products = make_catalog(catalog)
    with Mosquitto(work / "mosquitto", users=USERS, acl=DEVICE_ACL, tls=tls) as broker, \
            cloud_worker(broker.tls_url, catalog, db=work / "cloud.sqlite", username="cloud",
                         password=USERS["cloud"], ca_file=str(tls.ca)) as cloud:
        yield broker, tls, cloud, products, work


def login(broker: Mosquitto, tls, user: str) -> RawClient:
    """A raw MQTT 5 client over TLS, logged in as user with the right password."""
    return RawClient(broker.tls_port, host="localhost", username=user, password=USERS[user], ca_file=str(tls.ca))


def test_devices_and_cloud_work_over_tls_with_their_own_credentials(secured, tmp_path):
    broker, tls, cloud, products, _work = secured
    for device in ("dev-a", "dev-b"):
        outbox = Outbox(tmp_path / device / "outbox.sqlite")
        keys = confirm_orders(outbox, products, 5, seed=hash(device) % 100)
        client = device_client(outbox, broker.tls_url, device, username=device, password=USERS[device],
                               ca_file=str(tls.ca))
        assert client.run_until_settled(30), device
        assert_exactly_once(outbox, cloud.ingest.store, device, keys, complete=False)
        outbox.close()


def test_device_a_cannot_read_device_b_acks_or_orders(secured, tmp_path):
    broker, tls, cloud, products, _work = secured
    spy = login(broker, tls, "dev-a")
    assert spy.connack == [0]
    filters = [device_topic("dev-b", "acks"), device_topic("dev-b", "orders"), device_topic("dev-b", "status"),
               "voiceshop/v1/devices/+/acks", "voiceshop/v1/devices/+/orders", "#"]
    # Mosquitto 2.0 grants these subscriptions and applies the ACL to each message it would deliver,
    # so the proof is what arrives, not the SUBACK.
    spy.subscribe(*filters)
    outbox = Outbox(tmp_path / "b" / "outbox.sqlite")
    keys = confirm_orders(outbox, products, 5, seed=11)
    b = device_client(outbox, broker.tls_url, "dev-b", username="dev-b", password=USERS["dev-b"],
                      ca_file=str(tls.ca))
    assert b.run_until_settled(30)  # B's orders went out and B's acks came back ...
    assert_exactly_once(outbox, cloud.ingest.store, "dev-b", keys, complete=False)
    own = login(broker, tls, "dev-a")  # ... and a round trip of A's own
    own.subscribe(device_topic("dev-a", "acks"))
    order = OrderMessage(new_idempotency_key(), (OrderLine(products[0][0], "x", 1, 1),), 1, "USD", 1e9)
    own.publish(device_topic("dev-a", "orders"), encode(order))
    wait_for(lambda: own.messages, 20, "A's own ack")
    # Positive control: the spy's wildcard subscriptions are live and deliver what A may read.
    wait_for(lambda: device_topic("dev-a", "acks") in spy.topics, 10, "A's ack at the spy")
    assert [t for t in spy.topics if "dev-b" in t] == []  # ... while A's spy saw none of B's traffic
    assert all(t.startswith("voiceshop/v1/devices/dev-a/") or t.endswith("/catalog/deltas") for t in spy.topics)
    spy.close()
    own.close()
    outbox.close()


def test_device_a_cannot_write_into_device_b_topics(secured):
    broker, tls, cloud, products, _work = secured
    a = login(broker, tls, "dev-a")
    a.subscribe(device_topic("dev-a", "acks"))
    lines = (OrderLine(products[0][0], "x", 1, 1),)
    forged = OrderMessage(new_idempotency_key(), lines, 1, "USD", 1e9)
    a.publish(device_topic("dev-b", "orders"), encode(forged))
    a.publish(device_topic("dev-b", "orders"), encode(CancelRequest(forged.key, 1e9)))
    a.publish(device_topic("dev-b", "acks"), b'{"v":1}')
    # A legitimate order on A's own topic, published after the forgeries on the same connection:
    # once its ack is back, the forgeries have had every chance to arrive.
    mine = OrderMessage(new_idempotency_key(), lines, 1, "USD", 1e9)
    a.publish(device_topic("dev-a", "orders"), encode(mine))
    wait_for(lambda: a.messages, 20, "A's own ack")
    stored = cloud.ingest.store.keys()
    assert mine.key in stored and forged.key not in stored
    a.close()


def test_wrong_password_and_anonymous_are_refused(secured):
    broker, tls, _cloud, _products, _work = secured
    wrong = RawClient(broker.tls_port, host="localhost", username="dev-a", password="guess", ca_file=str(tls.ca))
    assert wrong.connack and wrong.connack[0] in (0x86, 0x87, 4, 5)  # bad credentials / not authorized
    wrong.close()
    anon = RawClient(broker.port)
    assert anon.connack[0] in (0x86, 0x87, 4, 5)
    anon.close()


def test_plaintext_client_cannot_talk_to_the_tls_listener(secured):
    broker, _tls, _cloud, _products, _work = secured
    plain = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    plain.username_pw_set("dev-a", USERS["dev-a"])
    events: list[str] = []
    closed = threading.Event()
    plain.on_connect = lambda *_a: events.append("connack")
    plain.on_disconnect = lambda *_a: closed.set()
    plain.connect("127.0.0.1", broker.tls_port)
    deadline = time.monotonic() + 15
    while not closed.is_set() and time.monotonic() < deadline:
        if plain.loop(0.1) != mqtt.MQTT_ERR_SUCCESS:
            closed.set()
    assert closed.is_set(), "the TLS listener kept a plaintext connection open"
    assert events == [], "a plaintext client got a CONNACK from the TLS listener"


def test_tls_client_that_does_not_trust_the_ca_is_refused(secured, tmp_path):
    broker, _tls, _cloud, _products, _work = secured
    other = make_tls(tmp_path / "other-ca")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(other.ca))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect("localhost", broker.tls_port)
