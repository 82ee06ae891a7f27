"""Catalog biasing inside Whisper's search: a product name, once begun, is easier to finish.

Whisper hears a shop's products as the nearest common words ("oat milk" -> "boat", "ground beef"
-> "ground beat", "avocados" -> "abacados"); correction and spotting (edge.catalog) repair some of it
from the text afterwards, but by then the acoustic evidence is gone. Here the catalog enters the
search itself (shallow fusion with a phrase trie, as contextual biasing does for ASR): the catalog's
product names, aliases and brands are tokenized the way Whisper writes them (exact GPT-2 BPE,
edge.asr.bpe; as written, lower case and Title Case, each with its plural), and at every search
step the scores of tokens that continue a name begun in the transcript get `bonus`, and those that
begin one get `start_bonus` right after a word a product follows (OPENERS). Greedy picks the argmax,
so a bonus only decides between tokens the audio already makes close: a name the audio does not
support is not written. In a beam (edge.asr.beam) the bonus enters each hypothesis's score, so a name
begun on weak evidence survives as one hypothesis until the audio after it decides.

Guards: a name never begins on a command or function word's token (" two", " some", " the" begin
nothing: NO_START), nor on a piece of a word that begins a command word (" car" begins " carrots" and
"cart"), so quantities, verbs and "my cart" are not pulled towards products; and only decodes of
spoken requests are biased (edge.asr.whisper_decoder leaves packed long-form windows alone).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence

import numpy as np

NO_START = frozenset((
    "a", "an", "the", "some", "any", "of", "for", "please", "me", "my", "i", "we", "to", "and", "or", "add", "put",
    "remove", "delete", "take", "get", "buy", "order", "find", "show", "how", "what", "is", "it", "in", "on", "one",
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "yes", "no", "cart", "much",
))
"""Words whose token never earns the start bonus even where a catalog name begins with them."""
OPENERS = (
    "of", "some", "any", "the", "a", "an", "more", "add", "buy", "get", "need", "want", "have", "find", "remove",
    "delete", "order", "put", "take", "two", "three", "four", "five", "six", "ten", "twelve", "dozen", "another",
    "for", "about", "is", "are", "1", "2", "3", "4", "5", "6", "12",
)
"""Words after which a product name is expected: the start bonus is given only right after one of them ("add
two bags of | apples", "do you have any | cottage cheese"), never at a sentence's first word ("How much ...")."""
SPOKEN_UNITS = ("pound", "ounce", "kilo", "liter", "gallon", "pack", "dozen", "case", "bag", "box", "bottle", "can",
                "jar", "loaf", "carton", "bunch")
"""Units a shopper says after a number or "a" whatever the catalog sells them by (with the catalog's own)."""


def _single_tokens(encode: Callable[[str], list[int]], words: Iterable[str]) -> set[int]:
    """The token of each word, as written and in Title Case, where Whisper writes it as one token after a space."""
    return {ids[0] for word in words for form in (word, word.title()) if len(ids := encode(" " + form)) == 1}


class _Node(dict):
    """token id -> child node (a plain dict subclass: the trie is built once and only read)."""


def _variants(phrase: str) -> set[str]:
    base = " ".join(phrase.split())
    if not base:
        return set()
    forms = {base, base.lower(), base.title(), base[0].upper() + base[1:]}
    last = base.split()[-1].lower()
    if last.isalpha() and len(last) > 2:
        cut, ending = _number_change(last)
        forms |= {f[:len(f) - cut] + ending for f in list(forms)}
    return forms


_IE_NOUNS = ("cookie", "brownie", "pie", "smoothie", "veggie", "hoodie", "beanie", "movie", "calorie", "rookie",
             "zombie", "tie", "goalie", "lingerie", "potpie", "pixie", "sortie")
"""Nouns whose plural "-ies" drops only the "s" (cookies -> cookie, not "cooky")."""


def _number_change(word: str) -> tuple[int, str]:
    """The other grammatical number of a name's last word, as (letters to cut, ending to add), by English
    spelling: strawberry <-> strawberries, box <-> boxes, potato <-> potatoes, toy <-> toys (a name written
    in a form Whisper never writes would only pull it towards a misspelling: "strawberrys")."""
    vowels = "aeiou"
    if word.endswith("ies") and len(word) > 4:
        return (1, "") if word[:-1].endswith(_IE_NOUNS) else (3, "y")
    if word.endswith(("ches", "shes", "xes", "sses", "zes", "oes")):
        return 2, ""
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return 1, ""
    if word.endswith("y") and word[-2] not in vowels:
        return 1, "ies"
    if word.endswith(("x", "ch", "sh", "s", "z")) or (word.endswith("o") and word[-2] not in vowels):
        return 0, "es"
    return 0, "s"


class PhraseBias:
    """Bonuses for tokens that begin or continue one of `phrases` (thread-safe: read-only once built)."""

    def __init__(self, encode: Callable[[str], list[int]], phrases: Iterable[str], bonus: float,
                 start_bonus: float, vocabulary: int, decode: Callable[[int], str] | None = None,
                 protected: Iterable[str] = (), units: Iterable[str] = ()) -> None:
        """protected: words a name's first token must not pull towards when it is only part of the name's first
        word (the command words: " car", the first piece of " carrots", is also how "cart" begins); needs decode.
        units: words that follow an opener as often as a name does ("a | pound of", "two | bags of"): their tokens
        get the start bonus too, so the bonus never tips a unit the audio supports into a name ("a pound" ->
        "a pen")."""
        self.bonus, self.start_bonus = float(bonus), float(start_bonus)
        self.root = _Node()
        self.phrases = 0
        whole: set[int] = set()
        for phrase in {v for p in phrases for v in _variants(p)}:
            if phrase.split()[0].lower() in NO_START:
                phrase = " ".join(phrase.split()[1:])
                if not phrase:
                    continue
            node = self.root
            for token in encode(" " + phrase):
                node = node.setdefault(token, _Node())
            self.phrases += 1
            if len(first := encode(" " + phrase.split()[0])) == 1:
                whole.add(first[0])
        never = _single_tokens(encode, NO_START)  # "a1 steak sauce" begins with the token " a"
        prefixes = {word[:k] for word in protected for k in range(1, len(word) + 1)}
        if decode is not None and prefixes:
            never |= {t for t in self.root if t not in whole and decode(t).strip().lower() in prefixes}
        unit_tokens = _single_tokens(encode, {form for u in units for form in (u, _plural(u))})
        self._starts = np.fromiter(sorted({t for t in self.root if t < vocabulary and t not in never} | unit_tokens),
                                   np.int64)
        self._openers = _single_tokens(encode, OPENERS)

    def _active(self, out: Sequence[int]) -> list[_Node]:
        """Trie nodes the transcript's tail has reached (a name begun and not yet left)."""
        active: list[_Node] = []
        for token in out:
            nxt = [node[token] for node in active if token in node]
            if token in self.root:
                nxt.append(self.root[token])
            active = nxt
        return [node for node in active if node]

    def adjust(self, logits: np.ndarray, out: Sequence[int]) -> np.ndarray:
        """logits (one step's row) with the bonuses added: a copy when anything is added, else logits itself."""
        opened = bool(self.start_bonus) and bool(out) and out[-1] in self._openers
        continuing = {t for node in self._active(out) for t in node} if self.bonus else set()
        if not (opened or continuing):
            return logits
        adjusted = logits.astype(np.float32, copy=True)
        if opened:
            adjusted[self._starts] += self.start_bonus
        if continuing:
            ids = np.fromiter(continuing, np.int64)
            adjusted[ids] += self.bonus - (self.start_bonus * opened * np.isin(ids, self._starts))
        return adjusted


def _plural(unit: str) -> str:
    from edge.catalog.correction import plural

    return plural(unit)


def catalog_units(conn: sqlite3.Connection) -> list[str]:
    """The units a catalog sells by and the ones shoppers say anyway (SPOKEN_UNITS), one word each."""
    from edge.catalog.schema import selling_units

    return sorted({u.strip().lower() for u in selling_units(conn) if " " not in u.strip()} | set(SPOKEN_UNITS))


def catalog_phrases(conn: sqlite3.Connection) -> list[str]:
    """Every product name, alias and brand of a catalog (the words a shopper names products by)."""
    rows = conn.execute("SELECT name FROM products UNION SELECT brand FROM products UNION SELECT alias FROM aliases")
    return [str(r[0]) for r in rows if r[0] and str(r[0]).strip()]


def catalog_bias(recognizer: object, conn: sqlite3.Connection, bonus: float, start_bonus: float,
                 encode: Callable[[str], list[int]]) -> PhraseBias | None:
    """The bias for a WhisperOrt recognizer over a catalog, or None (bonuses 0, or a runtime without it).
    encode: the recognizer's exact BPE (the prompt's encoder, edge.asr.prompt.prompt_for: one word cache for both)."""
    tokens, eot = getattr(recognizer, "tokens", None), getattr(recognizer, "eot", None)
    if not (bonus or start_bonus) or not isinstance(tokens, dict) or eot is None:
        return None
    from edge.catalog.correction import command_words

    return PhraseBias(encode, catalog_phrases(conn), bonus, start_bonus, int(eot),
                      lambda t: tokens.get(t, b"").decode("utf-8", "replace"), command_words(), catalog_units(conn))
