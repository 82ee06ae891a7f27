"""The English device's phrase builders: prices, pack sizes, product titles and spoken lists.

Split out of `replies` so the reply classes (English `Replies`, Mandarin `RepliesZh`) stay readable;
every English reply goes through `money()` and `size()` (see the convention in `replies`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from edge.dialog.state import Item

# Shelf abbreviations in pack sizes -> the word said in an adjectival size ("a 3 pound bag").
SIZE_WORDS: dict[str, str] = {
    "lb": "pound", "lbs": "pound", "oz": "ounce", "fl oz": "fluid ounce", "kg": "kilo", "g": "gram",
    "l": "liter", "ml": "milliliter", "gal": "gallon", "qt": "quart", "pt": "pint", "ct": "count",
    "sq ft": "square foot", "ft": "foot", "in": "inch", "rolls": "roll", "roll": "roll", "pr": "pair",
}

ORDINAL_WORDS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth")

STATUS_WORDS = {
    "draft": "is not confirmed yet",
    "confirmed": "is confirmed and waiting on this device to be sent",
    "queued": "is queued on this device and will be sent as soon as it is back online",
    "sent": "has been sent, and the store has not confirmed it yet",
    "acked": "has been received by the store",
    "shipped": "is on its way",
    "delivered": "has been delivered",
    "cancelled": "was cancelled",
}


def money(cents: int) -> str:
    """$4.99 / $12 (whole dollars without cents, the way people say prices)."""
    dollars, rest = divmod(int(cents), 100)
    return f"${dollars:,}" if rest == 0 else f"${dollars:,}.{rest:02d}"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z ]*?|[\u4e00-\u9fff]+)\s*$")
"""<number> <unit>: "3 lb", "12 fl oz", and a Chinese shelf size such as "3斤" (best_value compares both)."""


def _parse_size(text: str) -> tuple[float, str] | None:
    """"3 lb" -> (3.0, "lb"); None when the size is not "<number> <unit>"."""
    match = _SIZE.match(text.lower())
    if not match:
        return None
    return float(match.group(1)), match.group(2).strip()


def _expand(text: str) -> str:
    """Shelf abbreviations to words, longest first ("fl oz" before "oz"): "half gal" -> "half gallon"."""
    words = text.lower().split()
    out: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i:i + 2])
        if pair in SIZE_WORDS:
            out.append(SIZE_WORDS[pair])
            i += 2
            continue
        out.append(SIZE_WORDS.get(words[i], words[i]))
        i += 1
    return " ".join(out)


def size(item: Item) -> str:
    """The pack as said aloud: "3 pound bag", "12 fluid ounce cup", "half gallon", "" for one item.

    Adjectival form throughout (a "3 pound bag", not "3 pounds bag"); a single item sold "each"
    has nothing worth saying, and the selling unit is not repeated ("1 gallon", not "1 gallon gallon").
    """
    unit = "" if item.unit in ("each", "") else item.unit
    parsed = _parse_size(item.size)
    if parsed is not None and parsed[1] == "ct" and parsed[0] == 1:
        return f"1 {unit}" if unit else ""
    if parsed is not None:
        amount, abbrev = parsed
        number = str(int(amount)) if amount.is_integer() else f"{amount:g}"
        spoken = f"{number} {_expand(abbrev)}".strip()
    else:
        spoken = _expand(item.size)
    if unit and spoken.split()[-1:] == [unit]:
        return spoken
    return " ".join(part for part in (spoken, unit) if part)


def title(item: Item) -> str:
    """Brand and name ("Green Valley Fuji apples"): the catalog sells one name under several brands."""
    return f"{item.brand} {item.name}" if item.brand else item.name


def counted(quantity: int, item: Item) -> str:
    """"2 Green Valley Fuji apples": the catalog name already says what it is."""
    return f"{quantity} {title(item)}"


def named(item: Item) -> str:
    """Name, size and price as one phrase, no full stop: "Green Valley Fuji apples, 3 pound bag, $4.99"."""
    spoken_size = size(item)
    return ", ".join([title(item), *([spoken_size] if spoken_size else []), money(item.price_cents)])


def spoken_list(phrases: Sequence[str], conjunction: str = "or") -> str:
    """Join phrases the way a person lists them. Phrases that hold commas themselves (name, size,
    price) are kept apart by semicolons, and the last one comes after ", or": "A, 1 pound bag,
    $2.99; B, 2 pound bunch, $2.39, or C, $1.99". Plain words: "milk, eggs and bread"."""
    parts = [p.strip().rstrip(".;,") for p in phrases if p.strip()]
    if len(parts) <= 1:
        return "".join(parts)
    if not any("," in p for p in parts):
        return f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"
    return f"{'; '.join(parts[:-1])}, {conjunction} {parts[-1]}"


def intro(item: Item, *, verdict: str = "") -> str:
    """The seed's product introduction: "Green Valley Fuji apples, 3 pound bag, $4.99. Good value."."""
    text = named(item) + "."
    if not item.in_stock:
        text += " Out of stock right now."
    return f"{text} {verdict}".strip()


def best_value(items: Sequence[Item]) -> Item | None:
    """The item with the lowest price per unit of size, when several share a size unit; else None."""
    sized = [(i, _parse_size(i.size)) for i in items if i.in_stock]
    comparable = [(i, p) for i, p in sized if p is not None and p[0] > 0]
    if len(comparable) < 2 or len({p[1] for _i, p in comparable}) != 1:
        return None
    return min(comparable, key=lambda pair: pair[0].price_cents / pair[1][0])[0]
