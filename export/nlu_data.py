"""Generate labelled utterances for the joint intent + slot model, and split off what it must not see.

Words come from the demo catalog (`voiceshop_common.vocab`: product names, their aliases, brands,
units) plus a short list of off-catalog products; phrasings come from `export.nlu_templates`.
Every utterance is built as labelled segments, so slot spans are exact character offsets, and
then dressed in one of three surface styles: ASR-plain (lower case, no punctuation, the way a
recognizer without punctuation prints), Whisper-like (capitalized, end punctuation, digits), or
as composed. Numbers are spoken as words or digits at random because Whisper returns both.

The split holds out whole patterns (every fifth pattern per intent) and about one product and
brand in six, so the reported accuracy is on phrasing and products the model never saw, not on
the generator it was trained from. Everything is seeded: the same seed gives the same data.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edge.nlu.schema import INTENTS
from export.nlu_phrasing import EXTRA_PRODUCTS, FILLERS, POLITE_PREFIXES, SUFFIXES
from export.nlu_render import Renderer, Segment
from export.nlu_templates import TEMPLATES
from voiceshop_common import vocab

HOLDOUT_EVERY = 5
"""Pattern i of an intent is held out when i % HOLDOUT_EVERY == HOLDOUT_EVERY - 2."""

HOLDOUT_SHARE = 6
"""About one product (and brand) in HOLDOUT_SHARE is held out, chosen by name hash."""

INTENT_WEIGHTS = {
    "add_to_cart": 5.0, "search": 3.5, "remove_from_cart": 2.0, "price_query": 2.0, "recommend": 1.2,
    "view_cart": 0.9, "checkout": 0.9, "confirm": 1.0, "deny": 1.1, "order_status": 0.8, "reorder": 1.0,
    "cancel_order": 0.9, "help": 0.8, "faq": 1.0, "other": 1.75,
}
"""How often each intent is drawn: slot-heavy intents need more examples than one-word answers."""

# Units beyond the catalog's that shoppers say, with their spoken plurals ("" = written abbreviation).
_EXTRA_UNITS = {"pound": ("pounds", "lbs", "lb"), "kilo": ("kilos", "kg"), "ounce": ("ounces", "oz"),
                "case": ("cases",), "liter": ("liters",), "six pack": ("six packs",)}


@dataclass(frozen=True)
class Example:
    """One labelled utterance: slot spans are [start, end) character offsets into text."""

    text: str
    intent: str
    spans: tuple[tuple[int, int, str], ...] = ()
    pattern: str = ""
    """"intent:index" of the template it came from (or "hand" for hand-written ones)."""
    split: str = "train"

    def slots(self) -> dict[str, str]:
        """Slot name -> surface words (first span of each slot)."""
        out: dict[str, str] = {}
        for start, end, slot in self.spans:
            out.setdefault(slot, self.text[start:end])
        return out

    def to_json(self) -> str:
        data = asdict(self)
        data["spans"] = [list(span) for span in self.spans]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Example:
        data = json.loads(line)
        data["spans"] = tuple(tuple(span) for span in data.get("spans", ()))
        return cls(**data)


@dataclass
class Vocabulary:
    """The words the generator draws from, split into train and held-out halves."""

    products: list[str]
    brands: list[str]
    units: dict[str, tuple[str, ...]]
    """singular -> plural spellings."""
    product_units: dict[str, str] = field(default_factory=dict)
    product_sizes: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _held_out(name: str) -> bool:
    digest = hashlib.sha256(name.lower().encode()).digest()
    return digest[0] % HOLDOUT_SHARE == 0


def _spoken(name: str) -> str:
    """A name as the ASR style writes it ("&" -> "and")."""
    return " ".join(name.lower().replace("&", " and ").split())


def catalog_vocabulary() -> tuple[Vocabulary, Vocabulary]:
    """(train, held-out) vocabularies from the demo catalog plus off-catalog products."""
    specs = [spec for _category, spec in vocab.all_specs()]
    units = {u: (vocab.UNIT_PLURALS.get(u, u + "s"),) for u in vocab.UNITS if u != "each"}
    for unit, plurals in _EXTRA_UNITS.items():
        units[unit] = tuple(dict.fromkeys(units.get(unit, ()) + plurals))
    names = [s.name for s in specs] + list(EXTRA_PRODUCTS)
    aliases = [a for s in specs for a in s.aliases if len(a) > 2]
    product_units = {s.name: s.unit for s in specs}
    product_sizes = {s.name: s.sizes for s in specs}
    train_products = [n for n in names + aliases if not _held_out(n)]
    # A held-out name that renders like a trained one ("half & half" -> "half and half") is not unseen.
    trained = {_spoken(n) for n in train_products}
    held_products = [n for n in names + aliases if _held_out(n) and _spoken(n) not in trained]
    brands = vocab.brand_names()
    return (
        Vocabulary(train_products, [b for b in brands if not _held_out(b)], units, product_units, product_sizes),
        Vocabulary(held_products, [b for b in brands if _held_out(b)], units, product_units, product_sizes),
    )


_ALT = re.compile(r"\(([^()]*)\)")
_PART = re.compile(r"\{(\w+)\}|[^\s{}]+")


def render(template: str, intent: str, rng: random.Random, words: Vocabulary, pattern: str = "",
           split: str = "train") -> Example:
    """One utterance from one pattern: fill, add fillers/politeness, pick a style, compute spans."""
    imperative = template.startswith("!")
    chosen = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template.lstrip("!"))
    style = rng.choices(["asr", "whisper", "plain"], weights=[50, 35, 15])[0]
    digits = rng.random() < (0.6 if style == "whisper" else 0.4)
    renderer = Renderer(rng, words, digits, tag=intent != "other")
    segments: list[Segment] = []
    for match in _PART.finditer(chosen):
        segments += renderer.fill(match.group(1)) if match.group(1) else [(match.group(0), None)]
    segments = [seg for seg in segments if seg[0]]
    if style != "plain" and rng.random() < ASR_SLIPS:
        segments = _misheard(segments, rng)
    if imperative and rng.random() < 0.3:
        segments.insert(0, (rng.choice(POLITE_PREFIXES), None))
    if rng.random() < 0.15:
        segments.insert(0, (rng.choice(FILLERS) + ("," if style != "asr" else ""), None))
    if intent not in ("confirm", "deny", "other") and rng.random() < 0.12:
        segments.append((rng.choice(SUFFIXES), None))
    if len(segments) > 3 and rng.random() < 0.06:
        segments.insert(rng.randint(1, len(segments) - 1), (rng.choice(("uh", "um", "like", "you know")), None))
    return _assemble(segments, style, rng, intent, pattern, split)


ASR_SLIPS = 0.2
"""Share of transcript-style utterances whose command words come as Whisper tiny.en mishears them."""
MISHEARD = {"add": ("at", "ad"), "delete": ("the lead", "lead"), "cart": ("car",)}
"""What tiny.en writes for a command word (heard in `edge transcribe` on synthesized commands: "At a gallon
of whole milk.", "At 2.", "lead two of the yogurts", "What's in my car?"). The NLU reads transcripts, so
it learns these as the words they are; the correction step cannot, since "at" and "car" are words."""


def _misheard(segments: list[Segment], rng: random.Random) -> list[Segment]:
    """Each command word (not a slot value) comes out misheard, two times in five."""
    return [(rng.choice(MISHEARD[text.lower()]), None)
            if slot is None and text.lower() in MISHEARD and rng.random() < 0.4 else (text, slot)
            for text, slot in segments]


def _assemble(segments: list[Segment], style: str, rng: random.Random, intent: str, pattern: str,
              split: str) -> Example:
    pieces: list[tuple[str, str | None]] = []
    for text, slot in segments:
        if style == "asr":
            text = text.lower().replace("&", "and")
            text = re.sub(r"[,.?!]", "", text) if slot != "max_price" else text.replace(",", "")
            if rng.random() < 0.15:
                text = text.replace("'", "")
        pieces.append((text, slot))
    text, spans = "", []
    for piece, slot in pieces:
        if not piece:
            continue
        start = len(text) + (1 if text else 0)
        text = f"{text} {piece}" if text else piece
        if slot:
            spans.append((start, start + len(piece), slot))
    if style == "whisper":
        text = text[:1].upper() + text[1:]
        question = re.match(r"(what|how|do|does|is|are|can|could|where|when|which|has|did|any|would|will)\b",
                            text, re.IGNORECASE)
        text += "?" if question else "."
    return Example(text, intent, tuple(spans), pattern, split)


def _patterns(intent: str, held_out: bool) -> list[tuple[int, str]]:
    return [(i, t) for i, t in enumerate(TEMPLATES[intent])
            if (i % HOLDOUT_EVERY == HOLDOUT_EVERY - 2) == held_out]


def generate(n: int, rng: random.Random, words: Vocabulary, held_out_patterns: bool, split: str) -> list[Example]:
    """n utterances drawn by intent weight from the train or held-out patterns."""
    intents = list(INTENTS)
    weights = [INTENT_WEIGHTS[i] for i in intents]
    out = []
    for _ in range(n):
        intent = rng.choices(intents, weights=weights)[0]
        index, template = rng.choice(_patterns(intent, held_out_patterns))
        out.append(render(template, intent, rng, words, f"{intent}:{index}", split))
    return out


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9$ ]", "", text.lower()).strip()


HANDWRITTEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "nlu_heldout.jsonl"
"""The hand-written held-out set (tests and the benchmark score the model on it)."""


def handwritten_keys(path: Path = HANDWRITTEN) -> set[str]:
    """The hand-written set's texts, normalized as `_key` does; empty if the file is not there."""
    if not path.is_file():
        return set()
    return {_key(json.loads(line)["text"]) for line in path.read_text().splitlines() if line.strip()}


def build_splits(seed: int = 13, n_train: int = 3800, n_eval: int = 300) -> dict[str, list[Example]]:
    """train plus three held-out sets: unseen patterns, unseen products, and both unseen.

    Held-out utterances whose text also occurs in train are dropped (short answers like "yes"
    would otherwise count as unseen); train is de-duplicated too. Nothing generated may equal a
    line of the hand-written held-out set, so that set stays unseen whatever the sampling draws
    (short lines like "thanks" are otherwise drawn as soon as the data grows).
    """
    rng = random.Random(seed)
    train_words, held_words = catalog_vocabulary()
    train = generate(n_train, rng, train_words, False, "train")
    seen: set[str] = handwritten_keys()
    unique_train = []
    for ex in train:
        if _key(ex.text) not in seen:
            seen.add(_key(ex.text))
            unique_train.append(ex)
    splits = {"train": unique_train}
    for name, words, patterns in (("unseen_patterns", train_words, True), ("unseen_products", held_words, False),
                                  ("unseen_both", held_words, True)):
        examples = [ex for ex in generate(n_eval, rng, words, patterns, name) if _key(ex.text) not in seen]
        splits[name] = examples
    return splits


def write_jsonl(path: Path, examples: Iterable[Example]) -> None:
    path.write_text("".join(ex.to_json() + "\n" for ex in examples))


def read_jsonl(path: Path) -> list[Example]:
    return [Example.from_json(line) for line in path.read_text().splitlines() if line.strip()]


def training_vocabulary() -> set[str]:
    """Lower-cased product and brand names the model is trained on (to check 'unseen' claims)."""
    train_words, _held = catalog_vocabulary()
    return {w.lower() for w in train_words.products + train_words.brands}
