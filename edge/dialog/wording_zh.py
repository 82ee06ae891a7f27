"""The Mandarin device's phrase builders: prices in 元, pack sizes, measure words, product introductions.

The seed's introduction is "这是新鲜的苹果，3斤39元，很实惠": the product, its pack size and price run
together ("3斤39元"), then the verdict. Prices are written "39元" / "4.99元" and sizes with digits
("3斤", "500克"): the zh voice's front end reads digits as Chinese words. Counts before a measure word are
written as words ("两袋", not "2袋", which a digit reader would say "二袋"). A catalog that still has
English units and shelf sizes ("bag", "3 lb") is said with the Chinese measure words below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from edge.dialog.state import Item
from edge.dialog.words_zh import count_words, has_cjk

MEASURE_WORDS: dict[str, str] = {
    "bag": "袋", "pound": "磅", "gallon": "桶", "loaf": "个", "pack": "包", "dozen": "打", "bottle": "瓶",
    "can": "罐", "jar": "瓶", "carton": "盒", "roll": "卷", "box": "盒", "each": "个", "bunch": "把",
    "tub": "盒", "cup": "杯", "block": "块", "canister": "罐", "tube": "支", "pair": "双", "set": "套",
    "kit": "套", "case": "箱", "bar": "块", "head": "颗",
}
"""English selling units -> the measure word a Chinese speaker counts them with."""

SIZE_UNITS: dict[str, str] = {
    "lb": "磅", "lbs": "磅", "oz": "盎司", "fl oz": "液量盎司", "kg": "公斤", "g": "克", "l": "升", "ml": "毫升",
    "gal": "加仑", "qt": "夸脱", "pt": "品脱", "ct": "个", "sq ft": "平方英尺", "ft": "英尺", "in": "英寸",
    "rolls": "卷", "roll": "卷", "pr": "双",
}
"""English shelf abbreviations -> Chinese units ("3 lb" -> "3磅"); a Chinese size ("3斤") is kept as is."""

FRESH_CATEGORIES = frozenset({"produce", "meat", "bakery", "dairy", "水果", "蔬菜", "生鲜", "肉禽水产", "肉类",
                              "海鲜", "烘焙", "乳品蛋类", "乳品", "蔬果"})
"""Categories whose products the seed introduces as 新鲜的 ("这是新鲜的苹果")."""

ORDINALS = ("第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(.*?)\s*$")


def money(cents: int) -> str:
    """39元 / 4.99元 / 4.9元 (no trailing zero, the way a price tag reads)."""
    yuan, rest = divmod(int(cents), 100)
    if rest == 0:
        return f"{yuan}元"
    return f"{yuan}.{rest:02d}".rstrip("0") + "元"


WEIGHTS = frozenset({"斤", "公斤", "千克", "克", "两", "磅", "pound"})
"""Units of weight: produce sold "by the 斤" still comes in packs ("3斤"), and a pack is what is counted."""


def measure(item: Item) -> str:
    """The measure word one unit of the cart's quantity is counted in.

    A Chinese unit is used as is, an English one mapped, else 份. Except a weight whose pack is not
    one of it: 富士苹果 sold by the 斤 in a 3斤 pack is counted in 份 (portions), because the cart's
    quantity counts packs; "要几斤？" answered "两斤" would put 6斤 in the cart and read "两斤" back.
    """
    unit = item.unit.strip()
    word = unit if unit and has_cjk(unit) else MEASURE_WORDS.get(unit.lower(), "份")
    if unit.lower() in WEIGHTS and size(item) not in ("", f"1{word}"):
        return "份"
    return word


def size(item: Item) -> str:
    """The pack size with digits: "3斤", "500克", "3磅"; "" for a single item ("1 ct")."""
    text = item.size.strip()
    match = _SIZE.match(text)
    if not match:
        return text if has_cjk(text) else ""
    amount, unit = match.group(1), match.group(2).lower()
    if unit in ("ct", "个") and float(amount) == 1:
        return ""
    return f"{amount}{SIZE_UNITS.get(unit, unit)}"


def pack_of(item: Item, unit: str) -> int | None:
    """How many of a Chinese unit one pack holds, when the pack is counted in it ("3斤" and 斤 -> 3); else None.

    "六斤" asked of 3斤 packs means two packs: the dialogue turns an amount said in the pack's own
    unit into packs (and asks again when it is not a whole number of them).
    """
    match = _SIZE.match(item.size.strip())
    if not unit or not has_cjk(unit) or not match or match.group(2) != unit or "." in match.group(1):
        return None
    amount = int(match.group(1))
    return amount if amount > 1 else None


def title(item: Item) -> str:
    """Brand and name; Chinese runs them together ("阳光农场红富士苹果"), Latin keeps a space."""
    if not item.brand:
        return item.name
    joiner = "" if has_cjk(item.brand[-1:]) or has_cjk(item.name[:1]) else " "
    return f"{item.brand}{joiner}{item.name}"


def counted(quantity: int, item: Item) -> str:
    """两袋红富士苹果."""
    return f"{count_words(quantity)}{measure(item)}{title(item)}"


def price_tag(item: Item) -> str:
    """"3斤39元" (size and price together, the seed's way), or "5元一个" when there is no size."""
    spoken_size = size(item)
    if spoken_size:
        return f"{spoken_size}{money(item.price_cents)}"
    return f"{money(item.price_cents)}一{measure(item)}"


def intro(item: Item, verdict: str = "") -> str:
    """"红富士苹果，3斤39元，很实惠" (no final full stop; the sentence adds it)."""
    parts = [title(item), price_tag(item)]
    if not item.in_stock:
        parts.append("现在缺货")
    if verdict:
        parts.append(verdict)
    return "，".join(parts)


def fresh(item: Item) -> str:
    """新鲜的 for produce, meat, bakery and dairy, as the seed says it; "" for everything else."""
    return "新鲜的" if item.category.lower() in FRESH_CATEGORIES else ""


def spoken_list(phrases: Sequence[str], conjunction: str = "或者") -> str:
    """Phrases with commas of their own are kept apart by "；"; plain words by "、" and the conjunction."""
    parts = [p.strip().rstrip("。；，") for p in phrases if p.strip()]
    if len(parts) <= 1:
        return "".join(parts)
    if any("，" in p for p in parts):
        return "；".join(parts)
    return f"{'、'.join(parts[:-1])}{conjunction}{parts[-1]}"
