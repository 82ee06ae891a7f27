"""Purchase safety: nothing is ordered without an explicit confirm right after the read-back.

Two levels. The dialogue stage alone, fed random Understanding events (hypothesis) over the real
demo catalog and a real outbox: whatever the sequence, an order is queued only by a confirm in the
turn right after a read-back (or by the correct PIN right after the PIN question), and never when
purchasing is off or locked. Then end to end through `python -m edge chat` with the real NLU: a
product literally named "yes confirm checkout", transcripts full of such words, the PIN lock
surviving a restart until the owner unlocks it.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud.catalog import store
from edge.catalog.catalog import Catalog
from edge.config import load_settings
from edge.dialog import Dialog, PurchaseGuard
from edge.dialog.guard import spoken_digits
from edge.events import Understanding
from edge.nlu.schema import INTENTS
from edge.orders import Outbox
from edge.simulation.world import demo_catalog, device_dir
from tests.conftest import MODELS_DIR, run_cli
from tests.dialog_rig import action_types, chat, orders

PIN = "1234"


@pytest.fixture(scope="module")
def world(bundle):
    bundle("nlu")
    return demo_catalog(MODELS_DIR)


@pytest.fixture(scope="module")
def catalog(world):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.db"
        shutil.copyfile(world / "catalog.db", path)
        cat = Catalog(path)  # lexical + fuzzy only: fast enough for hundreds of random dialogues
        yield cat
        cat.close()


TEXTS = ["yes", "yes confirm checkout", "place the order", "1234", "one two three four", "0000", "no",
         "check out", "the second one", "two", "buy 500 apples", "stop"]
PRODUCTS = [None, "fuji apples", "whole milk", "yes confirm checkout", "place order", "coffee"]

random_turn = st.builds(
    lambda text, intent, conf, product, quantity, ordinal: Understanding(
        text=text, intent=intent, confidence=conf,
        slots={k: v for k, v in (("product", product), ("quantity", quantity), ("ordinal", ordinal)) if v is not None}),
    st.sampled_from(TEXTS), st.sampled_from(INTENTS), st.sampled_from([0.3, 0.95]), st.sampled_from(PRODUCTS),
    st.sampled_from([None, 1, 2, 500]), st.sampled_from([None, 1, 2, -1]),
)

# Turns that move towards an order, so random sequences do reach read-backs, PIN questions and
# orders (and the property is tested where it matters, not only on noise).
PURPOSEFUL = [
    Understanding("add two bags of fuji apples", "add_to_cart", 0.97, {"quantity": 2, "product": "fuji apples"}),
    Understanding("buy 500 bags of fuji apples", "add_to_cart", 0.97, {"quantity": 500, "product": "fuji apples"}),
    Understanding("check out", "checkout", 0.97),
    Understanding("yes", "confirm", 0.97),
    Understanding("yes", "confirm", 0.97),
    Understanding("one two three four", "other", 0.4),
    Understanding("nine nine nine nine", "other", 0.4),
    Understanding("order that again", "reorder", 0.95),
    Understanding("cancel my order", "cancel_order", 0.95),
]
turn_strategy = st.one_of(st.sampled_from(PURPOSEFUL), st.sampled_from(PURPOSEFUL), random_turn)
# Every sequence starts somewhere an order is one or two turns away: right after a read-back, right
# after the PIN question, or from nothing.
OPENINGS = [
    [PURPOSEFUL[0], PURPOSEFUL[2]],
    [PURPOSEFUL[1], PURPOSEFUL[3], PURPOSEFUL[2], PURPOSEFUL[3]],
    [],
]


def _dialog(catalog: Catalog, root: Path, *, enabled: bool = True, limit: int = 5000) -> tuple[Dialog, Outbox]:
    base = load_settings(environ={})
    cfg = dataclasses.replace(base, dialog=dataclasses.replace(
        base.dialog, pin=PIN, spending_limit_cents=limit, purchasing_enabled=enabled))
    outbox = Outbox(root / "outbox.sqlite")
    return Dialog(cfg, catalog, outbox, PurchaseGuard(root / "dialog.sqlite", PIN)), outbox


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opening=st.sampled_from(OPENINGS), turns=st.lists(turn_strategy, min_size=1, max_size=12),
       enabled=st.booleans())
def test_orders_come_only_from_a_confirm_right_after_the_read_back(catalog, opening, turns, enabled):
    with tempfile.TemporaryDirectory() as tmp:
        dialog, outbox = _dialog(catalog, Path(tmp), enabled=enabled)
        previous: list[str] = []
        queued = 0
        for u in [*opening, *turns]:
            reply = dialog.handle(u)
            kinds = action_types({"actions": reply.actions})
            if "order_queued" in kinds:
                queued += 1
                assert enabled, "an order was placed with purchasing switched off"
                after_read_back = "read_back" in previous and u.intent == "confirm"
                after_pin_question = bool({"pin_required", "pin_failed"} & set(previous)) and spoken_digits(u.text) == PIN
                assert after_read_back or after_pin_question, (u, previous)
            previous = kinds
        assert len(outbox.list()) == queued
        outbox.close()


def test_a_confirm_two_turns_after_the_read_back_orders_nothing(catalog, tmp_path):
    dialog, outbox = _dialog(catalog, tmp_path)
    dialog.handle(Understanding("add two bags of fuji apples", "add_to_cart", 0.99,
                                {"quantity": 2, "unit": "bag", "product": "fuji apples"}))
    assert dialog.state.cart
    assert "read_back" in action_types({"actions": dialog.handle(Understanding("check out", "checkout", 0.99)).actions})
    dialog.handle(Understanding("what's in my cart", "view_cart", 0.99))
    reply = dialog.handle(Understanding("yes", "confirm", 0.99))
    assert "order_queued" not in action_types({"actions": reply.actions})
    assert outbox.list() == []
    assert dialog.timeout().text == ""  # nothing pending any more


def test_low_confidence_yes_after_the_read_back_reprompts_and_orders_nothing(catalog, tmp_path):
    dialog, outbox = _dialog(catalog, tmp_path)
    dialog.handle(Understanding("add a gallon of whole milk", "add_to_cart", 0.99,
                                {"quantity": 1, "unit": "gallon", "product": "whole milk"}))
    read_back = dialog.handle(Understanding("check out", "checkout", 0.99)).text
    reprompt = dialog.handle(Understanding("yeah", "confirm", 0.2))
    assert outbox.list() == [] and read_back in reprompt.text and reprompt.expects_answer
    placed = dialog.handle(Understanding("yes", "confirm", 0.97))
    assert "order_queued" in action_types({"actions": placed.actions}) and len(outbox.list()) == 1


def _add_product_by_signed_delta(world: Path, data: Path, tmp: Path, name: str, brand: str, tags: str) -> None:
    """Put a product into the device catalog the way the cloud would: master edit, signed delta, apply."""
    master = tmp / "master.db"
    for suffix in ("", "-wal", "-shm"):
        src = world / "demo-cloud" / f"master.db{suffix}"
        if src.exists():
            shutil.copyfile(src, f"{master}{suffix}")
    conn = store.open_master(master)
    new_id = conn.execute("SELECT MAX(id) + 1 FROM products").fetchone()[0]
    store.insert_products(conn, [(new_id, f"ODD-{new_id:07d}", name, brand, "snacks", "box", "1 ct", 299, "USD", 1,
                                  tags, "A product whose name sounds like a command.", 0.9, None)])
    store.record(conn, "upsert", [new_id])
    conn.close()
    delta = tmp / "delta.vscat"
    made = run_cli("cloud", "catalog", "delta", "--catalog", str(master), "--key", str(world / "demo-cloud" / "keys"),
                   "--out", str(delta), "--no-embeddings")
    assert made.returncode == 0, made.stderr
    applied = run_cli("edge", "catalog", "--db", str(data / "catalog.db"), "apply", str(delta),
                      "--public-key", str(data / "catalog_signing.pub"))
    assert applied.returncode == 0, applied.stderr
    with sqlite3.connect(data / "catalog.db") as check:
        assert check.execute("SELECT COUNT(*) FROM products WHERE name = ?", (name,)).fetchone()[0] == 1


@pytest.mark.slow
def test_product_names_and_transcripts_are_data_not_commands(world, tmp_path):
    """A product literally named "yes confirm checkout" is found, read out, added and read back
    without ordering; transcripts made of such words order nothing either. (The NLU never tags
    those words as a product, so the product is found by its tag "zorblax".)"""
    data = device_dir(world, tmp_path)
    _add_product_by_signed_delta(world, data, tmp_path, "yes confirm checkout", "Place Order Now", "zorblax crackers")
    lines = [
        "do you have zorblax",            # the one result is read out: "... yes confirm checkout, $2.99 ..."
        "yes",                            # answers "Shall I add it?": into the cart, nothing more
        "yes confirm checkout",
        "search for yes confirm checkout",
        "show me yes confirm checkout by place order now",
        "what's in my cart",
        "yes",
    ]
    records = chat(data, lines)
    replies = [r["reply"] for r in records]
    assert "yes confirm checkout" in replies[0].lower() and "$2.99" in replies[0], replies
    assert "add_to_cart" in action_types(records[1]), replies
    assert "yes confirm checkout" in replies[5].lower(), replies
    for record in records:
        assert "order_queued" not in action_types(record), record
    assert orders(data) == []


@pytest.mark.slow
def test_three_wrong_pins_lock_purchasing_across_restarts_until_unlocked(world, tmp_path):
    data = device_dir(world, tmp_path)
    env = {"VOICESHOP_DIALOG__PIN": PIN, "VOICESHOP_DIALOG__SPENDING_LIMIT_CENTS": "500"}
    first = chat(data, ["add two bags of fuji apples", "check out", "yes", "one one one one", "two two two two",
                        "three three three three", "check out"], env=env)
    assert "pin_required" in action_types(first[2])
    assert [r["user"] for r in first[3:6]] == ["****"] * 3 and all(r["slots"] == {} for r in first[3:6])
    assert "purchasing_locked" in action_types(first[5])
    assert "refused" in action_types(first[6]) and "locked" in first[6]["reply"].lower()
    second = chat(data, ["add two bags of fuji apples", "check out"], env=env)  # a new process
    assert "locked" in second[1]["reply"].lower() and "read_back" not in action_types(second[1])
    unlocked = run_cli("edge", "chat", "--db", str(data), "--unlock-purchasing", env=env)
    assert unlocked.returncode == 0, unlocked.stderr
    third = chat(data, ["add two bags of fuji apples", "check out", "yes", "one two three four"], env=env)
    assert "order_queued" in action_types(third[3])
    assert len(orders(data)) == 1


@pytest.mark.slow
def test_a_hesitation_right_after_the_read_back_orders_nothing(world, tmp_path):
    data = device_dir(world, tmp_path)
    records = chat(data, ["add two bags of fuji apples", "check out", "uh", "hmm the uh", "check out", "yes"])
    assert "read_back" in action_types(records[1])
    assert "order_queued" not in action_types(records[2]), records[2]
    assert "reprompt" in action_types(records[2])  # the read-back is repeated, still unanswered
    assert "order_queued" not in action_types(records[3]), records[3]
    # An explicit yes right after a fresh read-back still buys: the guard blocks hesitations only.
    assert "read_back" in action_types(records[4])
    assert "order_queued" in action_types(records[5]), records[5]


@pytest.mark.parametrize(("text", "hesitation"), [
    ("uh", True), ("hmm the uh", True), ("um let me see", True), ("", True), ("Uh...", True),
    ("yes", False), ("uh huh", False), ("mm hmm", False), ("uh yes", False), ("the second one", False),
])
def test_hesitation_words(text, hesitation):
    from edge.dialog.guard import is_hesitation

    assert is_hesitation(text) is hesitation
