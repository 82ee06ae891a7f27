"""Reply text -> words the phonemizer reads correctly: prices, units, numbers, abbreviations, symbols.

Replies come from the dialogue's templates and the catalog ("Oat Milk, 64 fl oz, $4.99",
"Dr. Bronner's", "2 x 6 pk", "$3.49/lb"). espeak-ng would spell most of that out symbol by
symbol, so each pattern is rewritten here, in a fixed order: abbreviations first (so their dots
do not end a clause), then money, clock times, percentages, ordinals, fractions, quantities with
units, multipliers and ranges, and finally bare numbers and symbols. Unit abbreviations are read
in the form a label uses them ("3 lb bag" -> "three pound bag", "12 oz" -> "twelve ounce");
written-out plurals ("lbs", "pcs") stay plural.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from edge.tts.numbers import cardinal, clock, decimal, digits, ordinal, price

# Unit abbreviation (lower case) -> spoken form; only rewritten right after a number.
UNITS: dict[str, str] = {
    "lb": "pound", "lbs": "pounds", "oz": "ounce", "ozs": "ounces", "fl oz": "fluid ounce",
    "fl. oz": "fluid ounce", "kg": "kilogram", "kgs": "kilograms", "g": "gram", "mg": "milligram",
    "l": "liter", "ml": "milliliter", "cl": "centiliter", "gal": "gallon", "qt": "quart", "pt": "pint",
    "pk": "pack", "pks": "packs", "ct": "count", "pc": "piece", "pcs": "pieces", "doz": "dozen",
    "ft": "foot", "cm": "centimeter", "mm": "millimeter", "sq ft": "square foot", "ea": "each",
    "hr": "hour", "hrs": "hours", "min": "minute", "mins": "minutes", "sec": "second", "secs": "seconds",
}

# Abbreviations that end in a dot (or not) and are never followed by a number.
ABBREVIATIONS: dict[str, str] = {
    "mr.": "mister", "mrs.": "missus", "ms.": "miz", "jr.": "junior", "sr.": "senior",
    "ave.": "avenue", "rd.": "road", "blvd.": "boulevard", "ln.": "lane", "co.": "company",
    "inc.": "incorporated", "ltd.": "limited", "corp.": "corporation", "approx.": "approximately",
    "vs.": "versus", "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "dept.": "department",
    "qty": "quantity", "w/o": "without", "w/": "with", "pkg.": "package", "pkg": "package",
}

_FRACTIONS = {(1, 2): "a half", (1, 3): "a third", (2, 3): "two thirds", (1, 4): "a quarter",
              (3, 4): "three quarters", (1, 8): "an eighth"}

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+"
_UNIT_KEYS = {unit.replace(" ", ""): spoken for unit, spoken in UNITS.items()}
_UNIT_ALT = "|".join(re.escape(u).replace(r"\ ", r"\s?") for u in sorted(UNITS, key=len, reverse=True))

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _money(m: re.Match[str]) -> str:
    whole = m["whole"].replace(",", "")
    cents = (m["cents"] or "").ljust(2, "0") if m["cents"] is not None else "00"
    scale = m["scale"]
    if scale:
        return f"{decimal(m['whole'] + ('.' + m['cents'] if m['cents'] else ''))} {scale.lower()} dollars"
    return price(int(whole or "0"), int(cents[:2]))


def _cents(m: re.Match[str]) -> str:
    n = int(m[1])
    return f"{cardinal(n)} {'cent' if n == 1 else 'cents'}"


def _clock(m: re.Match[str]) -> str:
    return clock(int(m[1]), int(m[2]), m[3] or "")


def _fraction(m: re.Match[str]) -> str:
    whole, num, den = m["whole"], int(m["num"]), int(m["den"])
    spoken = _FRACTIONS.get((num, den))
    if spoken is None:
        return f"{(cardinal(int(whole)) + ' and ') if whole else ''}{cardinal(num)} over {cardinal(den)}"
    if whole:
        return f"{cardinal(int(whole))} and {spoken}"
    return re.sub(r"^an? ", "one ", spoken)


def _unit_word(abbr: str) -> str:
    return _UNIT_KEYS[re.sub(r"\s+", "", abbr.lower())]


def _unit(m: re.Match[str]) -> str:
    return f"{decimal(m['num'])} {_unit_word(m['unit'])}"


def _per_unit(m: re.Match[str]) -> str:
    return f" per {_unit_word(m[1])}"


def _number(m: re.Match[str]) -> str:
    text = m[0]
    plain = text.replace(",", "")
    if "." not in plain and len(plain) > 6 and "," not in text:
        return digits(plain)  # an id or a code, not an amount
    return decimal(text)


def _ends_sentence(m: re.Match[str]) -> bool:
    """A dot we consumed also ended the sentence (end of text, or a capital follows)."""
    return m[0].endswith(".") and re.match(r"\s*(?:$|[A-Z])", m.string[m.end():]) is not None


def _abbreviation(m: re.Match[str]) -> str:
    return ABBREVIATIONS[m[0].lower()] + ("." if _ends_sentence(m) else "")


def _title(m: re.Match[str]) -> str:
    """Dr./St. before a name is Doctor/Saint; after a street name (and not before a name) Drive/Street."""
    prev, name, follows = m["prev"], m["abbr"].lower(), m["next"]
    if prev and not follows:
        word = "drive" if name == "dr" else "street"
        return f"{prev} {word}" + ("." if _ends_sentence(m) else "")
    word = "doctor" if name == "dr" else "saint"
    return f"{prev + ' ' if prev else ''}{word}{follows or ''}"


_UNIT = r"(?P<unit>" + _UNIT_ALT + r")\b(?:\.(?=\s+[a-z]))?"

_RULES: list[Rule] = [
    (re.compile(r"(?:(?P<prev>\b[A-Z][a-z]+|\b\d+)\s+)?\b(?P<abbr>Dr|St)\.(?P<next>\s+[A-Z])?"), _title),
    (re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
                + r")(?!\w)", re.IGNORECASE), _abbreviation),
    (re.compile(r"\bNo\.\s?(?=\d)|(?<!\w)#\s?(?=\d)", re.IGNORECASE), lambda m: "number "),
    # Money: $4.99, $ 12, $1,250.75, $2.5 million, 99¢.
    (re.compile(r"\$\s?(?P<whole>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<cents>\d{1,2}))?(?!\d)"
                r"(?:\s(?P<scale>thousand|million|billion)\b)?", re.IGNORECASE),
     lambda m: _money(m) if (m["whole"] or m["cents"]) else m[0]),
    (re.compile(r"\b(\d{1,2})\s?¢"), _cents),
    (re.compile(r"\b(\d{1,2}):([0-5]\d)(?:\s?([AaPp]\.?[Mm]\.?)(?!\w))?"), _clock),
    (re.compile(r"(" + _NUM + r")\s?%"), lambda m: f"{decimal(m[1])} percent"),
    (re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE), lambda m: ordinal(int(m[1]))),
    (re.compile(r"(?:\b(?P<whole>\d+)\s)?\b(?P<num>\d{1,2})/(?P<den>\d{1,2})\b(?:\s?-?" + _UNIT + ")?",
                re.IGNORECASE), lambda m: _fraction(m) + (f" {_unit_word(m['unit'])}" if m["unit"] else "")),
    # "$3.49/lb" (the price is words by now) -> "per pound".
    (re.compile(r"\s?/\s?(" + _UNIT_ALT + r")\b", re.IGNORECASE), _per_unit),
    # "2 x 500 ml" -> "two by five hundred milliliter"; "2-3 lb" -> "two to three pound".
    (re.compile(r"(" + _NUM + r")\s?[x×]\s?(?=\d)"), lambda m: f"{decimal(m[1])} by "),
    (re.compile(r"(" + _NUM + r")\s?[-–]\s?(?=\d)"), lambda m: f"{decimal(m[1])} to "),
    (re.compile(r"(?P<num>" + _NUM + r")\s?-?" + _UNIT, re.IGNORECASE), _unit),
    # "2 x Milk" -> "two Milk"; "Milk x2" -> "Milk, times two"; "6-pack" -> "six pack".
    (re.compile(r"\b(" + _NUM + r")\s?[x×]\s+(?=[A-Za-z])"), lambda m: f"{decimal(m[1])} "),
    (re.compile(r"(?<=[A-Za-z])\s+[x×]\s?(\d+)\b"), lambda m: f", times {cardinal(int(m[1]))}"),
    (re.compile(r"(?<=\d)-(?=[A-Za-z])"), lambda m: " "),
    (re.compile(r"(?<![\w.])-(?=\d)"), lambda m: "minus "),
    (re.compile(r"(?<=\d)(?=[A-Za-z])|(?<=[A-Za-z])(?=\d)"), lambda m: " "),  # "1e10", "A4": spell apart
    (re.compile(_NUM), _number),
    (re.compile(r"\s?&\s?"), lambda m: " and "),
    (re.compile(r"\s?\+\s?"), lambda m: " plus "),
    (re.compile(r"\s?@\s?"), lambda m: " at "),
    (re.compile(r"\s?=\s?"), lambda m: " equals "),
    (re.compile(r"~\s?"), lambda m: "about "),
    (re.compile(r"\s?%"), lambda m: " percent "),
    (re.compile(r"\$\s?"), lambda m: " dollars "),
    (re.compile(r"\s?¢"), lambda m: " cents "),
    (re.compile(r"\s[—–-]{1,2}\s|—"), lambda m: ", "),
    (re.compile(r"[*_#|<>{}\[\]\\^`]"), lambda m: " "),
]


def normalize(text: str) -> str:
    """Rewrite a reply so that every number, price, unit and abbreviation is spoken as words."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2044", "/")
    # Control and format characters (NUL, zero-width joiners, ...) would reach espeak-ng's C API.
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return re.sub(r"\s+", " ", re.sub(r"\s+([,.;:!?])", r"\1", text)).strip()
