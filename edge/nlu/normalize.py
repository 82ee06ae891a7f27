"""Turn slot words into values the dialogue can use: numbers for quantity, price and position,
singular units, tidy product and brand strings.

Speech recognition writes numbers both ways (Whisper often returns "10" for "ten", "$4.99" for
"four ninety-nine"), so every numeric slot accepts digits and English number words. A value we
cannot read comes back as None and the caller omits the slot rather than guessing.
"""

from __future__ import annotations

import math
import re

_SMALL = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "last": -1, "final": -1,
    "top": 1,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_CURRENCY = {"dollar", "dollars", "buck", "bucks", "usd", "$"}
_CENTS = {"cent", "cents"}

# Abbreviations and irregular plurals; everything else goes through the regular rules below.
_UNIT_ALIASES = {
    "lb": "pound", "lbs": "pound", "pounds": "pound", "kg": "kilo", "kgs": "kilo", "kilos": "kilo",
    "kilogram": "kilo", "kilograms": "kilo", "oz": "ounce", "ounces": "ounce", "gal": "gallon",
    "gals": "gallon", "pk": "pack", "pkg": "pack", "pkgs": "pack", "package": "pack", "packages": "pack",
    "doz": "dozen", "dozens": "dozen", "l": "liter", "litre": "liter", "litres": "liter", "liters": "liter",
    "ltr": "liter", "ml": "milliliter", "loaves": "loaf", "pcs": "piece", "pc": "piece", "ct": "count",
    "each": "each", "six-pack": "six pack", "sixpack": "six pack",
}

_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|[a-z]+|\$")
_LEADING_FILLER = re.compile(r"^(?:the|some|any|a|an|more|of)\s+", re.IGNORECASE)
_EDGE_PUNCT = " \t\n.,!?;:\"'()[]"


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("-", " "))


