"""The device side of bad input, fuzzed: whatever arrives on acks, status or catalog deltas is dropped
(or refused by the catalog) without an exception, and no order moves.

The messages are real paho MQTTMessage objects handed to the sync client's receive path and then
applied as the loop would; the live-broker version of this is in test_sync_client.py.
"""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.catalog.catalog import Catalog
from edge.catalog.schema import catalog_version
from edge.orders import Outbox
from edge.sync.deltas import catalog_delta_handler
from edge.wire import CATALOG_DELTAS_TOPIC, device_topic, encode
from tests.orders_rig import GOOD_MESSAGES, broken_payloads, device_client

KEY = GOOD_MESSAGES["acks"].key


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """A device with one order in `sent` whose key the fuzzed acks and statuses are built around."""
    work = tmp_path_factory.mktemp("fuzz")
    outbox = Outbox(work / "outbox.sqlite")
    order = outbox.confirm([{"sku": "PRO-0000001", "name": "x", "quantity": 1, "unit_price_cents": 1}])
    outbox._conn.execute("UPDATE orders SET key = ?, state = 'sent' WHERE id = ?", (KEY, order.id))
    catalog = Catalog(work / "catalog.db")
    client = device_client(outbox, "mqtt://127.0.0.1:1", on_catalog_delta=catalog_delta_handler(catalog))
    yield client, outbox, catalog
    catalog.close()
    outbox.close()


def message(topic: str, payload: bytes) -> mqtt.MQTTMessage:
    msg = mqtt.MQTTMessage(topic=topic.encode())
    msg.payload = payload
    return msg


@st.composite
def device_inbound(draw) -> tuple[str, bytes]:
    """A broken ack/status on the device's own topic, garbage on the catalog topic, or anything elsewhere."""
    where = draw(st.sampled_from(["own", "deltas", "stray"]))
    if where == "deltas":
        return CATALOG_DELTAS_TOPIC, draw(st.binary(max_size=300))
    leaf, payload = draw(broken_payloads(("acks", "status")))
    if where == "stray":
        return draw(st.sampled_from([device_topic("dev-2", leaf), "voiceshop/v1/devices/dev-1/orders", "x/y"])), \
            encode(GOOD_MESSAGES[leaf])
    return device_topic("dev-1", leaf), payload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(device_inbound(), min_size=1, max_size=6))
def test_fuzzed_inbound_payloads_change_nothing(rig, batch):
    client, outbox, catalog = rig
    before = (client.stats.dropped, client.stats.deltas)
    for topic, payload in batch:
        client._on_message(None, None, message(topic, payload))
    client._pump()
    handled = client.stats.dropped + client.stats.deltas - sum(before)
    assert handled == len(batch)  # each one logged and dropped, or refused by the catalog
    assert client.stats.acks == 0 and client.stats.statuses == 0
    assert outbox.counts()["sent"] == 1 and outbox.by_key(KEY).state == "sent"
    assert catalog_version(catalog.conn) == 0
