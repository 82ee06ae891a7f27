"""The in-memory word tables search needs: distinct names, aliases, brands and phonetic keys.

A catalog of a million SKUs has only a few hundred distinct product names, so fuzzy and phonetic
matching run against those (rapidfuzz's C++ over ~1,000 strings takes well under a millisecond)
and the winners are expanded to SKUs through the (name, popularity) index, instead of scanning
rows. Phonetic keys are Metaphone (jellyfish, a maintained Rust implementation) of the words
run together, so "fugi apples" and "Fuji apples" share FJ APLS and "honey crisp" meets
"Honeycrisp".

Chinese names (a zh catalog) are matched on characters and on pinyin instead (edge.catalog.chinese):
a query is reduced to its product part ("我想买两斤苹果" -> "苹果"), spelled alike by character
similarity, sounded alike by toneless pinyin over names and aliases ("平果" and 苹果 are both
"ping guo"), and aliases and brands are found inside the unspaced text.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

import jellyfish
from rapidfuzz import fuzz, process

from edge.catalog import chinese

_NON_WORD = re.compile(rf"[^a-z0-9%&' {chinese.CJK}]+")
STOPWORDS = frozenset((
    "a", "an", "the", "some", "any", "of", "for", "please", "me", "my", "i", "we", "want", "need", "get", "buy",
    "order", "find", "show", "have", "do", "you", "got", "with", "and", "or", "to", "can", "could", "would",
    "like", "more", "another"))
"""Words that carry no product meaning in a spoken request."""


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def content_words(text: str) -> list[str]:
    """Normalized words minus stopwords (keeps everything if that would leave nothing); a Chinese
    request keeps only its product part (chinese.request_core)."""
    if chinese.has_cjk(text):
        text = chinese.request_core(text)
    words = normalize(text).split()
    kept = [w for w in words if w not in STOPWORDS]
    return kept or words


def phonetic_key(text: str) -> str:
    """Metaphone of the words run together ("honey crisp" == "honeycrisp")."""
    joined = "".join(w for w in normalize(text).split() if w.isalpha())
    return jellyfish.metaphone(joined) if joined else ""


@dataclass(frozen=True)
class NameMatch:
    name: str
    """Canonical product name as stored."""
    score: float
    """0-1 similarity."""
    how: str
    """fuzzy | phonetic | alias"""


class Vocabulary:
    """Distinct names, aliases and brands of one catalog version, with their phonetic keys."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        # One representative row per distinct name gives its category and tags (for names_fts).
        rows = conn.execute("SELECT name, category, tags FROM products WHERE id IN "
                            "(SELECT MIN(id) FROM products GROUP BY name)").fetchall()
        self.names = [r[0] for r in rows]
        self.name_info = [(r[1] or "", r[2] or "") for r in rows]
        self.names_lower = [normalize(n) for n in self.names]
        self.name_keys = [phonetic_key(n) for n in self.names]
        canonical = {n.lower(): n for n in self.names}
        self.aliases: dict[str, str] = {}
        for alias, name in conn.execute("SELECT alias, name FROM aliases"):
            if name.lower() in canonical:
                self.aliases[normalize(alias)] = canonical[name.lower()]
        self.alias_keys = list(self.aliases)
        self._by_target: dict[str, str] | None = None
        self.brands = sorted({r[0] for r in conn.execute("SELECT DISTINCT brand FROM products") if r[0]})
        self.brands_lower = {normalize(b): b for b in self.brands}
        self.chinese = any(chinese.has_cjk(n) for n in self.names)
        """A zh catalog: pinyin keys of names and aliases (index into names or alias_keys)."""
        self.pinyin: list[tuple[str, str]] = []
        if self.chinese:
            self.pinyin = [(chinese.pinyin_key(n), n) for n in self.names if chinese.has_cjk(n)]
            self.pinyin += [(chinese.pinyin_key(a), name) for a, name in self.aliases.items() if chinese.has_cjk(a)]
            self.pinyin = [(key, name) for key, name in self.pinyin if key]

    def _chinese_alias_hits(self, text: str) -> list[NameMatch]:
        """Aliases equal to the request's product part (1.0) or inside it (0.5), names inside it (0.6):
        "来点苹果" names 富士苹果, "有没有便宜一点的酸奶" names 酸奶."""
        core = normalize(chinese.request_core(text)).replace(" ", "")
        hits: dict[str, NameMatch] = {}
        exact = self.aliases.get(core)
        if exact:
            hits[exact] = NameMatch(exact, 1.0, "alias")
        for alias in sorted(self.alias_keys, key=len, reverse=True):  # longest alias first
            name = self.aliases[alias]
            if name not in hits and len(alias) >= 2 and chinese.has_cjk(alias) and alias in core:
                hits[name] = NameMatch(name, 0.5, "alias")
        for name, lower in zip(self.names, self.names_lower, strict=True):  # a whole name inside a longer request
            if name not in hits and len(lower) >= 2 and lower != core and lower in core:
                hits[name] = NameMatch(name, 0.6, "alias")
        return list(hits.values())

    def _chinese_fuzzy_hits(self, text: str, limit: int) -> list[NameMatch]:
        """Names written like the text (character similarity) or pronounced like it (pinyin)."""
        core = normalize(chinese.request_core(text)).replace(" ", "")
        if not core:
            return []
        found: dict[str, NameMatch] = {}
        for _choice, score, index in process.extract(core, self.names_lower, scorer=fuzz.ratio, limit=limit,
                                                     score_cutoff=66.0):
            found[self.names[index]] = NameMatch(self.names[index], score / 100.0 * 0.9, "fuzzy")
        key = chinese.pinyin_key(core)
        if key:
            keys = [k for k, _name in self.pinyin]
            heard: dict[str, float] = {}
            for _choice, score, index in process.extract(key, keys, scorer=fuzz.ratio, limit=limit * 2,
                                                         score_cutoff=85.0):
                name = self.pinyin[index][1]  # a homophone of the whole: nearly as sure as the text itself
                heard[name] = max(heard.get(name, 0.0), 0.95 if score >= 100 else score / 100.0 * 0.85)
            padded = f" {key} "
            for name_key, name in self.pinyin:  # a name's syllables inside a longer request ("把香椒删掉")
                if name_key.count(" ") >= 1 and f" {name_key} " in padded and name_key != key:
                    heard[name] = max(heard.get(name, 0.0), 0.8)
            for name, value in heard.items():
                if name not in found or found[name].score < value:
                    found[name] = NameMatch(name, value, "phonetic")
        return sorted(found.values(), key=lambda m: -m.score)[:limit]

    def alias_hits(self, query: str) -> list[NameMatch]:
        """Names whose alias equals the query or one of its word n-grams ("oj", "a bottle of oj")."""
        if self.chinese and chinese.has_cjk(query):
            return self._chinese_alias_hits(query)
        words = normalize(query).split()
        hits: dict[str, NameMatch] = {}
        for size in range(min(4, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                gram = " ".join(words[start:start + size])
                name = self.aliases.get(gram)
                if name and name not in hits and gram not in STOPWORDS:
                    hits[name] = NameMatch(name, 1.0 if size == len(words) else 0.5, "alias")
        return list(hits.values())

    @staticmethod
    def is_close(text: str, name: str) -> bool:
        """True when the query words are essentially the name (so fuzzy matching adds nothing)."""
        if chinese.has_cjk(text):
            return normalize(text).replace(" ", "") == normalize(name).replace(" ", "")
        return fuzz.token_sort_ratio(normalize(text), normalize(name)) >= 90

    def fuzzy_hits(self, query: str, limit: int = 5, cutoff: float = 80.0) -> list[NameMatch]:
        """Names (or aliases) spelled like the query, and names that sound like it."""
        if self.chinese and chinese.has_cjk(query):
            return self._chinese_fuzzy_hits(query, limit)
        text = " ".join(content_words(query))
        if len(text) < 3:
            return []
        spelled: dict[int, float] = {}
        for scorer, scale in ((fuzz.ratio, 1.0), (fuzz.WRatio, 0.92)):  # whole-string first, partial discounted
            for _choice, score, index in process.extract(text, self.names_lower, scorer=scorer,
                                                         limit=limit, score_cutoff=cutoff):
                spelled[index] = max(spelled.get(index, 0.0), score * scale / 100.0)
        sounded: dict[int, float] = {}
        key = phonetic_key(text)
        if len(key) >= 2:
            for _choice, score, index in process.extract(key, self.name_keys, scorer=fuzz.ratio,
                                                         limit=limit, score_cutoff=85.0):
                sounded[index] = score / 100.0 * 0.95  # a sound-alike is a little less sure than a spelling
        found: dict[str, NameMatch] = {}
        for index in set(spelled) | set(sounded):
            spell, sound = spelled.get(index, 0.0), sounded.get(index, 0.0)
            agree = 0.03 if spell and sound else 0.0  # spelled AND sounds alike: the likeliest meaning
            found[self.names[index]] = NameMatch(self.names[index], min(1.0, max(spell, sound) + agree),
                                                 "phonetic" if sound > spell else "fuzzy")
        for _choice, score, index in process.extract(text, self.alias_keys, scorer=fuzz.ratio,
                                                     limit=limit, score_cutoff=max(cutoff, 85.0)):
            name = self.aliases[self.alias_keys[index]]
            if name not in found:
                found[name] = NameMatch(name, score / 100.0 * 0.95, "fuzzy")
        return sorted(found.values(), key=lambda m: -m.score)[:limit]

    def aliases_of(self, name: str) -> str:
        """Aliases of a name or of its base name ("organic oat milk" gets oat milk's)."""
        if self._by_target is None:
            grouped: dict[str, list[str]] = {}
            for alias, target in self.aliases.items():
                grouped.setdefault(target.lower(), []).append(alias)
            self._by_target = {target: " | ".join(values) for target, values in grouped.items()}
        words = name.lower().split()
        for start in range(len(words)):
            text = self._by_target.get(" ".join(words[start:]))
            if text:
                return text
        return ""

    def brand_in(self, query: str) -> tuple[str, str] | None:
        """(catalog brand, query without it) when the query names a brand word for word."""
        if self.chinese and chinese.has_cjk(query):
            text = normalize(query)
            for brand in sorted(self.brands_lower, key=len, reverse=True):
                if chinese.has_cjk(brand) and brand in text:
                    return self.brands_lower[brand], " ".join(text.replace(brand, " ", 1).split())
            return None
        words = normalize(query).split()
        for size in range(min(4, len(words)), 0, -1):  # longest brand first ("sunny farms" over "sunny")
            for start in range(len(words) - size + 1):
                gram = " ".join(words[start:start + size])
                brand = self.brands_lower.get(gram) or self.brands_lower.get(gram.removesuffix("s"))
                if brand and gram not in STOPWORDS:
                    return brand, " ".join(words[:start] + words[start + size:])
        return None

    def brand(self, spoken: str, cutoff: float = 80.0) -> str | None:
        """The catalog brand a spoken brand means ("sunny farm" -> "Sunny Farms"), if any is close."""
        best = process.extractOne(normalize(spoken), [b.lower() for b in self.brands], scorer=fuzz.WRatio,
                                  score_cutoff=cutoff)
        return self.brands[best[2]] if best else None
