"""Numbers as a US English speaker says them: cardinals, ordinals, decimals, prices, clock times.

espeak-ng reads "$1.99" as "dollar one point nine nine" and "3:30" as "three colon thirty", so
the reply text is rewritten before phonemization. The forms follow how a shop assistant talks:
"$4.99" is "four ninety-nine", "$12.00" is "twelve dollars", "$0.50" is "fifty cents", "$1,250.75"
is "one thousand two hundred fifty dollars and seventy-five cents" (big amounts get the long form
so they cannot be misheard).
"""

from __future__ import annotations

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                  "nine": "ninth", "twelve": "twelfth"}
_DIGIT_WORDS = dict(zip("0123456789", _ONES[:10], strict=True))

MAX_CARDINAL = 10**15 - 1
"""Beyond this a number is read digit by digit (it is an id, not a quantity)."""


def _below_thousand(n: int) -> str:
    words = []
    if n >= 100:
        words.append(f"{_ONES[n // 100]} hundred")
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(_ONES[n])
    return " ".join(words)


def cardinal(n: int) -> str:
    """12 -> "twelve", 1234 -> "one thousand two hundred thirty-four", -5 -> "minus five"."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n > MAX_CARDINAL:
        return digits(str(n))
    if n < 1000:
        return _below_thousand(n)
    words = []
    for scale, name in _SCALES:
        if n >= scale:
            words.append(f"{_below_thousand(n // scale)} {name}")
            n %= scale
    if n:
        words.append(_below_thousand(n))
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
    """"4071" -> "four zero seven one" (ids, codes, digits after a decimal point)."""
    return " ".join(_DIGIT_WORDS[c] for c in text if c in _DIGIT_WORDS)


def decimal(text: str) -> str:
    """"2.5" -> "two point five", "1,000" -> "one thousand", ".75" -> "zero point seven five"."""
    whole, _, frac = text.replace(",", "").partition(".")
    spoken = cardinal(int(whole or "0"))
    return f"{spoken} point {digits(frac)}" if frac else spoken


def _plural(n: int, one: str, many: str) -> str:
    return f"{cardinal(n)} {one if n == 1 else many}"


def price(dollars: int, cents: int) -> str:
    """How a price is said: (4, 99) -> "four ninety-nine", (12, 0) -> "twelve dollars"."""
    if cents == 0:
        return _plural(dollars, "dollar", "dollars")
    if dollars == 0:
        return _plural(cents, "cent", "cents")
    if dollars < 100:
        return f"{cardinal(dollars)} {('oh ' + _ONES[cents]) if cents < 10 else cardinal(cents)}"
    return f"{_plural(dollars, 'dollar', 'dollars')} and {_plural(cents, 'cent', 'cents')}"


def clock(hours: int, minutes: int, suffix: str = "") -> str:
    """(3, 30) -> "three thirty", (10, 0) -> "ten o'clock", (9, 5, "pm") -> "nine oh five pee em"."""
    if minutes == 0:
        spoken = cardinal(hours) + ("" if suffix else " o'clock")
    elif minutes < 10:
        spoken = f"{cardinal(hours)} oh {_ONES[minutes]}"
    else:
        spoken = f"{cardinal(hours)} {cardinal(minutes)}"
    letters = {"am": "ay em", "pm": "pee em"}.get(suffix.replace(".", "").lower(), "")
    return f"{spoken} {letters}".strip()
