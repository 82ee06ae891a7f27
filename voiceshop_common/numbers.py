"""English number words, written once: the voice reads prices and quantities with them, and the WER
normalizer spells the recognizer's digits with them so "10" and "ten" score alike.

Only the words and the cardinal/ordinal/digit rules live here; how a shop assistant says a price or a
clock time is the voice's business (edge/tts/numbers.py).
"""

from __future__ import annotations

ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
"""Words for 0-19."""

TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
"""Words for the tens, indexed by the tens digit (0 and 1 have none)."""

DIGIT_WORDS = dict(zip("0123456789", ONES[:10], strict=True))
"""Each digit character's word, for reading ids and codes digit by digit."""

SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                  "nine": "ninth", "twelve": "twelfth"}

MAX_CARDINAL = 10**15 - 1
"""Beyond this a number is read digit by digit (it is an id, not a quantity)."""


def _below_thousand(n: int, hyphen: str) -> str:
    words = []
    if n >= 100:
        words.append(f"{ONES[n // 100]} hundred")
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10] + (f"{hyphen}{ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(ONES[n])
    return " ".join(words)


def cardinal(n: int, hyphen: str = "-") -> str:
    """12 -> "twelve", 1234 -> "one thousand two hundred thirty-four", -5 -> "minus five".

    hyphen joins tens and ones ("twenty-one"); the WER normalizer passes " " for separate words.
    """
    if n < 0:
        return "minus " + cardinal(-n, hyphen)
    if n > MAX_CARDINAL:
        return digits(str(n))
    if n < 1000:
        return _below_thousand(n, hyphen)
    words = []
    for scale, name in SCALES:
        if n >= scale:
            words.append(f"{_below_thousand(n // scale, hyphen)} {name}")
            n %= scale
    if n:
        words.append(_below_thousand(n, hyphen))
    return " ".join(words)


def ordinal(n: int) -> str:
    """1 -> "first", 22 -> "twenty-second", 100 -> "one hundredth"."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-") if "-" in words.split(" ")[-1] else words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def digits(text: str) -> str:
    """"4071" -> "four zero seven one" (ids, codes, digits after a decimal point); other characters are skipped."""
    return " ".join(DIGIT_WORDS[c] for c in text if c in DIGIT_WORDS)
