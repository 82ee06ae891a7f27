"""The cloud's ingest policy on a real SQLite store and the generated catalog, without a broker."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud.serve import CatalogPrices, Ingest, Store
from cloud.serve.pricing import OrderLimits
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


def order(products, quoted=None, key=None, lines=None, at=None) -> OrderMessage:
    sku, name, price = products[0]
    lines = lines or (OrderLine(sku, name, 3, price if quoted is None else quoted),)
    total = sum(ln.quantity * ln.unit_price_cents for ln in lines)
    return OrderMessage(key or str(uuid.uuid4()), tuple(lines), total, "USD", time.time() if at is None else at)


def on(device: str, leaf: str, message) -> tuple[str, bytes]:
    return device_topic(device, leaf), encode(message)


def acks_in(out) -> list[Ack]:
    return [decode(o.payload, "acks") for o in out if o.topic.endswith("/acks")]


def test_order_is_stored_priced_by_the_cloud_and_acked(ingest, catalog):
    products = catalog[1]
    price = products[0][2]
    msg = order(products, quoted=price + 7)  # the device quoted more than the cloud charges
    out = ingest.handle([on("dev-1", "orders", msg)])
    [ack] = acks_in(out)
    assert ack.accepted and ack.key == msg.key and ack.total_cents == 3 * price and ack.code == ""
    assert "repriced" in ack.reason  # a lower price goes through, and the device is told the total
    assert out[0].topic == "voiceshop/v1/devices/dev-1/acks"
    [stored] = ingest.store.list_orders()
    assert stored["total_cents"] == 3 * price and stored["device_total_cents"] == 3 * (price + 7)
    assert stored["lines"][0]["unit_price_cents"] == price
    assert stored["lines"][0]["device_unit_price_cents"] == price + 7


def test_a_higher_price_than_confirmed_is_refused_with_the_new_total(ingest, catalog):
    """Issue 15 item 2: $49.99 charged for a $7.79 read-back. The cloud refuses it (code
    price_increased) and says what it would charge, so the device can ask the user again."""
    products = catalog[1]
    msg = order(products, quoted=1)  # the device claims 1 cent each: the user confirmed 3 cents
    [ack] = acks_in(ingest.handle([on("dev-1", "orders", msg)]))
    price = products[0][2]
    assert not ack.accepted and ack.code == "price_increased" and ack.total_cents == 3 * price
    assert ack.order_ref == "" and "price went up" in ack.reason
    [stored] = ingest.store.list_orders()
    assert stored["status"] == "rejected" and stored["code"] == "price_increased"
    again = acks_in(ingest.handle([on("dev-1", "orders", msg)]))  # a re-send gets the same answer
    assert again == [ack]
    # Re-confirmed at the new total (same lines, new key): accepted.
    agreed = OrderMessage(str(uuid.uuid4()), msg.lines, 3 * price, "USD", time.time())
    [ok] = acks_in(ingest.handle([on("dev-1", "orders", agreed)]))
    assert ok.accepted and ok.total_cents == 3 * price


def test_a_reused_key_with_different_contents_is_flagged_not_accepted(ingest, catalog):
    products = catalog[1]
    msg = order(products)
    [first] = acks_in(ingest.handle([on("dev-1", "orders", msg)]))
    assert first.accepted
    other = OrderMessage(msg.key, (OrderLine(products[1][0], products[1][1], 9, products[1][2]),),
                         9 * products[1][2], "USD", msg.confirmed_at)
    [ack] = acks_in(ingest.handle([on("dev-1", "orders", other)]))
    assert not ack.accepted and ack.code == "key_conflict" and ack.order_ref == ""
    assert ingest.stats.conflicts == 1 and ingest.stats.duplicates == 0
    [stored] = ingest.store.list_orders()  # the first order stands, untouched
    assert stored["conflicts"] == 1 and stored["copies"] == 1 and stored["status"] == "accepted"
    assert [(ln["sku"], ln["quantity"]) for ln in stored["lines"]] == [(products[0][0], 3)]
    later = OrderMessage(msg.key, msg.lines, msg.total_cents, "USD", msg.confirmed_at + 1)  # only the time differs
    assert acks_in(ingest.handle([on("dev-1", "orders", later)]))[0].code == "key_conflict"
    assert acks_in(ingest.handle([on("dev-1", "orders", msg)])) == [first]  # the true re-send is still fine


@pytest.mark.parametrize("problem", ["total", "future", "old"])
def test_absurd_orders_are_refused_by_configured_limits(tmp_path, catalog, problem):
    store = Store.open(db=tmp_path / "cloud.sqlite")
    ingest = Ingest(store, CatalogPrices(catalog[0]), limits=OrderLimits(max_total_cents=50_000,
                                                                       max_future_seconds=600,
                                                                       max_age_seconds=7 * 86400))
    products = catalog[1]
    sku, name, price = products[0]
    quantity = 50_000 // price + 1
    msg = {"total": order(products, lines=(OrderLine(sku, name, quantity, price),)),
           "future": order(products, at=99_000_000_000.0),  # the year 5107
           "old": order(products, at=time.time() - 8 * 86400)}[problem]
    [ack] = acks_in(ingest.handle([on("dev-1", "orders", msg)]))
    assert not ack.accepted and ack.code == "implausible", ack
    assert {"total": "over the limit", "future": "in the future", "old": "days old"}[problem] in ack.reason
    assert store.list_orders()[0]["status"] == "rejected"
    fine = order(products, at=time.time() - 6 * 86400)
    assert acks_in(ingest.handle([on("dev-1", "orders", fine)]))[0].accepted
    store.close()


def test_the_default_limits_refuse_the_issues_779000_dollar_order(ingest, catalog):
    """The issue's $779,000: 100 lines of 1,000 items at $7.79, the most the wire format allows."""
    sku, name, price = catalog[1][0]
    quantity = min(1000, 77_900_000 // (100 * price))  # within the wire's total cap whatever the price
    msg = order(catalog[1], lines=(OrderLine(sku, name, quantity, price),) * 100)
    assert msg.total_cents > 10 * OrderLimits().max_total_cents
    [ack] = acks_in(ingest.handle([on("dev-1", "orders", msg)]))
    assert not ack.accepted and ack.code == "implausible"
    with pytest.raises(ValueError):
        OrderLimits(max_total_cents=0)


def test_a_store_made_before_the_code_column_opens_and_works(tmp_path, catalog):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # the orders table as the first release created it
        conn.execute("""CREATE TABLE orders (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL,
            status TEXT NOT NULL, currency TEXT NOT NULL, total_cents BIGINT NOT NULL, device_total_cents BIGINT NOT NULL,
            reason TEXT NOT NULL DEFAULT '', confirmed_at DOUBLE PRECISION NOT NULL, received_at DOUBLE PRECISION NOT NULL,
            status_at DOUBLE PRECISION NOT NULL, worker TEXT NOT NULL DEFAULT '', copies INTEGER NOT NULL DEFAULT 1)""")
    store = Store.open(db=path)
    ingest = Ingest(store, CatalogPrices(catalog[0]))
    assert acks_in(ingest.handle([on("dev-1", "orders", order(catalog[1]))]))[0].accepted
    assert store.list_orders()[0]["code"] == ""
    store.close()


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
