"""Character error rate for Mandarin: what WER is for English, since Chinese has no spaces to count words by.

Both sides are normalized the same way before counting, for the same reasons as `wer`: Whisper writes
"2袋" or "两袋", "39元" or "三十九元", full-width or ASCII punctuation, and none of that is a recognition
error for the dialogue (the Chinese NLU reads digits and numerals alike). So: NFKC, punctuation and
spaces dropped, numbers written as Chinese numerals, 两 read as 二. Traditional characters are *not*
folded into Simplified: the device must show Simplified, so a Traditional transcript counts as wrong.
"""

from __future__ import annotations

import re
import unicodedata

from edge.text.wer import edit_distance

_DIGITS = "零一二三四五六七八九"
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def _numeral(n: int) -> str:
    """0 <= n < 10000 as read: 39 三十九, 105 一百零五, 12 十二; larger numbers digit by digit."""
    if n >= 10000:
        return "".join(_DIGITS[int(d)] for d in str(n))
    if n < 10:
        return _DIGITS[n]
    out, zero = "", False
    for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            out += ("零" if zero and out else "") + _DIGITS[digit] + name
            zero = False
        elif out:
            zero = True
    return out[1:] if out.startswith("一十") else out


def _read_number(match: re.Match[str]) -> str:
    whole, _, fraction = match.group(0).partition(".")
    spoken = _numeral(int(whole))
    return spoken + ("点" + "".join(_DIGITS[int(d)] for d in fraction) if fraction else "")


def normalize_zh(text: str) -> str:
    """The characters of text after the normalization in the module docstring."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\d+(?:\.\d+)?", _read_number, text)
    return _DROP.sub("", text).replace("两", "二")


def character_error_rate(reference: str, hypothesis: str) -> float:
    """CER of one utterance; 0 for two empty texts, 1 when only the reference is empty."""
    ref, hyp = list(normalize_zh(reference)), list(normalize_zh(hypothesis))
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
