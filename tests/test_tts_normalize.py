"""Text normalization for speech (prices, units, numbers, abbreviations) and clause splitting."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.tts.clauses import split_clauses
from edge.tts.normalize import normalize
from edge.tts.numbers import cardinal, ordinal, price

TABLE = [
    ("$4.99", "four ninety-nine"),
    ("$12.00", "twelve dollars"),
    ("$12", "twelve dollars"),
    ("$1.00", "one dollar"),
    ("$0.99", "ninety-nine cents"),
    ("$0.01", "one cent"),
    ("$4.05", "four oh five"),
    ("$4.5", "four fifty"),
    ("$1,250.75", "one thousand two hundred fifty dollars and seventy-five cents"),
    ("$2.5 million", "two point five million dollars"),
    ("99¢", "ninety-nine cents"),
    ("$3.49/lb", "three forty-nine per pound"),
    ("3 lb", "three pound"),
    ("3 lbs", "three pounds"),
    ("a 3-lb bag", "a three pound bag"),
    ("12 oz", "twelve ounce"),
    ("64 fl oz", "sixty-four fluid ounce"),
    ("1.5 kg", "one point five kilogram"),
    ("500 ml", "five hundred milliliter"),
    ("1 gal", "one gallon"),
    ("6 pk", "six pack"),
    ("12 ct", "twelve count"),
    ("2 x 500 ml", "two by five hundred milliliter"),
    ("2 x Oat Milk", "two Oat Milk"),
    ("Oat Milk x2", "Oat Milk, times two"),
    ("1 1/2 lb", "one and a half pound"),
    ("½ gal", "one half gallon"),
    ("3/4 cup", "three quarters cup"),
    ("20% off", "twenty percent off"),
    ("the 2nd one", "the second one"),
    ("the 21st", "the twenty-first"),
    ("2-3 days", "two to three days"),
    ("a 6-pack", "a six pack"),
    ("at 3:30 pm", "at three thirty pee em"),
    ("by 10:00", "by ten o'clock"),
    ("1,250 items", "one thousand two hundred fifty items"),
    ("order 4071239", "order four zero seven one two three nine"),
    ("No. 5", "number five"),
    ("#12", "number twelve"),
    ("Dr. Bronner's soap", "doctor Bronner's soap"),
    ("Ask Dr. Smith", "Ask doctor Smith"),
    ("It's on 12 Elm Dr.", "It's on twelve Elm drive."),
    ("St. Louis", "saint Louis"),
    ("Main St. is closed", "Main street is closed"),
    ("Ben & Jerry's", "Ben and Jerry's"),
    ("salt, pepper, etc. Done.", "salt, pepper, et cetera. Done."),
    ("e.g. oat milk", "for example oat milk"),
    ("Qty: 3", "quantity: three"),
    ("w/ lid", "with lid"),
    ("about -5 degrees", "about minus five degrees"),
    ("I added 2 bags of coffee ($8.98) to your cart.",
     "I added two bags of coffee (eight ninety-eight) to your cart."),
]


@pytest.mark.parametrize("text,spoken", TABLE)
def test_normalization_table(text, spoken):
    assert normalize(text) == spoken


def test_number_words():
    assert [cardinal(n) for n in (0, 13, 40, 99, 101, 1000, 1001, 2024, 1_000_000)] == [
        "zero", "thirteen", "forty", "ninety-nine", "one hundred one", "one thousand", "one thousand one",
        "two thousand twenty-four", "one million"]
    assert [ordinal(n) for n in (1, 2, 3, 5, 12, 20, 23, 100)] == [
        "first", "second", "third", "fifth", "twelfth", "twentieth", "twenty-third", "one hundredth"]
    assert price(100, 5) == "one hundred dollars and five cents"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789$.,:/%x-#&½¢ abcDr.lbozpk\n")), max_size=40))
def test_normalize_never_crashes_and_leaves_no_digits(text):
    out = normalize(text)
    assert not re.search(r"\d", out), (text, out)
    assert "$" not in out and "%" not in out


@given(st.integers(min_value=0, max_value=10**12))
def test_cardinal_is_words_only(n):
    assert re.fullmatch(r"[a-z -]+", cardinal(n))


CLAUSES = [
    ("Sure, I added two bags of coffee to your cart. Anything else?",
     ["Sure,", "I added two bags of coffee to your cart.", "Anything else?"]),
    ("I added two bags of coffee to your cart.", ["I added two bags", "of coffee to your cart."]),
    ("Okay.", ["Okay."]),
    ("Your total is twelve dollars and fifty cents. Shall I place the order?",
     ["Your total is", "twelve dollars and fifty cents.", "Shall I place the order?"]),
    ("...", []),
    ("", []),
]


@pytest.mark.parametrize("text,clauses", CLAUSES)
def test_clause_splitting(text, clauses):
    assert split_clauses(text, first_max_words=4, max_words=14) == clauses


def test_clauses_keep_number_phrases_whole_and_respect_limits():
    text = ("I found three kinds of oat milk: Oatly Barista Edition, sixty-four fluid ounce, for four "
            "ninety-nine; Silk Oat Yeah, sixty-four fluid ounce, for three seventy-nine; and Planet Oat "
            "Original, fifty-two fluid ounce, for three forty-nine. Which one would you like?")
    clauses = split_clauses(text, first_max_words=4, max_words=14)
    assert len(clauses[0].split()) <= 4
    assert all(len(c.split()) <= 14 for c in clauses)
    assert " ".join(clauses).split() == text.split()  # nothing lost or reordered
    assert not any(c.startswith(("ninety", "dollars", "seventy")) for c in clauses)


@given(st.lists(st.sampled_from(["milk", "two", "dollars", "and", "for", "the", ",", ".", "?", "oat"]),
                max_size=60), st.integers(1, 6), st.integers(6, 20))
def test_clauses_never_lose_words(words, first, most):
    text = " ".join(words)
    clauses = split_clauses(text, first, most)
    spoken = [w for w in text.split() if re.search(r"[a-z]", w)]
    assert [w for w in " ".join(clauses).split() if re.search(r"[a-z]", w)] == spoken
    if clauses:
        assert len(clauses[0].split()) <= first
    assert all(len(c.split()) <= most for c in clauses)


def test_control_characters_never_reach_the_phonemizer():
    assert normalize("\x00hi\x01 there\u200b!") == "hi there!"


def test_a_long_digit_run_is_not_cut_into_one_word_clauses():
    clauses = split_clauses(normalize("Your code is 99999999999999999999."), 4, 14)
    assert all(len(c.split()) >= 2 for c in clauses[1:])
    assert len(clauses) <= 4
