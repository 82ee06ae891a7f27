"""The small pure pieces the dialogue speaks and checks with: sizes, prices, PIN digits, the PIN lock."""

from __future__ import annotations

import pytest

from edge.dialog.faq import FaqEntry, FaqMatcher
from edge.dialog.guard import MAX_PIN_FAILURES, PurchaseGuard, spoken_digits
from edge.dialog.replies import best_value, intro, money, size
from edge.dialog.state import Item


def item(size_text: str, unit: str, cents: int = 499, name: str = "Fuji apples", brand: str = "Green Valley") -> Item:
    return Item(product_id=1, sku="PRO-1", name=name, brand=brand, unit=unit, size=size_text, price_cents=cents)


@pytest.mark.parametrize(("size_text", "unit", "spoken"), [
    ("3 lb", "bag", "3 pound bag"),
    ("1 gal", "gallon", "1 gallon"),
    ("half gal", "gallon", "half gallon"),
    ("12 fl oz", "cup", "12 fluid ounce cup"),
    ("1 ct", "each", ""),
    ("12 rolls", "pack", "12 roll pack"),
    ("3 pr", "pack", "3 pair pack"),
])
def test_sizes_are_spoken_as_words_never_abbreviations(size_text, unit, spoken):
    assert size(item(size_text, unit)) == spoken


def test_intro_follows_the_seed_style():
    assert intro(item("3 lb", "bag"), verdict="Good value.") == "Green Valley Fuji apples, 3 pound bag, $4.99. Good value."
    assert intro(item("1 ct", "each", 650, "breakfast sandwich", "Road Cup")) == "Road Cup breakfast sandwich, $6.50."


def test_money_formats():
    assert [money(c) for c in (499, 1200, 5, 206058)] == ["$4.99", "$12", "$0.05", "$2,060.58"]


def test_good_value_only_when_comparable_and_cheapest_per_unit():
    small, big = item("1 lb", "bag", 199), item("5 lb", "bag", 779)
    assert best_value([small, big]) is big
    assert best_value([small]) is None
    assert best_value([small, item("64 fl oz", "bottle", 100)]) is None  # pounds vs fluid ounces


@pytest.mark.parametrize(("said", "digits"), [
    ("one two three four", "1234"), ("1234", "1234"), ("1 2 3 4", "1234"), ("my pin is four four two one", "4421"),
    ("oh nine eight seven", "0987"), ("add two apples", ""), ("yes", ""), ("", ""),
])
def test_spoken_digits(said, digits):
    assert spoken_digits(said) == digits


def test_three_wrong_pins_lock_until_reset_and_survive_a_restart(tmp_path):
    path = tmp_path / "dialog.sqlite"
    guard = PurchaseGuard(path, "1234")
    assert guard.check("one two three four") and guard.failures == 0
    for n in range(1, MAX_PIN_FAILURES + 1):
        assert not guard.check("0000")
        assert guard.failures == n
    assert guard.locked
    again = PurchaseGuard(path, "1234")  # a new process: still locked, even with the right PIN
    assert again.locked and not again.check("1234")
    again.reset()
    assert not PurchaseGuard(path, "1234").locked and PurchaseGuard(path, "1234").check("1234")


def test_a_correct_pin_resets_the_failure_count(tmp_path):
    guard = PurchaseGuard(tmp_path / "dialog.sqlite", "1234")
    assert not guard.check("1111") and not guard.check("2222")
    assert guard.check("1234") and guard.failures == 0
    assert not guard.check("3333") and not guard.locked


def test_no_pin_configured_never_accepts(tmp_path):
    guard = PurchaseGuard(tmp_path / "dialog.sqlite", "")
    assert not guard.has_pin and not guard.check("1234") and guard.failures == 0


def test_faq_lexical_fallback_matches_stems_and_refuses_unrelated():
    faq = FaqMatcher([FaqEntry("What is your return policy?", "30 days."),
                      FaqEntry("How much is delivery?", "Free over $35."),
                      FaqEntry("What are your store hours?", "7 am to 10 pm.")])
    assert faq.answer("can I return something").answer == "30 days."
    assert faq.answer("what does delivery cost").answer == "Free over $35."
    assert faq.answer("when are your hours").answer == "7 am to 10 pm."
    assert faq.answer("tell me a joke about penguins") is None
