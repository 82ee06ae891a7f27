"""Mandarin slot words -> values: Chinese numerals, 两, measure words, prices in 元/块.

The zh counterpart of `edge.nlu.normalize`, with the same contract: a value that cannot be read
comes back as None and the slot is omitted rather than guessed. Whisper writes Mandarin numbers
both ways ("两斤", "2斤", "三十九元", "39元"), so every numeric slot takes digits and numerals;
numerals go through `cn2an` (MIT), which knows 两, 零 and the 万/亿 scales.

    parse_quantity("两") -> 2        parse_price("三十九元") -> 39     parse_ordinal("第二") -> 2
    parse_quantity("3") -> 3         parse_price("十二块五") -> 12.5    parse_ordinal("最后") -> -1
    parse_quantity("半") -> 0.5      parse_price("20块钱") -> 20        parse_ordinal("倒数第二") -> -2
"""

from __future__ import annotations

import math
import re

_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
_NUMBER = re.compile(rf"[0-9０-９]+(?:\.[0-9]+)?|[{_NUMERALS}]+")
_EDGE = " \t\n.,!?;:\"'()[]，。！？；：、“”‘’（）"
_LEADING_FILLER = re.compile(r"^(?:的|些|一些|点|一点)")
_UNIT_ALIASES = {"千克": "公斤", "kg": "公斤", "KG": "公斤", "块": "块", "元": "元"}


def _tidy(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


def to_number(text: str) -> float | None:
    """"39" -> 39, "三十九" -> 39, "两" -> 2, "两百" -> 200, "2.5" -> 2.5, "十二" -> 12; else None."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text:
        return None
    import cn2an  # here, not at the top: an English device imports this module (edge.nlu.understand), ~4 MB

    try:
        value = float(text) if text[0].isdigit() else float(cn2an.cn2an(text.replace("〇", "零"), "smart"))
    except (ValueError, KeyError, IndexError):
        return None
    return value if math.isfinite(value) else None


def _first_number(text: str) -> tuple[float | None, int]:
    match = _NUMBER.search(text)
    if match is None:
        return None, -1
    return to_number(match.group()), match.end()


def parse_quantity(text: str) -> int | float | None:
    """The count as said: "两" -> 2, "3" -> 3, "十二" -> 12, "半" -> 0.5, "一斤半" -> 1.5, "一打" -> 12."""
    text = text.strip(_EDGE)
    if text == "半":
        return 0.5
    value, end = _first_number(text)
    if value is None:
        return None
    rest = text[end:]
    if rest.startswith("打"):
        value *= 12
    if rest.endswith("半"):
        value += 0.5
    return _tidy(value)


_YUAN = re.compile(r"(元|块)钱?")
_JIAO = re.compile(r"([0-9一二两三四五六七八九])\s*(?:毛|角)")


def parse_price(text: str) -> int | float | None:
    """An amount in yuan: "三十九元" -> 39, "20块钱" -> 20, "十二块五" -> 12.5, "9.9元" -> 9.9, "五毛" -> 0.5."""
    text = text.strip(_EDGE)
    split = _YUAN.search(text)
    head, tail = (text[:split.start()], text[split.end():]) if split else (text, "")
    jiao = None if split else _JIAO.search(text)
    if jiao:  # 五毛: tenths of a yuan only
        tenths = to_number(jiao.group(1))
        return _tidy(tenths / 10) if tenths is not None else None
    value, _end = _first_number(head)
    if value is None:
        return None
    tenths, _ = _first_number(tail)
    if tenths is not None and 0 < tenths < 10 and float(tenths).is_integer():
        value += tenths / 10  # 十二块五 = 12.5, 三块五毛 = 3.5
    return _tidy(value)


def parse_ordinal(text: str) -> int | None:
    """Position in the list just read: "第二" -> 2, "第2" -> 2, "最后" -> -1, "倒数第二" -> -2."""
    text = text.strip(_EDGE)
    if text.startswith("最后") and not _NUMBER.search(text[2:].lstrip("一个")):
        return -1
    value, _end = _first_number(text)
    if value is None or value < 1 or not float(value).is_integer():
        return None
    return -int(value) if text.startswith("倒数") else int(value)


def unit_word(text: str) -> str | None:
    """The measure word as said ("斤", "瓶"), "千克" as "公斤"; None when empty."""
    word = text.strip(_EDGE)
    return _UNIT_ALIASES.get(word, word) or None


def clean_words(text: str) -> str | None:
    """Product and brand text as spoken, minus edge punctuation and a leading 的/些."""
    value = _LEADING_FILLER.sub("", text.strip(_EDGE)).strip(_EDGE)
    return value or None


NORMALIZERS = {
    "quantity": parse_quantity,
    "max_price": parse_price,
    "ordinal": parse_ordinal,
    "unit": unit_word,
    "product": clean_words,
    "brand": clean_words,
}


def normalize_slot(slot: str, text: str) -> object | None:
    """The value of one slot, or None when the words do not make one (unknown slots pass through)."""
    fn = NORMALIZERS.get(slot)
    return fn(text) if fn else (text.strip(_EDGE) or None)


def quantity_context(text: str, start: int, end: int) -> tuple[int, int]:
    """A quantity span widened by a following 半 or 打 ("一斤半" is said around the unit: left as is)."""
    return start, end
