"""The outbox on a real SQLite file: states move only forward, keys are made once, bad input stores nothing."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import pytest

from edge.orders import OrderError, Outbox
from edge.orders.db import MIGRATIONS
from edge.orders.model import TRANSITIONS
from edge.wire import Ack, StatusUpdate, decode, encode

LINE = {"sku": "PRO-0000001", "name": "Fuji apples", "quantity": 2, "unit_price_cents": 499}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def outbox(tmp_path, clock):
    box = Outbox(tmp_path / "outbox.sqlite", cancel_window_seconds=900, clock=clock)
    yield box
    box.close()


def send(outbox: Outbox) -> list:
    outbox.queue_confirmed()
    return outbox.take_due(100, ack_timeout=10)


def test_database_is_wal_with_full_sync(outbox, tmp_path):
    conn = outbox._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_an_older_outbox_file_is_migrated_in_place(tmp_path, clock):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0])
    old.execute("INSERT INTO orders (state, key, seq, currency, total_cents, created_at, confirmed_at, updated_at) "
                "VALUES ('queued', '3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8', 1, 'USD', 998, 1, 1.8e9, 1)")
    old.execute("INSERT INTO order_lines VALUES (1, 0, 'PRO-0000001', 'Fuji apples', 2, 499)")
    old.execute("PRAGMA user_version=1")
    old.commit()
    old.close()
    box = Outbox(path, clock=clock)
    assert box._conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    indexes = {r[0] for r in box._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "orders_by_resend" in indexes
    [due] = box.take_due(5, ack_timeout=1)
    assert decode(due.payload, "orders") == box.get(due.id).to_message()  # payload built by the migration
    box.close()


def test_the_payload_is_fixed_at_confirmation_and_resent_byte_for_byte(outbox, clock):
    order = outbox.confirm([LINE])
    [first] = send(outbox)
    assert first.payload == encode(order.to_message())
    clock.now += 11
    [again] = outbox.take_due(10, ack_timeout=10)
    assert again.payload == first.payload and again.attempts == 1


def test_confirm_makes_one_key_and_survives_reopen(outbox, tmp_path, clock):
    order = outbox.confirm([LINE, {**LINE, "sku": "PRO-0000002", "quantity": 1, "unit_price_cents": 100}])
    assert order.state == "confirmed" and order.total_cents == 2 * 499 + 100
    assert str(uuid.UUID(order.key)) == order.key
    outbox.close()
    again = Outbox(tmp_path / "outbox.sqlite", clock=clock)
    assert again.get(order.id).key == order.key
    assert [line.sku for line in again.get(order.id).lines] == ["PRO-0000001", "PRO-0000002"]
    again.close()


def test_draft_then_confirm_keeps_lines_and_only_confirmed_are_sent(outbox):
    draft = outbox.save_draft([LINE])
    assert draft.key is None and draft.state == "draft"
    assert send(outbox) == []  # a draft is never sent
    order = outbox.confirm(draft_id=draft.id)
    assert order.id == draft.id and order.key and order.lines == draft.lines
    with pytest.raises(OrderError, match="not a draft"):
        outbox.confirm(draft_id=draft.id)
    assert [o.key for o in send(outbox)] == [order.key]


@pytest.mark.parametrize(("lines", "needle"), [
    ([], "at least one line"),
    ([{**LINE, "quantity": 0}], "line 1: field 'quantity' must be between"),
    ([{**LINE, "quantity": "2"}], "must be an integer"),
    ([{**LINE, "unit_price_cents": -1}], "unit_price_cents"),
    ([{**LINE, "sku": ""}], "'sku' must not be empty"),
    ([{"sku": "X"}], "missing field"),
    ([LINE] * 101, "at most 100 lines"),
    (["not a line"], "line 1"),
])
def test_bad_lines_are_refused_and_nothing_is_stored(outbox, lines, needle):
    with pytest.raises(OrderError, match=needle):
        outbox.confirm(lines)
    assert outbox.list() == []


def test_orders_are_sent_in_confirmation_order_and_resent_with_backoff(outbox, clock):
    keys = [outbox.confirm([LINE]).key for _ in range(5)]
    assert [o.key for o in send(outbox)] == keys
    assert outbox.take_due(100, ack_timeout=10) == []  # not due again before the ack timeout
    clock.now += 10.5
    assert [o.key for o in outbox.take_due(100, ack_timeout=10)] == keys
    clock.now += 10.5  # second resend waits twice as long
    assert outbox.take_due(100, ack_timeout=10) == []
    clock.now += 10
    assert len(outbox.take_due(100, ack_timeout=10)) == 5
    assert {o.attempts for o in outbox.list()} == {3}


def test_restart_makes_sent_orders_due_at_once(outbox):
    outbox.confirm([LINE])
    send(outbox)
    assert outbox.take_due(10, ack_timeout=60) == []
    assert outbox.restart_sends() == 1
    assert len(outbox.take_due(10, ack_timeout=60)) == 1


def test_ack_moves_only_sent_orders_and_duplicates_are_ignored(outbox):
    order = outbox.confirm([LINE])
    ack = Ack(order.key, True, 1000, "USD", "c-1", "repriced")
    assert outbox.apply_acks([ack]) == 0  # confirmed, not sent: an ack cannot skip states
    send(outbox)
    assert outbox.apply_acks([ack, ack]) == 1
    acked = outbox.get(order.id)
    assert acked.state == "acked" and acked.cloud_total_cents == 1000 and acked.cloud_ref == "c-1"
    assert outbox.apply_acks([Ack(str(uuid.uuid4()), True, 1, "USD", "x")]) == 0  # unknown key


def test_rejected_ack_cancels_with_the_reason(outbox):
    order = outbox.confirm([LINE])
    send(outbox)
    outbox.apply_acks([Ack(order.key, False, 0, "USD", "", "Fuji apples is out of stock")])
    got = outbox.get(order.id)
    assert got.state == "cancelled" and "out of stock" in got.detail


def test_a_price_rise_refusal_keeps_the_code_and_the_new_total(outbox):
    order = outbox.confirm([LINE])
    send(outbox)
    outbox.apply_acks([Ack(order.key, False, 4999, "USD", "", "price went up", "price_increased")])
    got = outbox.get(order.id)
    assert got.state == "cancelled" and got.cloud_code == "price_increased" and got.cloud_total_cents == 4999
    assert got.to_dict()["cloud_code"] == "price_increased"
    other = outbox.confirm([LINE])
    send(outbox)
    outbox.apply_acks([Ack(other.key, False, 0, "USD", "", "out of stock")])  # an older cloud: no code
    assert outbox.get(other.id).cloud_code == "other" and outbox.get(other.id).cloud_total_cents is None


def test_an_agreed_total_is_the_order_total_and_is_checked(outbox):
    order = outbox.confirm([LINE], total_cents=4999)
    assert order.total_cents == 4999 and decode(order_payload(outbox, order.id), "orders").total_cents == 4999
    for bad in (-1, 10**9, 1.5, True, "12"):
        with pytest.raises(OrderError):
            outbox.confirm([LINE], total_cents=bad)
    assert len(outbox.list()) == 1


def order_payload(outbox: Outbox, order_id: int) -> bytes:
    return outbox._conn.execute("SELECT payload FROM orders WHERE id = ?", (order_id,)).fetchone()[0]


def test_spent_since_adds_up_confirmed_orders_at_the_charged_amount(outbox, clock):
    outbox.confirm([LINE])  # 998
    clock.now += 100
    second = outbox.confirm([LINE])
    send(outbox)
    outbox.apply_acks([Ack(second.key, True, 1500, "USD", "c")])  # charged more than quoted: counts 1500
    outbox.save_draft([LINE])  # a draft is no spending
    assert outbox.spent_since(clock.now - 1000) == 998 + 1500
    assert outbox.spent_since(clock.now - 50) == 1500  # the window starts after the first
    third = outbox.confirm([LINE])
    outbox.cancel(third.id)  # cancelled before sending: no spending
    assert outbox.spent_since(clock.now - 1000) == 998 + 1500


def test_status_updates_follow_the_transition_table(outbox):
    order = outbox.confirm([LINE])
    send(outbox)
    shipped = StatusUpdate(order.key, "shipped", 1.0)
    assert outbox.apply_statuses([shipped]) == 0  # still `sent`: only an ack leaves it
    outbox.apply_acks([Ack(order.key, True, 998, "USD", "c-1")])
    assert outbox.apply_statuses([shipped, shipped]) == 1
    assert outbox.apply_statuses([StatusUpdate(order.key, "cancelled", 2.0)]) == 0  # shipped cannot be cancelled
    assert outbox.apply_statuses([StatusUpdate(order.key, "delivered", 3.0)]) == 1
    assert outbox.apply_statuses([StatusUpdate(order.key, "shipped", 4.0)]) == 0  # never backwards
    assert outbox.get(order.id).state == "delivered"
    history = [row[0] for row in outbox._conn.execute(
        "SELECT state FROM order_events WHERE order_id = ? ORDER BY id", (order.id,))]
    assert history == ["draft", "confirmed", "queued", "sent", "acked", "shipped", "delivered"]


def test_transition_table_has_no_way_back():
    order = list(TRANSITIONS)
    for state, targets in TRANSITIONS.items():
        assert all(order.index(t) > order.index(state) for t in targets), state


def test_cancel_before_sending_is_local_and_never_sent(outbox):
    order = outbox.confirm([LINE])
    outbox.queue_confirmed()
    assert outbox.cancel(order.id).state == "cancelled"
    assert outbox.take_due(10, ack_timeout=1) == []
    assert outbox.cancel(order.id).state == "cancelled"  # idempotent


def test_cancel_after_sending_asks_the_cloud(outbox, clock):
    order = outbox.confirm([LINE])
    send(outbox)
    pending = outbox.cancel(order.id)
    assert pending.state == "sent" and pending.cancel_pending
    assert outbox.take_due_cancels(10, timeout=5) == []  # asked only once the cloud has the order
    outbox.apply_acks([Ack(order.key, True, 998, "USD", "c-1")])
    assert [o.id for o in outbox.take_due_cancels(10, timeout=5)] == [order.id]
    assert outbox.take_due_cancels(10, timeout=5) == []
    assert outbox.unsettled() == 1  # waiting for the cloud's answer
    outbox.apply_statuses([StatusUpdate(order.key, "cancelled", clock.now)])
    done = outbox.get(order.id)
    assert done.state == "cancelled" and not done.cancel_pending and outbox.unsettled() == 0


def test_cloud_refusing_a_cancel_is_recorded(outbox):
    order = outbox.confirm([LINE])
    send(outbox)
    outbox.apply_acks([Ack(order.key, True, 998, "USD", "c-1")])
    outbox.cancel(order.id)
    outbox.apply_statuses([StatusUpdate(order.key, "shipped", 1.0, "already packed")])
    got = outbox.get(order.id)
    assert got.state == "shipped" and not got.cancel_pending and got.detail.startswith("cancel refused")


def test_cancel_window_and_shipped_orders_are_enforced(outbox, clock):
    late = outbox.confirm([LINE])
    clock.now += 901
    with pytest.raises(OrderError, match="more than 15 minutes ago"):
        outbox.cancel(late.id)
    shipped = outbox.confirm([LINE])
    send(outbox)
    outbox.apply_acks([Ack(shipped.key, True, 998, "USD", "c")])
    outbox.apply_statuses([StatusUpdate(shipped.key, "shipped", 1.0)])
    with pytest.raises(OrderError, match="already shipped"):
        outbox.cancel(shipped.id)
    with pytest.raises(OrderError, match="no order with id 999"):
        outbox.cancel(999)


def test_listeners_hear_committed_changes_and_a_broken_listener_loses_nothing(outbox):
    heard = []
    outbox.add_listener(heard.append)
    outbox.add_listener(lambda event: 1 / 0)
    order = outbox.confirm([LINE])
    send(outbox)
    assert [(e.previous, e.state) for e in heard] == [("draft", "confirmed"), ("confirmed", "queued"),
                                                      ("queued", "sent")]
    assert heard[0].key == order.key and outbox.get(order.id).state == "sent"


def test_list_filters_and_counts(outbox):
    a = outbox.confirm([LINE])
    outbox.confirm([LINE])
    outbox.cancel(a.id)
    assert [o.state for o in outbox.list()] == ["confirmed", "cancelled"]  # newest first
    assert [o.id for o in outbox.list(states=["cancelled"])] == [a.id]
    assert outbox.counts()["confirmed"] == 1 and outbox.counts()["cancelled"] == 1
    with pytest.raises(OrderError, match="unknown order state"):
        outbox.list(states=["lost"])


def test_concurrent_confirmations_from_threads_get_distinct_keys_and_sequence(outbox):
    def confirm_many():
        for _ in range(25):
            outbox.confirm([LINE])

    threads = [threading.Thread(target=confirm_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    orders = outbox.list()
    assert len(orders) == 100 and len({o.key for o in orders}) == 100
    seqs = [r[0] for r in outbox._conn.execute("SELECT seq FROM orders ORDER BY seq")]
    assert seqs == list(range(1, 101))


def test_a_second_process_sees_confirmed_orders(outbox, tmp_path):
    order = outbox.confirm([LINE])
    reader = sqlite3.connect(tmp_path / "outbox.sqlite")
    assert reader.execute("SELECT key FROM orders").fetchall() == [(order.key,)]
    reader.close()
