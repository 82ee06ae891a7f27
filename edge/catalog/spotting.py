"""Find the catalog product a whole heard line names, by sound: what the dialogue falls back on when
the NLU's product slot is garbled or misplaced.

Correction (edge.catalog.correction) rewrites a misheard span before the NLU, but only where no
word is already a catalog or command word, and the NLU then tags *a* span as the product. On
misheard speech that span is often the wrong one: "the copper carton of almond milk" tags "copper
carton", "get me sick, models, and ginger ale" tags "sick", "12 rolls and toilet paper" tags "and",
"add a box of honey not cereal" tags "honey" (and clover honey went in the cart). The product's
words are in the line; the slot missed them.

`Spotter.spot(text)` compares every run of 1-4 heard words (not starting or ending on a function
word, not made only of command words) with every whole catalog product name and alias, by
pronunciation (the same espeak-ng phoneme keys as correction; a run never starts on a command word
such as a number), and returns the names heard, best
first, each with its similarity (0-1), the words it was heard in and whether they are the name's
own words (`exact`). The dialogue decides what to do with them (edge.dialog.linking.Linker.lookup):
a name heard word for word is a name said; a sound-alike is something to ask about, never to buy.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from edge.catalog.correction import INNER_WORDS, command_words, plural
from edge.catalog.matching import STOPWORDS, normalize
from edge.catalog.schema import selling_units

MAX_WORDS = 4
"""Longest run of heard words compared with a name ("sour cream and onion chips" is heard in pieces)."""
MIN_SOUNDS = 4
"""Names and runs shorter than this many phonemes are compared only word for word (too many sound-alikes)."""
LONGER_BONUS = 0.1
"""Added per extra word of a heard run (dev split: 0.05 0.538, 0.08 0.546, 0.10 0.549, 0.12 0.550):
"honey not cereal" (0.93, three words) names honey nut cereal
rather than its own first word, "honey", naming clover honey word for word."""
_VOICING = str.maketrans({"b": "p", "d": "t", "g": "k", "v": "f", "z": "s", "ʒ": "ʃ", "ð": "θ"})


def devoiced(sound: str) -> str:
    """A phoneme key with voicing dropped and affricates as one symbol: recognizers confuse voiced and
    voiceless pairs ("pork jobs" for "pork chops"), which plain Levenshtein counts as four edits."""
    return sound.replace("dʒ", "c").replace("tʃ", "c").translate(_VOICING)


@dataclass(frozen=True)
class Spot:
    """A catalog product heard somewhere in a line."""

    name: str
    """The canonical product name (an alias heard gives its product)."""
    heard: str
    """The heard words it was found in."""
    score: float
    """Phoneme similarity of those words with the name or alias (0-1; 1.0 when word for word)."""
    start: int
    end: int
    """Word span in the normalized line."""
    exact: bool

    @property
    def size(self) -> int:
        return self.end - self.start


def heard_words(text: str) -> list[str]:
    """The words of a line as spotting reads them (and as its Spots' start/end count them): normalized,
    a possessive joined to its word ("strinci's" -> "strincis"); "i'd" stays one word, not alphabetic."""
    return re.sub(r"'s\b", "s", normalize(text)).split()


def _variants(words: tuple[str, ...]) -> set[tuple[str, ...]]:
    """A name's words with its last word singular or plural ("avocado", "avocados")."""
    last = words[-1]
    forms = {last, plural(last), last[:-1] if last.endswith("s") else last, last[:-2] if last.endswith("es") else last}
    return {(*words[:-1], form) for form in forms if form}


class Spotter:
    """spot(text) -> [Spot, ...] over one catalog's product names and aliases (English)."""

    def __init__(self, names: Iterable[str], aliases: dict[str, str], sound: Callable[[Sequence[str]], str],
                 units: Iterable[str] = ()) -> None:
        """names: product names; aliases: alias -> product name; sound: words -> phoneme key; units:
        selling units ("bag"), which a run never starts on ("two bags of baby card" is no "tea bags")."""
        self._sound = sound
        terms: dict[tuple[str, ...], str] = {}
        for alias, name in aliases.items():
            terms.setdefault(tuple(normalize(alias).split()), name)
        for name in names:
            terms[tuple(normalize(name).split())] = name
        self.terms = {words: name for words, name in terms.items() if words}
        self.exact: dict[tuple[str, ...], tuple[str, ...]] = {}
        for words in self.terms:
            for form in _variants(words):
                self.exact.setdefault(form, words)
        self.catalog_words = {w for words in self.terms for w in words}
        self.command_words = command_words() - self.catalog_words
        self.units = {u for unit in units for u in (normalize(unit), plural(normalize(unit))) if u}
        self.starts_not = command_words() | self.units
        """Words a sound-alike run never starts on: command words (numbers too, though "two percent
        milk" is a name: that one is found word for word) and selling units."""
        self._keys = list(self.terms)
        self._sounds = [sound(words) for words in self._keys]
        self._devoiced = [devoiced(s) for s in self._sounds]

    @classmethod
    def from_catalog(cls, conn: sqlite3.Connection, sound: Callable[[Sequence[str]], str]) -> Spotter:
        names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM products")]
        aliases = dict(conn.execute("SELECT alias, name FROM aliases").fetchall())
        return cls(names, aliases, sound, selling_units(conn))

    def _windows(self, words: list[str]) -> Iterable[tuple[int, int]]:
        edge = STOPWORDS | INNER_WORDS
        for start in range(len(words)):
            if words[start] in edge or not words[start].isalpha():
                continue
            for end in range(start + 1, min(start + MAX_WORDS, len(words)) + 1):
                if not words[end - 1].isalpha():
                    break
                if words[end - 1] in edge:
                    continue
                if all(w in self.command_words or w in edge for w in words[start:end]):
                    continue
                yield start, end

    def spot(self, text: str, among: Sequence[str] | None = None, cutoff: float = 0.6, limit: int = 5) -> list[Spot]:
        """Product names heard in text, best first (one Spot per name); among: only these names."""
        words = heard_words(text)
        allowed = None if among is None else {n.lower() for n in among}
        best: dict[str, Spot] = {}

        def keep(spot: Spot) -> None:
            if allowed is not None and spot.name.lower() not in allowed:
                return
            old = best.get(spot.name)
            if old is None or rank(spot) < rank(old):
                best[spot.name] = spot

        for start, end in self._windows(words):
            run = tuple(words[start:end])
            heard = " ".join(run)
            if run in self.exact and not (len(run) == 1 and run[0] in self.units):  # "a bottle of" is a unit
                keep(Spot(self.terms[self.exact[run]], heard, 1.0, start, end, True))
                continue
            if run[0] in self.starts_not:  # a sound-alike starts on a word of the product, not "two" or "bags"
                continue
            sound = self._sound(run)
            if len(sound) < MIN_SOUNDS:
                continue
            # Found on the devoiced keys, scored as the mean of both: a voicing slip costs half.
            for _choice, loose, index in process.extract(devoiced(sound), self._devoiced, limit=limit,
                                                          scorer=Levenshtein.normalized_similarity,
                                                          score_cutoff=cutoff):
                if len(self._sounds[index]) >= MIN_SOUNDS:
                    similarity = (loose + Levenshtein.normalized_similarity(sound, self._sounds[index])) / 2
                    if similarity >= cutoff:
                        keep(Spot(self.terms[self._keys[index]], heard, float(similarity), start, end, False))
        return sorted(best.values(), key=rank)[:limit]


def rank(spot: Spot) -> tuple[float, int]:
    """Best first: similarity plus LONGER_BONUS per extra word, then the earlier span."""
    return -(spot.score + LONGER_BONUS * (spot.size - 1)), spot.start
