"""Character error rate for Mandarin: one definition for every CER we report (tests, bench).

Chinese is written without spaces, so word error rate does not apply; the unit is the character.
As with WER (edge.text.wer), differences that are no recognition error are normalized away on both
sides before counting, and everything else counts:

- Traditional and Simplified forms are the same character (OpenCC t2s on both sides);
- punctuation and spaces are dropped;
- digits are read out as Chinese numerals ("39元" = "三十九元", "2.5" = "二点五"), and 两 is 二
  (Whisper writes "2斤" for 两斤; the number is what was said);
- Latin letters count one character each, lower-cased.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from edge.asr.mandarin import is_cjk, to_simplified
from edge.text.wer import corpus_error_rate, utterance_error_rate

_DIGITS = "零一二三四五六七八九"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _under_10000(n: int) -> str:
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if zero and out:
                out += "零"
            out += _DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    return out


def chinese_number(n: int) -> str:
    """0 <= n < 10^12 in Chinese numerals (10 -> 十, 105 -> 一百零五, 20000 -> 二万); larger stays digits."""
    if n == 0:
        return "零"
    if n >= 10 ** 12:
        return str(n)
    parts, out = [(n // 10 ** 8, "亿"), (n // 10 ** 4 % 10 ** 4, "万"), (n % 10 ** 4, "")], ""
    for value, unit in parts:
        if value:
            if out and value < 1000:
                out += "零"
            out += _under_10000(value) + unit
    out = out.lstrip("零")
    return out[1:] if out.startswith("一十") else out


def _spell(match: re.Match[str]) -> str:
    whole, _, fraction = match.group(0).partition(".")
    spoken = chinese_number(int(whole))
    return spoken + ("点" + "".join(_DIGITS[int(d)] for d in fraction) if fraction else "")


def normalize(text: str) -> list[str]:
    """The characters of text after the normalization described in the module docstring."""
    text = _NUMBER.sub(_spell, to_simplified(text).lower()).replace("两", "二")
    return [c for c in text if is_cjk(c) or c.isalnum()]


def cer(pairs: Iterable[tuple[str, str]]) -> float:
    """Corpus CER over (reference, hypothesis) pairs: total character edits / total reference characters."""
    return corpus_error_rate(pairs, normalize)


def character_error_rate(reference: str, hypothesis: str) -> float:
    """CER of one utterance; 0 for two empty texts, 1 when only the reference is empty."""
    return utterance_error_rate(reference, hypothesis, normalize)
