"""The cloud's ingest policy on a real SQLite store and the generated catalog, without a broker."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud.serve import CatalogPrices, Ingest, Store
from edge.wire import (
    Ack,
    CancelRequest,
    OrderLine,
    OrderMessage,
    Presence,
    decode,
    device_topic,
    encode,
)
from tests.orders_rig import GOOD_MESSAGES, broken_payloads, make_catalog


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    path = tmp_path_factory.mktemp("catalog") / "master.sqlite"
    products = make_catalog(path)
    with sqlite3.connect(path) as conn:  # one product out of stock, for the rejection case
        conn.execute("UPDATE products SET in_stock = 0 WHERE sku = ?", (products[-1][0],))
    return path, products[:-1], products[-1]


@pytest.fixture
def ingest(tmp_path, catalog):
    store = Store.open(db=tmp_path / "cloud.sqlite")
    yield Ingest(store, CatalogPrices(catalog[0]), worker="w1")
    store.close()


def order(products, quoted=None, key=None, lines=None) -> OrderMessage:
    sku, name, price = products[0]
    lines = lines or (OrderLine(sku, name, 3, price if quoted is None else quoted),)
    total = sum(ln.quantity * ln.unit_price_cents for ln in lines)
    return OrderMessage(key or str(uuid.uuid4()), tuple(lines), total, "USD", 1.8e9)


def on(device: str, leaf: str, message) -> tuple[str, bytes]:
    return device_topic(device, leaf), encode(message)


def acks_in(out) -> list[Ack]:
    return [decode(o.payload, "acks") for o in out if o.topic.endswith("/acks")]


def test_order_is_stored_priced_by_the_cloud_and_acked(ingest, catalog):
    products = catalog[1]
    msg = order(products, quoted=1)  # the device claims 1 cent each
    out = ingest.handle([on("dev-1", "orders", msg)])
    [ack] = acks_in(out)
    price = products[0][2]
    assert ack.accepted and ack.key == msg.key and ack.total_cents == 3 * price
    assert "repriced" in ack.reason
    assert out[0].topic == "voiceshop/v1/devices/dev-1/acks"
    [stored] = ingest.store.list_orders()
    assert stored["total_cents"] == 3 * price and stored["device_total_cents"] == 3
    assert stored["lines"][0]["unit_price_cents"] == price and stored["lines"][0]["device_unit_price_cents"] == 1


def test_duplicates_are_acked_again_never_stored_twice(ingest, catalog):
    msg = order(catalog[1])
    first = acks_in(ingest.handle([on("dev-1", "orders", msg), on("dev-1", "orders", msg)]))
    again = acks_in(ingest.handle([on("dev-1", "orders", msg)]))
    assert len(first) == 2 and first[0] == first[1] == again[0]
    assert ingest.store.keys() == [msg.key]
    assert ingest.store.list_orders()[0]["copies"] == 3
    assert ingest.stats.stored == 1 and ingest.stats.duplicates == 2


def test_duplicate_of_a_shipped_order_also_repeats_its_status(ingest, catalog):
    msg = order(catalog[1])
    ingest.handle([on("dev-1", "orders", msg)])
    assert [r.status for r in ingest.store.advance(ship_after=0, deliver_after=None)] == ["shipped"]
    out = ingest.handle([on("dev-1", "orders", msg)])
    assert [o.topic.rsplit("/", 1)[1] for o in out] == ["acks", "status"]
    assert decode(out[1].payload, "status").status == "shipped"


@pytest.mark.parametrize("problem", ["unknown", "out_of_stock", "currency"])
def test_unsellable_orders_are_rejected_whole(ingest, catalog, problem):
    products, missing = catalog[1], catalog[2]
    sku, name, price = {"unknown": ("NOPE-1", "ghost", 100), "out_of_stock": missing,
                        "currency": products[1]}[problem]
    lines = (OrderLine(products[0][0], products[0][1], 1, products[0][2]), OrderLine(sku, name, 1, price))
    msg = order(products, lines=lines)
    if problem == "currency":
        msg = OrderMessage(msg.key, msg.lines, msg.total_cents, "EUR", msg.confirmed_at)
    [ack] = acks_in(ingest.handle([on("dev-1", "orders", msg)]))
    assert not ack.accepted and ack.total_cents == 0 and ack.order_ref == ""
    assert {"unknown": "unknown product NOPE-1", "out_of_stock": "out of stock", "currency": "sold in USD"}[problem] \
        in ack.reason
    assert ingest.store.list_orders()[0]["status"] == "rejected"


def test_a_device_cannot_take_or_cancel_another_devices_order(ingest, catalog):
    msg = order(catalog[1])
    ingest.handle([on("dev-b", "orders", msg)])
    assert ingest.handle([on("dev-a", "orders", msg)]) == []  # dev-b's key replayed on dev-a's topic: no ack
    assert ingest.handle([on("dev-a", "orders", CancelRequest(msg.key, 1.8e9))]) == []  # nor a cancel
    [stored] = ingest.store.list_orders()
    assert stored["status"] == "accepted" and stored["device_id"] == "dev-b"
    assert ingest.stats.dropped == 1


def test_presence_must_match_its_topic(ingest):
    assert ingest.handle([on("dev-a", "presence", Presence("dev-b", True, 1.8e9))]) == []
    assert ingest.stats.dropped == 1


def test_cancel_request(ingest, catalog):
    msg = order(catalog[1])
    ingest.handle([on("dev-1", "orders", msg)])
    out = ingest.handle([on("dev-1", "orders", CancelRequest(msg.key, 1.8e9))])
    assert decode(out[0].payload, "status").status == "cancelled"
    again = ingest.handle([on("dev-1", "orders", CancelRequest(msg.key, 1.8e9))])
    assert decode(again[0].payload, "status").detail == "already cancelled"
    shipped = order(catalog[1])
    ingest.handle([on("dev-1", "orders", shipped)])
    ingest.store.advance(ship_after=0, deliver_after=None)
    refused = decode(ingest.handle([on("dev-1", "orders", CancelRequest(shipped.key, 1.8e9))])[0].payload,
                     "status")
    assert refused.status == "shipped" and "cancel refused" in refused.detail
    unknown = CancelRequest(str(uuid.uuid4()), 1.8e9)
    assert ingest.handle([on("dev-1", "orders", unknown)]) == []  # the device retries until the order lands


def test_presence_online_replays_recent_statuses(ingest, catalog):
    msg = order(catalog[1])
    ingest.handle([on("dev-1", "orders", msg)])
    ingest.store.advance(ship_after=0, deliver_after=0)
    ingest.store.advance(ship_after=0, deliver_after=0)
    out = ingest.handle([on("dev-1", "presence", Presence("dev-1", True, 1.8e9))])
    assert [decode(o.payload, "status").status for o in out] == ["delivered"]
    assert ingest.handle([on("dev-1", "presence", Presence("dev-1", False, 1.8e9))]) == []


def test_shipping_timer_moves_each_order_once(ingest, catalog):
    keys = {order(catalog[1]).key for _ in range(3)}
    ingest.handle([on("dev-1", "orders", order(catalog[1], key=k)) for k in keys])
    assert ingest.store.advance(ship_after=3600, deliver_after=None) == []
    assert {r.key for r in ingest.store.advance(ship_after=0, deliver_after=None)} == keys
    assert ingest.store.advance(ship_after=0, deliver_after=None) == []


# -- bad input on every topic, fuzzed: logged and dropped, nothing stored, nothing published ---------

@st.composite
def bad_messages(draw) -> tuple[str, bytes]:
    """A broken payload on its own topic, or any payload on a topic the cloud must not take it from."""
    leaf, payload = draw(broken_payloads())
    device = draw(st.sampled_from(["dev-1", "dev-2"]))
    topic = draw(st.sampled_from([device_topic(device, leaf), f"voiceshop/v1/devices/{device}/{leaf}/x",
                                  "voiceshop/v1/catalog/deltas", f"voiceshop/v2/devices/{device}/{leaf}"]))
    if leaf in ("acks", "status") and draw(st.booleans()):  # the cloud never takes these, however well-formed
        payload = encode(GOOD_MESSAGES[leaf])
    return topic, payload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(bad_messages(), min_size=1, max_size=5))
def test_fuzzed_bad_input_is_dropped_and_nothing_is_stored(ingest, batch):
    dropped = ingest.stats.dropped
    assert ingest.handle(batch) == []
    assert ingest.stats.dropped == dropped + len(batch)
    assert ingest.store.keys() == []
