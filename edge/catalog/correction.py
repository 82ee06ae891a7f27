"""Catalog-aware correction of transcripts: spans that *sound* like a catalog product, brand or unit
but are not one are rewritten to it, with a confidence.

Whisper tiny.en hears shop words as everyday words ("oat milk" -> "boat milk", "avocados" ->
"abacados", "russet potatoes" -> "reset potatoes", "ground beef" -> "ground beat"). Search copes with
some of that (fuzzy and Metaphone keys in edge.catalog.matching), but the NLU tags the words first,
and a product it cannot see as one never reaches search. So the transcript is repaired before the
NLU, and only where the evidence is strong:

- **What may change.** A span of 1-3 words in which no word is a catalog word (a word of a product
  name, alias, brand or unit) or a command word (`command_words.txt`, from the NLU's templates), a
  number or a digit; "and"/"of"/"the" may sit inside a span ("charm and" -> "charmin") but not
  start it. Words already in the catalog or the command set are never rewritten: heard as said.
- **How alike.** Pronunciations, not spellings: espeak-ng IPA phonemes (the phonemizer the device
  already has for its voice), stress and length marks dropped and near-identical vowels merged,
  compared by normalized Levenshtein similarity against every 1-3 word run of every catalog term.
- **What else counts.** A replacement that completes a whole catalog name with the words around it
  ("boat milk" -> "oat milk") gains `context_bonus`; one that names a product the dialogue has just
  offered or that is in the cart gains `dialog_bonus`. The best target must clear `threshold` and
  beat the next different target by `margin`, else nothing changes.

The thresholds were tuned on synthesized requests for half of the demo catalog's products and
measured on the other half (bench/correction.py prints errors fixed and correct words broken).

Mandarin (zh mode) is not corrected here: the method is English pronunciation of English words. A
Chinese transcript passes unchanged and a Chinese catalog is never phonemized; Whisper's Chinese
slips are homophones (平果 for 苹果), which catalog search matches by pinyin (edge.catalog.matching),
so the NLU's product slot still finds its product (tests/test_catalog_zh.py measures it on real
transcripts).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from edge.catalog.matching import STOPWORDS, normalize
from edge.catalog.schema import selling_units

COMMAND_WORDS_FILE = Path(__file__).with_name("command_words.txt")
INNER_WORDS = frozenset(("and", "of", "the", "a", "n"))
"""Function words a span may contain after its first word (a misheard name split in two: "charm and")."""
UNIT_ABBREVIATIONS = frozenset(("lb", "lbs", "oz", "ct", "gal", "pk", "qt", "pt", "ml", "kg", "g", "l", "fl"))
"""Pack-size abbreviations a transcript may carry ("2 lbs"): the NLU reads them; never "correct" them."""
COMMAND_TARGETS = ("add", "remove", "delete", "cancel", "checkout", "reorder", "basket", "cart")
"""Command words a misheard word may become: the verbs and nouns whose loss changes the request."""
_DROP = dict.fromkeys(map(ord, "ˈˌː- '"), None)
_MERGE = str.maketrans({"ᵻ": "ɪ", "ɐ": "ə", "ɚ": "əɹ", "ɝ": "ɜɹ", "ɾ": "t", "ɫ": "l", "ɑ": "a", "ɒ": "a", "ɔ": "o",
                        "ʌ": "ə", "ɛ": "e", "ʊ": "u", "ɡ": "g"})
_MERGE.update(_DROP)


def command_words() -> frozenset[str]:
    """The command vocabulary (one word a line, # comments)."""
    lines = COMMAND_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def espeak_pronouncer(voice: str = "en-us") -> Callable[[str], str]:
    """text -> IPA through piper-tts's espeak-ng (shared with the TTS voice, one lock)."""
    from edge.tts.voice import Phonemizer

    phonemizer = Phonemizer(voice)

    def pronounce(text: str) -> str:
        return "".join("".join(sentence) for sentence in phonemizer.phonemes(text))

    return pronounce


def sound(ipa: str) -> str:
    """IPA reduced to what tells words apart in ASR errors (no stress, length or spaces; close vowels merged)."""
    return ipa.translate(_MERGE)


@dataclass(frozen=True)
class Edit:
    """One rewritten span."""

    heard: str
    """The words as the recognizer wrote them."""
    written: str
    """The catalog words put in their place."""
    kind: str
    """product | brand | unit | command"""
    confidence: float
    """0-1: phoneme similarity plus context, capped at 1."""

    def to_json(self) -> dict[str, Any]:
        return {"heard": self.heard, "written": self.written, "kind": self.kind, "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class Correction:
    """A transcript after correction; `raw_text` is what the recognizer heard."""

    text: str
    raw_text: str
    edits: tuple[Edit, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.edits)


@dataclass
class Lexicon:
    """The words correction protects and the terms it may write, from one catalog version."""

    full_terms: dict[tuple[str, ...], str] = field(default_factory=dict)
    """Whole catalog terms (normalized word tuples) -> kind (product, brand, unit, command)."""
    protected: frozenset[str] = frozenset()

    @classmethod
    def from_terms(cls, names: Iterable[str], brands: Iterable[str] = (), units: Iterable[str] = (),
                   aliases: Iterable[str] = ()) -> Lexicon:
        terms: dict[tuple[str, ...], str] = {}
        for kind, texts in (("command", COMMAND_TARGETS), ("unit", units), ("brand", brands),
                            ("product", aliases), ("product", names)):
            for text in texts:
                words = tuple(normalize(text).split())
                if words:
                    terms[words] = kind
        catalog_words = {w for words in terms for w in words}
        protected = (catalog_words | {plural(w) for w in catalog_words} | {w[:-1] for w in catalog_words if w.endswith("s")}
                     | set(command_words()) | set(STOPWORDS) | INNER_WORDS | UNIT_ABBREVIATIONS)
        return cls(terms, frozenset(protected))

    @classmethod
    def from_catalog(cls, conn: sqlite3.Connection) -> Lexicon:
        """Names, aliases, brands and units of the catalog in conn (edge.catalog.schema tables)."""
        names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM products")]
        brands = [r[0] for r in conn.execute("SELECT DISTINCT brand FROM products") if r[0]]
        units = set(selling_units(conn))
        aliases = [r[0] for r in conn.execute("SELECT alias FROM aliases")]
        return cls.from_terms(names, brands, units | {plural(u) for u in units}, aliases)


def plural(unit: str) -> str:
    """The spoken plural of a unit word ("box" -> "boxes", "loaf" -> "loaves")."""
    if unit.endswith("f"):
        return unit[:-1] + "ves"
    if unit.endswith(("s", "x", "ch", "sh")):
        return unit + "es"
    return unit + "s"


@dataclass(frozen=True)
class _Target:
    words: tuple[str, ...]
    kind: str
    sound: str
    wholes: tuple[tuple[str, ...], ...]
    """The whole terms this run of words comes from (for the context bonus)."""


class Corrector:
    """correct(text, context) -> Correction; build once per catalog version (a few hundred ms)."""

    def __init__(self, lexicon: Lexicon, pronounce: Callable[[str], str], *, threshold: float = 0.78,
                 margin: float = 0.04, context_bonus: float = 0.12, fragment_penalty: float = 0.1,
                 dialog_bonus: float = 0.1, min_sounds: int = 3, short_sounds: int = 6) -> None:
        self.lexicon = lexicon
        self.threshold, self.margin = threshold, margin
        self.context_bonus, self.fragment_penalty, self.dialog_bonus = context_bonus, fragment_penalty, dialog_bonus
        self.min_sounds = min_sounds
        self.short_sounds = short_sounds
        """A span with fewer sounds than this is rewritten only when the result completes a catalog term:
        one phoneme off in a short word is as often a different word as a mishearing ("cheap"/"chips")."""
        self._pronounce = lru_cache(maxsize=8192)(lambda word: sound(pronounce(word)))
        runs: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        kinds: dict[tuple[str, ...], str] = {}
        for whole, kind in lexicon.full_terms.items():
            for size in range(1, min(3, len(whole)) + 1):
                for start in range(len(whole) - size + 1):
                    run = whole[start:start + size]
                    runs.setdefault(run, []).append(whole)
                    kinds.setdefault(run, kind)
        self.targets = [_Target(run, kinds[run], self._sound(run), tuple(wholes)) for run, wholes in runs.items()]
        self.targets = [t for t in self.targets if len(t.sound) >= min_sounds]
        self._sounds = [t.sound for t in self.targets]
        # Whisper glues a request's first word to the product ("Adry cat food", "Adam Ericano"): at the
        # start of a transcript a span may also be "add" + the beginning of a catalog term.
        add = self._sound(["add"])
        self.add_targets = [_Target(("add", *t.words), "product", add + t.sound, t.wholes) for t in self.targets
                            if t.kind == "product" and any(whole[:len(t.words)] == t.words for whole in t.wholes)]
        self._add_sounds = [t.sound for t in self.add_targets]

    def _sound(self, words: Sequence[str]) -> str:
        return "".join(self._pronounce(w) for w in words)

    def _locked(self, word: str) -> bool:
        return not word or word in self.lexicon.protected or not word.isalpha() or len(word) < 2

    def _spans(self, words: list[str]) -> Iterable[tuple[int, int]]:
        for start, first in enumerate(words):
            if self._locked(first):
                continue
            for end in range(start + 1, min(start + 3, len(words)) + 1):
                last = words[end - 1]
                if end - start > 1 and self._locked(last) and last not in INNER_WORDS:
                    break
                yield start, end

    def _context_fits(self, target: _Target, left: tuple[str, ...], right: tuple[str, ...]) -> bool:
        """Does the target, with the heard words around it, make up a whole catalog term it belongs to?"""
        window = (*left, *target.words, *right)
        for whole in target.wholes:
            if len(whole) <= len(target.words):
                continue
            for start in range(len(window) - len(whole) + 1):
                if window[start:start + len(whole)] == whole:
                    return True
        return False

    def _best(self, words: list[str], start: int, end: int,
              context: frozenset[str]) -> tuple[float, float, _Target] | None:
        heard = self._sound(words[start:end])
        if len(heard) < self.min_sounds:
            return None
        left, right = tuple(words[max(0, start - 2):start]), tuple(words[end:end + 2])
        scored: dict[tuple[str, ...], tuple[float, _Target]] = {}
        cutoff = self.threshold - self.context_bonus - self.dialog_bonus
        hits = [(similarity, self.targets[index]) for _c, similarity, index in process.extract(
            heard, self._sounds, scorer=Levenshtein.normalized_similarity, score_cutoff=cutoff, limit=12)]
        if start == 0:
            hits += [(similarity, self.add_targets[index]) for _c, similarity, index in process.extract(
                heard, self._add_sounds, scorer=Levenshtein.normalized_similarity, score_cutoff=cutoff, limit=6)]
        for similarity, target in hits:
            if target.words == tuple(words[start:end]):
                continue
            fits = self._context_fits(target, left, right)
            offered = bool(context) and set(target.words) <= context
            if len(heard) < self.short_sounds and not (fits or offered):
                continue
            score = similarity + self.context_bonus * fits + self.dialog_bonus * offered
            if not fits and target.words not in self.lexicon.full_terms:
                score -= self.fragment_penalty  # part of a name, and the rest of that name was not heard
            if score > scored.get(target.words, (-1.0, target))[0]:
                scored[target.words] = (score, target)
        if not scored:
            return None
        ranked = sorted(scored.values(), key=lambda pair: -pair[0])
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        return ranked[0][0], runner_up, ranked[0][1]

    def correct(self, text: str, context: Iterable[str] = ()) -> Correction:
        """The transcript with confident catalog rewrites; context = names just offered or in the cart."""
        tokens = text.split()
        words = [normalize(token) if len(normalize(token).split()) == 1 else "" for token in tokens]
        near = frozenset(w for name in context for w in normalize(name).split())
        chosen: list[tuple[float, int, int, _Target]] = []
        for start, end in self._spans(words):
            found = self._best(words, start, end, near)
            if found is None:
                continue
            score, runner_up, target = found
            if score >= self.threshold and score - runner_up >= self.margin:
                chosen.append((score, start, end, target))
        taken: set[int] = set()
        edits: dict[int, tuple[int, Edit]] = {}
        for score, start, end, target in sorted(chosen, key=lambda c: (-c[0], c[1])):
            if taken & set(range(start, end)):
                continue
            taken |= set(range(start, end))
            edit = Edit(" ".join(tokens[start:end]), " ".join(target.words), target.kind, min(1.0, score))
            edits[start] = (end, edit)
        if not edits:
            return Correction(text, text)
        out, index = [], 0
        while index < len(tokens):
            if index in edits:
                end, edit = edits[index]
                trailing = re.search(r"[^\w']*$", tokens[end - 1]).group(0)
                out.append(edit.written + trailing)
                index = end
            else:
                out.append(tokens[index])
                index += 1
        return Correction(" ".join(out), text, tuple(edits[i][1] for i in sorted(edits)))


class CatalogCorrector:
    """A Corrector that follows its catalog: rebuilt when a delta changes the catalog version."""

    def __init__(self, conn: sqlite3.Connection, pronounce: Callable[[str], str] | None = None) -> None:
        self.conn = conn
        self._pronounce = pronounce
        self._version: Any = object()
        self._corrector: Corrector | None = None
        self._spotter: tuple[Corrector, Any] | None = None
        self._reader: tuple[Corrector, Any] | None = None
        self._chinese = False

    def warm(self) -> Corrector | None:
        """The corrector for the current catalog version, built now if needed (~0.5-1 s: phonemizing the
        catalog's words), so a device pays it at start-up instead of in its first reply. None for a
        Chinese catalog (see the module docstring)."""
        from edge.catalog.chinese import has_cjk
        from edge.catalog.schema import catalog_version

        version = catalog_version(self.conn)
        if version != self._version:
            sample = self.conn.execute("SELECT name FROM products LIMIT 1").fetchone()
            self._chinese = sample is not None and has_cjk(sample[0])
        if self._chinese:
            self._version, self._corrector = version, None
            return None
        if self._corrector is None or version != self._version:
            if self._pronounce is None:
                self._pronounce = espeak_pronouncer()
            self._corrector = Corrector(Lexicon.from_catalog(self.conn), self._pronounce)
            self._version = version
        return self._corrector

    def correct(self, text: str, context: Iterable[str] = ()) -> Correction:
        from edge.catalog.chinese import has_cjk

        corrector = None if has_cjk(text) else self.warm()
        return Correction(text, text) if corrector is None else corrector.correct(text, context)

    def spot(self, text: str, among: Sequence[str] | None = None) -> list[Any]:
        """Catalog products heard anywhere in text, by sound (edge.catalog.spotting); [] for Chinese."""
        from edge.catalog.chinese import has_cjk
        from edge.catalog.spotting import Spotter

        corrector = None if has_cjk(text) else self.warm()
        if corrector is None:
            return []
        if self._spotter is None or self._spotter[0] is not corrector:  # built with this catalog version
            self._spotter = (corrector, Spotter.from_catalog(self.conn, corrector._sound))
        return self._spotter[1].spot(text, among)

    def command_reader(self) -> Any:
        """The CommandReader (edge.catalog.heard_commands) on this corrector's phoneme keys, or None for
        a Chinese catalog."""
        from edge.catalog.heard_commands import CommandReader

        corrector = self.warm()
        if corrector is None:
            return None
        if self._reader is None or self._reader[0] is not corrector:
            self._reader = (corrector, CommandReader(corrector._sound))
        return self._reader[1]

    def warm_spotter(self) -> None:
        """Build the corrector, the spotter and the command reader now (start-up), not in the first turn."""
        self.spot("warm up")
        self.command_reader()


def corrector_for_data_dir(data_dir: Path) -> CatalogCorrector:
    """The corrector over a device data dir's catalog.db (read-only use); ValueError saying how to load one."""
    from edge.catalog.schema import open_catalog
    from edge.dialog.session import catalog_problem

    problem = catalog_problem(data_dir)
    if problem:
        raise ValueError(problem)
    return CatalogCorrector(open_catalog(data_dir / "catalog.db"))


def apply_to_record(record: dict[str, Any], correction: Correction, key: str = "text") -> dict[str, Any]:
    """record[key] becomes the corrected text; the heard one stays beside it as raw_text (always, so a
    script reading --correct output sees one shape), with the edits."""
    record[key] = correction.text
    record["raw_text"] = correction.raw_text
    record["corrections"] = [edit.to_json() for edit in correction.edits]
    return record
