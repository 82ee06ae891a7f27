"""Slot normalization and BIO decoding: pure functions, no model needed."""

from __future__ import annotations

import pytest

from edge.nlu.normalize import (
    normalize_slot,
    parse_ordinal,
    parse_price,
    parse_quantity,
    quantity_context,
    singular_unit,
)
from edge.nlu.understand import decode_bio


@pytest.mark.parametrize("text, value", [
    ("two", 2), ("2", 2), ("a", 1), ("an", 1), ("one", 1), ("twelve", 12), ("10", 10), ("a couple", 2),
    ("twenty four", 24), ("twenty-four", 24), ("five hundred", 500), ("500", 500), ("1,000", 1000),
    ("a dozen", 12), ("half a dozen", 6),
])
def test_quantity_words_and_digits(text, value):
    assert parse_quantity(text) == value
    assert isinstance(parse_quantity(text), int)


@pytest.mark.parametrize("text, value", [
    ("fifteen dollars", 15), ("$15", 15), ("15 bucks", 15), ("twenty", 20), ("$4.99", 4.99),
    ("4.99", 4.99), ("four ninety nine", 4.99), ("four ninety-nine", 4.99), ("nineteen ninety nine", 19.99),
    ("four dollars and fifty cents", 4.5), ("99 cents", 0.99), ("a hundred dollars", 100),
    ("two hundred fifty dollars", 250), ("ten", 10),
])
def test_price_as_spoken_or_written(text, value):
    assert parse_price(text) == value


@pytest.mark.parametrize("text, value", [
    ("second", 2), ("2nd", 2), ("3rd", 3), ("first", 1), ("fifth", 5), ("last", -1), ("second to last", -2),
    ("two", 2), ("3", 3),
])
def test_ordinal(text, value):
    assert parse_ordinal(text) == value


@pytest.mark.parametrize("text, unit", [
    ("bags", "bag"), ("bag", "bag"), ("lbs", "pound"), ("lb", "pound"), ("pounds", "pound"), ("loaves", "loaf"),
    ("boxes", "box"), ("dozen", "dozen"), ("bunches", "bunch"), ("kilos", "kilo"), ("oz", "ounce"),
    ("gallons", "gallon"), ("cans", "can"), ("Bottles", "bottle"), ("packs", "pack"), ("berries", "berry"),
])
def test_unit_singular(text, unit):
    assert singular_unit(text) == unit


@pytest.mark.parametrize("text, value", [
    ("minus two", -2), ("-2", -2), ("negative 3", -3), ("one million", 1_000_000), ("1e9", 1_000_000_000),
    ("2.5", 2.5), ("two and a half", 2.5), ("two point five", 2.5), ("zero", 0), ("half", 0.5),
])
def test_odd_quantities_come_back_as_said_not_rounded(text, value):
    """Issue 15 item 4: these used to become 2 or 1; the dialogue now says them back and asks."""
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text, span, widened", [
    ("add minus two bags", "two", "minus two"), ("add -2 bags", "2", "-2"), ("add 2.5 bags", "2", "2.5"),
    ("add two and a half bags", "two", "two and a half"), ("add one million apples", "one", "one million"),
    ("add 1e9 apples", "1", "1e9"), ("add twenty-two apples", "two", "two"), ("add two bags", "two", "two"),
])
def test_a_quantity_span_takes_its_sign_and_fraction(text, span, widened):
    start = text.index(span, 4)
    a, b = quantity_context(text, start, start + len(span))
    assert text[a:b] == widened


def test_unreadable_numbers_give_none_not_a_guess():
    assert parse_quantity("some") is None
    assert parse_price("cheap") is None
    assert parse_ordinal("other") is None
    assert normalize_slot("quantity", "lots") is None


def test_product_and_brand_keep_their_words():
    assert normalize_slot("product", "Fuji apples") == "Fuji apples"
    assert normalize_slot("product", "the oat milk,") == "oat milk"
    assert normalize_slot("brand", "Baker's Row") == "Baker's Row"


def test_decode_bio_spans_and_lenient_inside_tags():
    text = "add two bags of fuji apples"
    words = [(0, 3), (4, 7), (8, 12), (13, 15), (16, 20), (21, 27)]
    tags = ["O", "B-quantity", "B-unit", "O", "B-product", "I-product"]
    spans = decode_bio(tags, words)
    assert [(text[a:b], s) for a, b, s in spans] == [("two", "quantity"), ("bags", "unit"), ("fuji apples", "product")]
    # An I- tag with no B- still makes a span; a change of slot closes the previous one.
    spans = decode_bio(["I-product", "I-product", "I-brand", "O"], words[:4])
    assert [(a, b, s) for a, b, s in spans] == [(0, 7, "product"), (8, 12, "brand")]
