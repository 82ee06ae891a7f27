"""The NLU's heard training lines: labels carried onto real transcripts, and nothing held out leaks in."""

from __future__ import annotations

from export.nlu_data import HOLDOUT_EVERY, Example
from export.nlu_heard import HEARD_FILE, MAX_WER, carry_labels, heard_splits, load

SAID = Example("add two bags of avocados to my cart", "add_to_cart",
               ((4, 7, "quantity"), (8, 12, "unit"), (16, 24, "product")), "add_to_cart:1")


def _slots(example: Example | None) -> list[tuple[str, str]]:
    assert example is not None
    return [(example.text[a:b], slot) for a, b, slot in example.spans]


def test_a_misheard_product_stays_the_product() -> None:
    heard = carry_labels(SAID, "Add 2 bags of abacados to my cart.")
    assert _slots(heard) == [("2", "quantity"), ("bags", "unit"), ("abacados", "product")]
    assert heard is not None and heard.intent == "add_to_cart" and heard.pattern == "heard:add_to_cart:1"


def test_a_split_product_is_one_span_and_punctuation_stays_out() -> None:
    assert _slots(carry_labels(SAID, "at two bags of oh cados to my cart.")) == [
        ("two", "quantity"), ("bags", "unit"), ("oh cados", "product")]


def test_a_quantity_heard_as_another_word_loses_its_label() -> None:
    assert _slots(carry_labels(SAID, "Add to bags of avocados to my car.")) == [("bags", "unit"),
                                                                                 ("avocados", "product")]


def test_nothing_heard_gives_no_example() -> None:
    assert carry_labels(SAID, "") is None
    assert carry_labels(SAID, "   ") is None


def test_the_kept_transcripts_hold_no_held_out_material_in_training() -> None:
    heard = load()
    assert len(heard) >= 1000, f"{HEARD_FILE} is missing or short: run `python -m export.nlu_heard`"
    for line in heard:
        if line.example.split != "train":
            continue
        intent, index = line.example.pattern.removeprefix("heard:").rsplit(":", 1)
        if index.isdigit():
            assert int(index) % HOLDOUT_EVERY != HOLDOUT_EVERY - 2, line.example.pattern
    changed = [h for h in heard if h.example.text.lower().strip(".?!") != h.said.lower()]
    assert len(changed) > len(heard) // 4, "the transcripts should differ from the script (that is the point)"


def test_the_heard_held_out_set_is_held_out_and_filtered() -> None:
    splits = heard_splits()
    assert len(splits["heard_heldout"]) >= 150
    assert all(e.split != "train" for e in splits["heard_heldout"])
    kept = {h.example.text for h in load() if h.wer <= MAX_WER}
    assert all(e.text in kept for e in splits["heard_heldout"]), "lines that lost half their words are left out"
