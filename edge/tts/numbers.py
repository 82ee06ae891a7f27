"""Numbers as a US English speaker says them: cardinals, ordinals, decimals, prices, clock times.

espeak-ng reads "$1.99" as "dollar one point nine nine" and "3:30" as "three colon thirty", so
the reply text is rewritten before phonemization. The forms follow how a shop assistant talks:
"$4.99" is "four ninety-nine", "$12.00" is "twelve dollars", "$0.50" is "fifty cents", "$1,250.75"
is "one thousand two hundred fifty dollars and seventy-five cents" (big amounts get the long form
so they cannot be misheard). The words and the cardinal/ordinal rules are shared with the WER
normalizer (`voiceshop_common.numbers`); the forms a shop assistant uses for prices and times are here.
"""

from __future__ import annotations

from voiceshop_common.numbers import MAX_CARDINAL, ONES, cardinal, digits, ordinal

__all__ = ["MAX_CARDINAL", "cardinal", "clock", "decimal", "digits", "ordinal", "price"]


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
        return f"{cardinal(dollars)} {('oh ' + ONES[cents]) if cents < 10 else cardinal(cents)}"
    return f"{_plural(dollars, 'dollar', 'dollars')} and {_plural(cents, 'cent', 'cents')}"


def clock(hours: int, minutes: int, suffix: str = "") -> str:
    """(3, 30) -> "three thirty", (10, 0) -> "ten o'clock", (9, 5, "pm") -> "nine oh five pee em"."""
    if minutes == 0:
        spoken = cardinal(hours) + ("" if suffix else " o'clock")
    elif minutes < 10:
        spoken = f"{cardinal(hours)} oh {ONES[minutes]}"
    else:
        spoken = f"{cardinal(hours)} {cardinal(minutes)}"
    letters = {"am": "ay em", "pm": "pee em"}.get(suffix.replace(".", "").lower(), "")
    return f"{spoken} {letters}".strip()
