"""What Whisper base writes for Mandarin -> the text the device reads (zh mode).

Whisper base was trained on more Traditional than Simplified Chinese subtitles, so asked for
language "zh" it mostly writes Traditional characters ("我想買蘋果"); the NLU, the catalog and the
replies are Simplified. Three repairs, in this order, on every decode (partials and finals alike):

1. Garbage out: sherpa turns token bytes into text, and a CJK character is three UTF-8 bytes that
   Whisper's byte-level tokens may split; when the decoder stops between them (end of text, token
   cap) the half character becomes U+FFFD. Replacement characters, control and zero-width
   characters carry no speech and are dropped wherever they are.
2. Traditional -> Simplified with OpenCC's "t2s" table (Apache-2.0; phrase-level, so 乾 in 乾淨
   becomes 干 while 乾隆 stays). zhconv would do it too but is GPL.
3. Punctuation in the Chinese forms: ASCII ",.?!:;" next to a Chinese character become "，。？！：；"
   (a decimal point between digits stays), corner quotes become curly ones, spaces Whisper puts
   between Chinese characters go (Chinese has none; Latin words keep theirs), repeated marks fold.

`clean(text)` does all three; `edge.asr.whisper_decoder` applies it when `[asr] language` is "zh".
The guard (edge.asr.guard) then cuts repeated tails on characters, not spaces.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""The CJK ideograph blocks (BMP part) for regular expression classes."""

_converter: Any = None
_lock = threading.Lock()


def is_cjk(char: str) -> bool:
    """One character in a CJK ideograph block (punctuation and kana are not)."""
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def has_cjk(text: str) -> bool:
    return any(is_cjk(c) for c in text)


def to_simplified(text: str) -> str:
    """Traditional -> Simplified (OpenCC t2s); Simplified and Latin text come back unchanged."""
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc  # loaded on the first Mandarin text only: an English device never needs it

                _converter = opencc.OpenCC("t2s")
    return _converter.convert(text) if text else text


def strip_garbage(text: str) -> str:
    """Drop U+FFFD, control (other than space) and format characters (zero-width joiners, BOM)."""
    return "".join(c for c in text if c != "\ufffd" and (c == " " or unicodedata.category(c)[0] != "C"))


_FULL_WIDTH = {",": "，", ".": "。", "?": "？", "!": "！", ":": "：", ";": "；"}
_NEXT_TO_CJK = re.compile(rf"(?<=[{CJK_CLASS}])\s*([,.?!:;])|([,.?!:;])\s*(?=[{CJK_CLASS}])")
_CJK_SPACE = re.compile(rf"(?<=[{CJK_CLASS}，。？！：；、])\s+|\s+(?=[{CJK_CLASS}，。？！：；、])")
_REPEATED_MARK = re.compile(r"([，。？！：；、])[，。？！：；、,.]+")
_ELLIPSIS = re.compile(rf"(?<=[{CJK_CLASS}])\s*(?:\.{{2,}}|…+|。{{2,}})")
_QUOTES = str.maketrans({"「": "“", "」": "”", "『": "‘", "』": "’"})


def normalize_punctuation(text: str) -> str:
    """Chinese punctuation around Chinese text (see the module docstring); Latin text is left alone."""
    def widen(match: re.Match[str]) -> str:
        mark = match.group(1) or match.group(2)
        return _FULL_WIDTH[mark]

    text = _ELLIPSIS.sub("……", text.translate(_QUOTES))  # trailing off: edge.asr.complete must still see it
    text = _NEXT_TO_CJK.sub(widen, text)
    text = _CJK_SPACE.sub("", text)
    text = _REPEATED_MARK.sub(r"\1", text)
    return text.strip().lstrip("，。？！：；、")


def clean(text: str) -> str:
    """Whisper's Mandarin output -> Simplified text without garbage, Chinese punctuation."""
    return normalize_punctuation(to_simplified(strip_garbage(text))).strip()
