"""Mandarin words the dialogue reads itself: closed-list segmentation, PIN digits, hesitations, counts.

Chinese is written without spaces, so "a whole answer made of listed phrases" (the English rule for a
yes, a PIN, a hesitation) cannot split on whitespace. `cover` instead asks whether the text, with
punctuation and spaces removed, can be cut into pieces that all come from a closed vocabulary, and
returns those pieces. A single character outside the vocabulary (不, 吗, 算, a digit) leaves the
text uncovered, which is what keeps these checks strict: nothing is guessed, only listed phrases pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_SKIP = re.compile(r"[\s,.!;:，。！；：、…~～\"'“”‘’()（）「」]+")
"""Spaces and the punctuation Whisper writes around an answer (a question mark is not among them)."""


def has_cjk(text: str) -> bool:
    """True when text holds a Chinese character: the Mandarin rules apply to it."""
    return bool(_CJK.search(text))


def squeeze(text: str) -> str:
    """NFKC (full-width to ASCII), lower case, without spaces and punctuation other than ? and ？."""
    return _SKIP.sub("", unicodedata.normalize("NFKC", text).lower())


def cover(text: str, vocabulary: Collection[str], longest: int = 8) -> list[str] | None:
    """text (already squeezed) cut into vocabulary entries, preferring longer pieces; None if impossible."""
    if not text:
        return []
    best: list[list[str] | None] = [None] * (len(text) + 1)
    best[len(text)] = []
    for start in range(len(text) - 1, -1, -1):
        for end in range(min(len(text), start + longest), start, -1):
            rest = best[end]
            if rest is not None and text[start:end] in vocabulary:
                best[start] = [text[start:end], *rest]
                break
    return best[0]


# --- PIN digits ----------------------------------------------------------------------------------
DIGITS: dict[str, str] = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "么": "1", "妖": "1", "二": "2", "两": "2",
    "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}
"""Digits as said one by one; 幺 (and its ASR spellings 么/妖) and 洞 are the radio-style 1 and 0."""

PIN_FILLERS = frozenset({
    "我的", "我", "的", "密码", "口令", "pin", "pin码", "码", "是", "为", "嗯", "呃", "啊", "那个", "请", "好",
    "好的", "号码", "数字",
})
"""Words that may come with a PIN ("我的密码是一二三四") without being part of it."""


def pin_digits(text: str) -> str:
    """The digits of a PIN said in Chinese ("一二三四", "幺二三四", "密码是1234"), "" when anything else is said."""
    pieces = cover(squeeze(text), set(DIGITS) | PIN_FILLERS | {str(d) for d in range(10)} |
                   {ch for ch in "０１２３４５６７８９"})
    if pieces is None:
        return ""
    return "".join(DIGITS.get(p, p) for p in pieces if p in DIGITS or p.isdigit())


# --- hesitations -----------------------------------------------------------------------------------
HESITATIONS = frozenset({
    "嗯", "呃", "额", "啊", "哦", "噢", "喔", "唔", "哎", "诶", "欸", "那个", "这个", "就是", "然后", "那",
    "我想想", "让我想想", "想想", "我看看", "看看", "我", "想", "一下",
})
"""Sounds and glue words that carry no answer alone (a bare 嗯 is never a yes to a read-back)."""


def is_hesitation_zh(text: str) -> bool:
    """True when a Chinese line is only hesitation sounds ("嗯……", "呃那个", "让我想想")."""
    return cover(squeeze(text), HESITATIONS) is not None


# --- counts ------------------------------------------------------------------------------------
_UNITS = "零一二三四五六七八九"


def count_words(n: int) -> str:
    """A count as said before a measure word: 1 一, 2 两 ("两袋", never "二袋"), 12 十二, 35 三十五;
    100 and up stay digits (the voice's front end reads them)."""
    if n == 2:
        return "两"
    if 0 <= n < 10:
        return _UNITS[n]
    if 10 <= n < 100:
        tens, ones = divmod(n, 10)
        return f"{'' if tens == 1 else _UNITS[tens]}十{_UNITS[ones] if ones else ''}"
    return str(n)
