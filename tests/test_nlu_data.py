"""The training-data generator: seeded, exact spans, the full schema, and honest hold-outs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge.nlu.schema import INTENTS, SLOTS
from export.nlu_data import build_splits, catalog_vocabulary, training_vocabulary
from export.nlu_eval import load_handwritten
from tests.conftest import REPO

HAND = REPO / "tests" / "data" / "nlu_heldout.jsonl"


@pytest.fixture(scope="module")
def splits():
    return build_splits()


def test_same_seed_same_data(splits):
    again = build_splits()
    assert [e.to_json() for e in again["train"][:200]] == [e.to_json() for e in splits["train"][:200]]
    other = build_splits(seed=99)
    assert [e.text for e in other["train"][:50]] != [e.text for e in splits["train"][:50]]


def test_spans_are_exact_whole_words(splits):
    for ex in splits["train"] + splits["unseen_both"]:
        for start, end, slot in ex.spans:
            words = ex.text[start:end]
            assert words and words == words.strip(), (ex.text, slot)
            assert start == 0 or not ex.text[start - 1].isalnum(), (ex.text, words)
            assert end == len(ex.text) or not ex.text[end].isalnum(), (ex.text, words)
            assert slot in SLOTS


def test_every_intent_and_slot_is_generated(splits):
    train = splits["train"]
    assert {e.intent for e in train} == set(INTENTS)
    assert {s for e in train for _a, _b, s in e.spans} == set(SLOTS)
    assert 2500 <= len(train) <= 6000
    assert any(len({s for *_x, s in e.spans}) >= 3 for e in train), "multi-slot utterances"


def test_asr_styles_and_numbers_both_ways(splits):
    texts = [e.text for e in splits["train"]]
    assert any(t == t.lower() and not re.search(r"[.?!,]", t) for t in texts)
    assert any(re.match(r"[A-Z].*[.?]$", t) for t in texts)
    quantities = [e.text[a:b] for e in splits["train"] for a, b, s in e.spans if s == "quantity"]
    assert any(q.isdigit() for q in quantities) and any(q.isalpha() for q in quantities)
    assert any(f in t.split() for t in texts for f in ("um", "uh"))


def test_held_out_patterns_and_products_are_really_unseen(splits):
    train_patterns = {e.pattern for e in splits["train"]}
    assert not train_patterns & {e.pattern for e in splits["unseen_patterns"]}
    assert not train_patterns & {e.pattern for e in splits["unseen_both"]}
    train_words, held_words = catalog_vocabulary()
    assert not set(train_words.products) & set(held_words.products)
    train_texts = {e.text.lower() for e in splits["train"]}
    for name in ("unseen_patterns", "unseen_products", "unseen_both"):
        assert len(splits[name]) >= 200
        assert not train_texts & {e.text.lower() for e in splits[name]}
    for ex in splits["unseen_products"]:
        for start, end, slot in ex.spans:
            if slot == "product":
                assert ex.text[start:end].lower() not in {p.lower() for p in train_words.products}


def test_handwritten_set_covers_the_schema_and_its_unseen_claims_hold():
    examples = load_handwritten(HAND)
    assert len(examples) >= 150
    assert {e.intent for e in examples} == set(INTENTS)
    assert {s for e in examples for *_x, s in e.spans} == set(SLOTS)
    vocab = training_vocabulary()
    unseen = [e for e in examples if e.split == "unseen_product"]
    assert len(unseen) >= 15
    for ex in unseen:
        products = [ex.text[a:b].lower() for a, b, s in ex.spans if s == "product"]
        assert products and not set(products) & vocab, ex.text
    generated = {e.text.lower() for split in build_splits().values() for e in split}
    assert not generated & {e.text.lower() for e in examples}, "hand-written lines must not come from the generator"


def test_handwritten_file_is_valid_jsonl():
    assert Path(HAND).read_text().endswith("\n")
