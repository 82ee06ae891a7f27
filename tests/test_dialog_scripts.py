"""Scripted dialogues (tests/data/dialogs/*.yaml) through `python -m edge chat --json`, end to end:
the real NLU bundle, the demo catalog as a device gets it, a real outbox.

A script is a list of turns; each turn has the line the user says (`say`, "" for silence) and what
must hold after it:

    intent: add_to_cart            # what the NLU made of the line
    reply_has: [apples, "$"]       # substrings of the reply (case-insensitive)
    reply_lacks: [...]
    actions: [add_to_cart]         # action types that must be among the reply's actions
    no_actions: [order_queued]     # action types that must not
    pending: quantity              # the question left open (null: none)
    expects_answer: true
    cart_lines: 1                  # lines in the cart; cart_total_cents likewise
    results: 3                     # how many results were read out (last_results)

Every reply must also come out of the TTS normalizer with no digit or "$" left (the replies'
display-text convention, see edge/dialog/replies.py). At the end, `orders: N` (orders in the outbox) and `order_states: [...]`. `profile` and `env`
(VOICESHOP_* overrides) set up the device.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.simulation.world import demo_catalog, device_dir
from edge.tts.normalize import normalize
from tests.conftest import MODELS_DIR
from tests.dialog_rig import action_types, chat, orders

SCRIPTS = sorted((Path(__file__).parent / "data" / "dialogs").glob("*.yaml"))


@pytest.fixture(scope="session")
def world(bundle):
    bundle("nlu")
    return demo_catalog(MODELS_DIR)


def check_turn(n: int, turn: dict[str, Any], record: dict[str, Any]) -> None:
    where = f"turn {n} {turn['say']!r} -> {record['reply']!r} (intent {record['intent']}, slots {record['slots']})"
    reply = record["reply"].lower()
    if "intent" in turn:
        assert record["intent"] == turn["intent"], where
    for text in turn.get("reply_has", []):
        assert str(text).lower() in reply, f"{where}: missing {text!r}"
    for text in turn.get("reply_lacks", []):
        assert str(text).lower() not in reply, f"{where}: should not say {text!r}"
    types = action_types(record)
    for kind in turn.get("actions", []):
        assert kind in types, f"{where}: no {kind} action in {types}"
    for kind in turn.get("no_actions", []):
        assert kind not in types, f"{where}: unexpected {kind} action"
    state = record["state"]
    if "pending" in turn:
        assert state["pending"] == turn["pending"], f"{where}: pending {state['pending']}"
    if "expects_answer" in turn:
        assert record["expects_answer"] == turn["expects_answer"], where
    if "cart_lines" in turn:
        assert len(state["cart"]) == turn["cart_lines"], f"{where}: cart {state['cart']}"
    if "cart_total_cents" in turn:
        assert state["cart_total_cents"] == turn["cart_total_cents"], where
    if "results" in turn:
        assert len(state["last_results"]) == turn["results"], f"{where}: results {state['last_results']}"
    if "user" in turn:
        assert record["user"] == turn["user"], where
    # Replies are display text ("$4.99", "3 pound bag"); the TTS front end must be able to say all of it.
    spoken = normalize(record["reply"])
    assert not re.search(r"[0-9$]", spoken), f"{where}: TTS would not say {spoken!r}"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_scripted_dialogue(script: Path, world: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(script.read_text())
    data = device_dir(world, tmp_path)
    turns = spec["turns"]
    assert all(isinstance(t["say"], str) for t in turns), "quote yes/no in YAML: unquoted they are booleans"
    records = chat(data, [t["say"] for t in turns], profile=spec.get("profile"),
                   env={k: str(v) for k, v in (spec.get("env") or {}).items()})
    for n, (turn, record) in enumerate(zip(turns, records, strict=True), 1):
        check_turn(n, turn, record)
    stored = orders(data)
    if "orders" in spec:
        assert len(stored) == spec["orders"], stored
    if "order_states" in spec:
        assert [o["state"] for o in stored] == spec["order_states"], stored
