"""Customer-service answers: match a question against the catalog's FAQ table.

Semantic first: the NLU bundle's MiniLM sentence embedder encodes the FAQ questions once and each
user question per turn; the best cosine above SEMANTIC_MIN wins ("can I send stuff back" finds
"How do I return an item?" with no word in common). Without the embedder (no NLU bundle, or a
device that ships only the intent model), a lexical match on content-word stems takes over, so
"what are your opening hours" still finds the hours entry; in Chinese on character pairs ("可以退货吗"
finds "退货政策是什么？"), which is all the zh shop has while its catalog carries no sentence vectors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.dialog.ports import Encoder
from edge.dialog.words_zh import has_cjk

log = logging.getLogger("edge.dialog.faq")

SEMANTIC_MIN = 0.45
"""Cosine similarity (MiniLM, L2-normalized) below which no FAQ entry is taken as the answer."""
LEXICAL_MIN = 0.5
"""Share of the question's content words an entry must contain for the lexical fallback."""

_STOP_WORDS = (
    "a an the is are was were be been do does did can could would will shall should may might i you your "
    "we our us me my it its this that these those what whats when where which who how why to of for in on "
    "at by with from about and or if there their they them have has had any some much many get tell please "
    "hello shopkeeper keeper hey shop voiceshop s"
)
_STOP = frozenset(_STOP_WORDS.split())


def _stem(word: str) -> str:
    """Crude suffix stripping, enough to meet "returns"/"returning"/"return", "opening"/"open"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    if has_cjk(text):
        return _chinese_words(text)
    return {_stem(w) for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP}


_ZH_STOP = re.compile("请问|怎么|如何|什么|多少|哪些|能不能|可不可以|可以|你们|我们|您|你|我|吗|呢|吧|啊|呀|的|是|了|要|能|有")
"""Question words and glue that say nothing about which entry is meant ("退货怎么办" is about 退货)."""


def _chinese_words(text: str) -> set[str]:
    """Character pairs of what is left after question words and glue: Chinese has no spaces, and two
    characters are the usual length of a word (退货, 配送, 营业), so "可以退货吗" and "退货政策" meet on 退货."""
    out: set[str] = set()
    for run in re.split(r"[\W_]+", _ZH_STOP.sub(" ", text)):
        out |= {run} if len(run) == 1 else {run[i:i + 2] for i in range(len(run) - 1)}
    return {w for w in out if w}


@dataclass(frozen=True)
class FaqEntry:
    question: str
    answer: str
    tags: str = ""


@dataclass(frozen=True)
class FaqAnswer:
    question: str
    answer: str
    score: float
    method: str
    """"semantic" or "lexical"."""


class FaqMatcher:
    """Finds the FAQ entry a question asks about, or None."""

    def __init__(self, entries: Iterable[FaqEntry], encode: Encoder | None = None) -> None:
        self.entries = list(entries)
        self.encode = encode
        self._vectors: np.ndarray | None = None
        self._words = [content_words(f"{e.question} {e.tags}") for e in self.entries]

    def _entry_vectors(self) -> np.ndarray:
        if self._vectors is None:
            assert self.encode is not None
            self._vectors = np.stack([np.asarray(self.encode(e.question), dtype=np.float32) for e in self.entries])
        return self._vectors

    def answer(self, question: str) -> FaqAnswer | None:
        if not self.entries or not question.strip():
            return None
        if self.encode is not None:
            try:
                return self._semantic(question)
            except Exception:  # a broken embedder must not take customer service down with it
                log.exception("FAQ embedding failed; using the lexical match")
        return self._lexical(question)

    def _semantic(self, question: str) -> FaqAnswer | None:
        assert self.encode is not None
        query = np.asarray(self.encode(question), dtype=np.float32)
        scores = self._entry_vectors() @ query
        best = int(np.argmax(scores))
        if float(scores[best]) < SEMANTIC_MIN:
            return None
        entry = self.entries[best]
        return FaqAnswer(entry.question, entry.answer, round(float(scores[best]), 3), "semantic")

    def _lexical(self, question: str) -> FaqAnswer | None:
        asked = content_words(question)
        if not asked:
            return None
        scores = [len(asked & words) / len(asked) for words in self._words]
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] < LEXICAL_MIN:
            return None
        entry = self.entries[best]
        return FaqAnswer(entry.question, entry.answer, round(scores[best], 3), "lexical")


def entries_from_catalog(rows: Iterable[Any]) -> list[FaqEntry]:
    """The catalog's FAQ rows (`.question`, `.answer`, `.tags`) as the matcher's entries."""
    return [FaqEntry(str(r.question), str(r.answer), str(r.tags or "")) for r in rows]
