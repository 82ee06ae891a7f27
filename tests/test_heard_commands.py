"""Misheard command words re-read by sound (edge/catalog/heard_commands.py) and what the dialogue does with
such a reading: the intent the words sound like, but the cart changes only after a yes; typed and
correctly heard lines unchanged.

The heard lines are tiny.en transcripts from `python -m bench task --dev` (dev voices, not the held-out
bench). The session tests go through the real NLU: they assert what the reading must give (the intent,
no cart change without a yes), with margins wide enough for another CPU's INT8 rounding (the NLU reads
the repaired lines at 0.9-0.98 against 0.4-0.8 for the heard ones)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from edge.catalog.catalog import Catalog
from edge.catalog.correction import CatalogCorrector, espeak_pronouncer
from edge.catalog.heard_commands import CommandReader
from edge.config import load_settings
from edge.dialog import Dialog, PurchaseGuard
from edge.dialog.linking import to_item
from edge.dialog.session import ShopSession
from edge.dialog.state import CartLine, DialogState
from edge.events import Understanding
from edge.orders import Outbox
from edge.simulation.world import demo_catalog, device_dir
from tests.conftest import MODELS_DIR

HELDOUT = Path(__file__).with_name("data") / "nlu_heldout.jsonl"


@pytest.fixture(scope="module")
def world(bundle):
    bundle("nlu")
    return demo_catalog(MODELS_DIR)


@pytest.fixture(scope="module")
def catalog(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("heard") / "catalog.db"
    shutil.copyfile(world / "catalog.db", path)
    cat = Catalog(path)
    yield cat
    cat.close()


@pytest.fixture(scope="module")
def reader(catalog) -> CommandReader:
    return CatalogCorrector(catalog.conn, pronounce=espeak_pronouncer()).command_reader()


@pytest.fixture(scope="module")
def session(world, tmp_path_factory):
    shop = ShopSession(load_settings(environ={}), device_dir(world, tmp_path_factory.mktemp("shop")), broker_url="")
    yield shop
    shop.close()


def _cart(session: ShopSession, *names: str) -> None:
    """A fresh conversation whose cart holds one of each named product (its most popular SKU in stock)."""
    lines = []
    for name in names:
        cursor = session.catalog.conn.execute("SELECT * FROM products WHERE name = ? AND in_stock = 1 "
                                              "ORDER BY popularity DESC, id LIMIT 1", (name,))
        row = dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))
        lines.append(CartLine(to_item(SimpleNamespace(**row)), 1))
    session.dialog.state = DialogState(cart=lines)


def _cart_names(session: ShopSession) -> list[str]:
    return [line.item.name for line in session.dialog.state.cart]


def test_misheard_openings_and_frame_nouns_are_read_as_commands(reader):
    remove = [r for r in reader.readings("Will move, but get these please.") if r.written == "remove"]
    assert remove and remove[0].verb and remove[0].text.startswith("remove ")
    assert "where is my order" in {r.text for r in reader.readings("Where is my over?")}
    assert "please cancel my last order" in {r.text for r in reader.readings("Please cancel my last orchard.")}
    assert any(r.written == "put" and r.verb for r in reader.readings("but three cans of chip fees in my car."))
    delete = [r for r in reader.readings("actually believe the cheddar cheese") if r.written == "actually delete"]
    assert delete and delete[0].text == "actually delete the cheddar cheese"


@pytest.mark.parametrize("text", ["checkout please", "check out please", "add two bags of baby carrots",
                                  "good night shop", "send my order through", "remove the chickpeas"])
def test_a_command_said_or_a_content_word_is_not_re_read(reader, text):
    """Openings said (also as one word: "checkout"), a content word one sound off ("good" is no "put"), a
    span already holding its frame noun ("send my order" is no "where is my order")."""
    assert not [r for r in reader.readings(text) if r.text.split()[0] != text.lower().split()[0]], reader.readings(text)


def test_chinese_lines_have_no_readings(reader):
    assert reader.readings("把苹果删掉") == []


def test_typed_held_out_lines_keep_their_intent(reader, session):
    """The NLU's hand-written held-out lines, each taken as heard word for word: no reading turns a right
    intent wrong (measured: none is re-read at all; 832 generated held-out lines neither)."""
    broken = []
    for line in map(json.loads, HELDOUT.read_text().splitlines()):
        heard = session.nlu.understand(line["text"])
        chosen, reading = reader.choose(session.nlu.understand, line["text"], heard)
        if reading is not None and heard.intent == line["intent"] != chosen.intent:
            broken.append((line["text"], reading.text, chosen.intent))
    assert broken == []


def test_a_misheard_remove_asks_before_removing(session):
    _cart(session, "cheddar cheese", "lemons")
    turn = session.turn("actually believe the cheddar cheese", settle=False, heard=True)
    assert turn.intent == "remove_from_cart" and turn.raw_text == "actually believe the cheddar cheese"
    assert {"heard": "actually believe", "written": "actually delete", "kind": "command"}.items() <= \
        turn.corrections[-1].items()
    assert _cart_names(session) == ["cheddar cheese", "lemons"]
    assert turn.reply.expects_answer and "cheddar cheese" in turn.reply.text
    assert not [a for a in turn.reply.actions if a["type"] == "remove_from_cart"]
    no = session.turn("no", settle=False, heard=True)
    assert _cart_names(session) == ["cheddar cheese", "lemons"], no.reply.text
    session.turn("actually believe the cheddar cheese", settle=False, heard=True)
    yes = session.turn("yes", settle=False, heard=True)
    assert [a["type"] for a in yes.reply.actions] == ["remove_from_cart"] and _cart_names(session) == ["lemons"]


def test_typed_lines_are_not_re_read(session):
    _cart(session, "cheddar cheese", "lemons")
    turn = session.turn("actually believe the cheddar cheese", settle=False)
    assert turn.intent != "remove_from_cart" and turn.raw_text is None
    assert _cart_names(session) == ["cheddar cheese", "lemons"]


@pytest.mark.parametrize("heard", ["but three cans of chip fees in my car.", "Gert me's expatels of ginger ale.",
                                   "Got me so spottles of gintre."])
def test_a_misheard_add_is_add_to_cart_but_adds_nothing_without_a_yes(session, heard):
    _cart(session)
    turn = session.turn(heard, settle=False, heard=True)
    # read as an add by a repaired verb, or (the 7-bit NLU, "but three cans ...") by the NLU itself at low confidence:
    # either way nothing goes into the cart before a yes
    assert turn.intent == "add_to_cart"
    assert session.dialog.state.cart == [] and turn.reply.expects_answer
    session.turn("no", settle=False, heard=True)
    assert session.dialog.state.cart == []


def test_where_is_my_over_is_an_order_question(session):
    _cart(session)
    turn = session.turn("Where is my over?", settle=False, heard=True)
    assert turn.intent == "order_status" and turn.user == "where is my order"
    assert turn.to_record()["raw_text"] == "Where is my over?"


def _dialog(catalog, root: Path) -> Dialog:
    return Dialog(load_settings(environ={}), catalog, Outbox(root / "outbox.sqlite"),
                  PurchaseGuard(root / "dialog.sqlite", "1234"))


def test_a_repaired_add_of_a_name_said_word_for_word_is_offered_not_added(catalog, tmp_path):
    """The product named exactly and a quantity: heard "add", it goes in the cart; read "add", it is asked about."""
    said = Understanding("add two bottles of ginger ale", "add_to_cart", 0.98,
                         {"quantity": 2, "unit": "bottle", "product": "ginger ale"})
    plain = _dialog(catalog, tmp_path / "plain")
    assert [a["type"] for a in plain.handle(said).actions] == ["add_to_cart"]
    read = _dialog(catalog, tmp_path / "read")
    reply = read.handle(dataclasses.replace(said, repaired=True))
    assert read.state.cart == [] and read.state.pending.kind == "confirm_add" and reply.expects_answer
    reply = read.handle(Understanding("yes", "confirm", 0.95))
    assert [a["type"] for a in reply.actions] == ["add_to_cart"] and read.state.cart[0].quantity == 2


def test_a_repaired_add_of_the_item_referred_to_is_asked_about(catalog, tmp_path):
    """"Add two of the first one" heard: added; read from words that sound like it: asked about."""
    added = {}
    for repaired in (False, True):
        dialog = _dialog(catalog, tmp_path / str(repaired))
        dialog.handle(Understanding("find ginger ale", "search", 0.98, {"product": "ginger ale"}))
        assert dialog.state.last_results
        dialog.state.pending = None  # a repaired reading is never an answer: the session re-reads only outside a question
        reply = dialog.handle(Understanding("add two of the first one", "add_to_cart", 0.97,
                                            {"quantity": 2, "ordinal": 1}, repaired=repaired))
        added[repaired] = [line.quantity for line in dialog.state.cart]
        if repaired:
            assert reply.expects_answer and dialog.state.pending.kind == "confirm_add"
    assert added == {False: [2], True: []}
