"""Chinese text for catalog search: per-character FTS documents, request words out, pinyin keys.

Chinese has no spaces, and FTS5's unicode61 tokenizer takes a run of Chinese characters as one
token: "富士苹果" would be a single word that "苹果" never matches. So every FTS document and query
spaces its Chinese characters out ("富 士 苹 果"), and a Chinese query word becomes an FTS5 phrase
("苹 果": the characters adjacent and in order), which is exact substring search with bm25 ranking
(a shorter name that holds the phrase ranks higher). Latin text passes through unchanged, so the
English indexes and queries are byte-for-byte what they were. No segmenter (jieba) is needed for
this: product names are short, and a phrase match is a substring match.

Whisper writes a homophone when it picks the wrong character for a syllable ("平果" for 苹果:
both píng guǒ), so the names also get pinyin keys: toneless syllables from pypinyin's per-character
dictionary (MIT; its JSON file read directly, ~10 MB and 25 ms, instead of importing pypinyin,
whose phrase tables cost ~45 MB more). A character's first listed reading is its key: keys only
need to agree between the catalog and the query, and both go through the same table.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import unicodedata
from pathlib import Path

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK}]")
_CJK_RUN = re.compile(f"[{CJK}]+")

_readings: dict[int, str] | None = None
_lock = threading.Lock()


def has_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text))


def fts_text(text: str) -> str:
    """Chinese characters spaced out for FTS5 ("绿源果园 富士苹果" -> "绿 源 果 园 富 士 苹 果"); Latin unchanged."""
    if not text or not has_cjk(text):
        return text
    return " ".join(_CJK_RUN.sub(lambda m: " " + " ".join(m.group(0)) + " ", text).split())


_REQUEST_HEAD = re.compile(
    r"^(?:请问|请|麻烦|那|那就|嗯|呃)?(?:你)?(?:帮我|给我|替我)?(?:我)?(?:还|再)?(?:想要|想|要|需要|打算)?"
    r"(?:买|订|来|加|拿|找|搜索|搜|查查|查|看看|有没有|有(?!机))?(?:一点|一些|些|点(?!心))?")
_QUANTITY = re.compile(rf"^(?:[0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十百半几]+)"
                       rf"(?:斤|公斤|千克|克|个|只|瓶|袋|盒|箱|包|罐|杯|条|提|份|串|颗|块)(?:的)?(?=[{CJK}])")
_REQUEST_TAIL = re.compile(r"(?:(?:多少钱|怎么卖|什么价|几块钱).*|(?:吧|吗|呢|啊|呀|了|的|好吗|可以吗|谢谢)+)$")


def request_core(text: str) -> str:
    """The product part of a Chinese request: "我想买两斤富士苹果吧" -> "富士苹果".

    Only the request's frame is removed (who asks, the verb, a leading quantity with its measure
    word, sentence-final particles); when that would leave nothing, the text stays as it was."""
    text = text.strip()
    core = _REQUEST_HEAD.sub("", text, count=1)
    core = _QUANTITY.sub("", core, count=1)
    core = _REQUEST_TAIL.sub("", core)
    return core or text


def _table() -> dict[int, str]:
    global _readings
    if _readings is None:
        with _lock:
            if _readings is None:
                spec = importlib.util.find_spec("pypinyin")
                if spec is None or not spec.submodule_search_locations:
                    raise RuntimeError("pypinyin is not installed (a device dependency for Chinese search)")
                path = Path(list(spec.submodule_search_locations)[0]) / "pinyin_dict.json"
                raw = json.loads(path.read_text(encoding="utf-8"))
                _readings = {int(code): _toneless(value.split(",")[0]) for code, value in raw.items()}
    return _readings


def _toneless(syllable: str) -> str:
    """"píng" -> "ping", "lǜ" -> "lv" (ü written v, as pinyin input methods do)."""
    decomposed = unicodedata.normalize("NFD", syllable.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v")
                                       .replace("ǚ", "v").replace("ǜ", "v"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def pinyin(text: str) -> list[str]:
    """Toneless pinyin syllables of the Chinese characters in text (other characters are skipped)."""
    table = _table()
    return [table.get(ord(c), c) for c in text if _CJK_CHAR.match(c)]


def pinyin_key(text: str) -> str:
    """Syllables joined by spaces ("平果" -> "ping guo"): what homophones share."""
    return " ".join(pinyin(text))