def _digits(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def _number_groups(words: list[str]) -> list[float]:
    """Number words (and digits) as separate spoken groups: "four ninety nine" -> [4, 99].

    A new group starts where English would not combine the words ("four" then "ninety"), which
    is how prices are spoken; "twenty five" and "two hundred fifty" stay one group.
    """
    groups: list[float] = []
    current: float | None = None
    last = ""

    def push() -> None:
        nonlocal current
        if current is not None:
            groups.append(current)
        current = None

    for word in words:
        value = _digits(word)
        if value is not None:
            push()
            current, last = value, "digits"
        elif word in _SMALL:
            if current is not None and last in ("tens", "scale"):
                current += _SMALL[word]
                last = "small_tail"
            else:
                push()
                current, last = float(_SMALL[word]), "small"
        elif word in _TENS:
            if current is not None and last == "scale":
                current += _TENS[word]
            else:
                push()
                current = float(_TENS[word])
            last = "tens"
        elif word in _SCALES:
            current = (current if current is not None else 1.0) * _SCALES[word]
            last = "scale"
        elif word in ("a", "an"):
            push()
            current, last = 1.0, "article"
        elif word == "couple":
            current, last = 2.0, "small"
        elif word == "dozen":
            current = (current if current is not None else 1.0) * 12
            last = "small"
        elif word == "half" and last == "":
            current, last = 0.5, "small"
    push()
    return groups


def _tidy(value: float) -> int | float:
    """Whole numbers as int (2, not 2.0); others rounded to cents."""
    return int(value) if float(value).is_integer() else round(value, 2)


_NEGATIVE = re.compile(r"^(?:minus|negative)\b|^[-\u2212]\s*\d")
_SCIENTIFIC = re.compile(r"\d+(?:\.\d+)?e[+-]?\d+")
_AND_A_HALF = re.compile(r"\band\s+(?:a\s+)?half\b")
_POINT = re.compile(r"\bpoint\s+([a-z]+|\d+)")
_BEFORE_NUMBER = re.compile(r"(?:\b(?:minus|negative)\s+|(?:^|(?<=\s))[-\u2212]\s*)$", re.IGNORECASE)
_AFTER_NUMBER = re.compile(r"(?:[.,]\d+|[eE][+-]?\d+)*(?:\s+(?:and\s+(?:a\s+)?half|point\s+[a-z0-9]+|hundred|thousand"
                           r"|million|billion|trillion)\b)*", re.IGNORECASE)


def quantity_context(text: str, start: int, end: int) -> tuple[int, int]:
    """A quantity span widened to the words that change its value: a sign before it ("minus two",
    "-2") and a fraction, decimals, exponent or scale after it ("two and a half", "2.5", "1e9",
    "one million"). The tokenizer splits "2.5" and "-2" into words the model may tag only in part;
    reading the part alone turned "minus two" into 2 and "one million" into 1 (issue 15)."""
    before = _BEFORE_NUMBER.search(text[:start])
    after = _AFTER_NUMBER.match(text, end)
    return (before.start() if before else start), (after.end() if after else end)


def parse_quantity(text: str) -> int | float | None:
    """"two" -> 2, "10" -> 10, "a" -> 1, "a couple" -> 2, "twenty four" -> 24, "a dozen" -> 12.

    Whatever number was said comes back as said, even when no cart takes it ("minus two" -> -2,
    "two and a half" -> 2.5, "one million" -> 1000000, "1e9" -> 1000000000, "zero" -> 0): the
    dialogue says it back and asks, rather than this function quietly making it 2 or 1.
    """
    lowered = text.lower().strip()
    scientific = _SCIENTIFIC.search(lowered)
    if scientific:
        value = float(scientific.group())
    else:
        words = _tokens(lowered)
        if "half" in words and "dozen" in words:
            return 6
        groups = _number_groups(words)
        if not groups:
            return None
        value = groups[0]
        if _AND_A_HALF.search(lowered):
            value += 0.5
        point = _POINT.search(lowered)
        if point:
            decimals = _number_groups([point.group(1)])
            if decimals and decimals[0] >= 1 and float(decimals[0]).is_integer():
                value += decimals[0] / 10 ** len(str(int(decimals[0])))
    if _NEGATIVE.search(lowered):
        value = -value
    if not math.isfinite(value):
        return None
    return _tidy(value)


def parse_price(text: str) -> int | float | None:
    """A spoken or written amount in dollars: "fifteen dollars" -> 15, "$4.99" -> 4.99,
    "four ninety nine" -> 4.99, "four dollars and fifty cents" -> 4.5, "99 cents" -> 0.99."""
    words = _tokens(text)
    if not words:
        return None
    if any(w in _CENTS for w in words):
        cut = next((i for i, w in enumerate(words) if w in _CURRENCY and w != "$"), None)
        dollars = _number_groups(words[:cut]) if cut is not None else []
        cents = _number_groups(words[cut + 1:] if cut is not None else words)
        if not dollars and not cents:
            return None
        return _tidy(sum(dollars[:1]) + (cents[0] / 100 if cents else 0))
    groups = _number_groups([w for w in words if w not in _CURRENCY])
    if not groups:
        return None
    if len(groups) >= 2 and groups[0] == int(groups[0]) and 0 <= groups[1] < 100 and groups[1] == int(groups[1]):
        # "four ninety nine", "twelve fifty": dollars then cents, as prices are read aloud.
        return _tidy(groups[0] + groups[1] / 100)
    return _tidy(groups[0])


def parse_ordinal(text: str) -> int | None:
    """Position in the list just read: "second" -> 2, "3rd" -> 3, "last" -> -1, "number two" -> 2.

    Negative numbers count from the end ("second to last" -> -2), as Python indexes do.
    """
    words = _tokens(text)
    for i, word in enumerate(words):
        if word.isdigit() and int(word) > 0:
            return int(word)  # "2", and "2nd" (tokenized as "2", "nd")
        if word in _ORDINALS:
            value = _ORDINALS[word]
            rest = words[i + 1:i + 3]
            if value > 0 and (rest[:1] == ["last"] or rest == ["to", "last"]):
                return -value
            return value
    groups = _number_groups(words)
    if groups and groups[0] >= 1 and float(groups[0]).is_integer():
        return int(groups[0])
    return None


def singular_unit(text: str) -> str | None:
    """"bags" -> "bag", "lbs" -> "pound", "loaves" -> "loaf", "boxes" -> "box", "dozen" -> "dozen"."""
    word = text.strip(_EDGE_PUNCT).lower()
    if not word:
        return None
    if word in _UNIT_ALIASES:
        return _UNIT_ALIASES[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        return word[:-1]
    return word


def clean_words(text: str) -> str | None:
    """Product and brand text as spoken, minus edge punctuation and a stray leading article."""
    value = text.strip(_EDGE_PUNCT)
    value = _LEADING_FILLER.sub("", value).strip(_EDGE_PUNCT)
    return value or None


NORMALIZERS = {
    "quantity": parse_quantity,
    "max_price": parse_price,
    "ordinal": parse_ordinal,
    "unit": singular_unit,
    "product": clean_words,
    "brand": clean_words,
}
"""Slot name -> function from the spoken words to the value (None: unreadable, omit the slot)."""


def normalize_slot(slot: str, text: str) -> object | None:
    """The value of one slot, or None when the words do not make one (unknown slots pass through)."""
    fn = NORMALIZERS.get(slot)
    return fn(text) if fn else (text.strip(_EDGE_PUNCT) or None)
