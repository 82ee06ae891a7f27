"""Generate labelled utterances for the joint intent + slot model, and split off what it must not see.

Words come from the demo catalog (`cloud.catalog.vocab`: product names, their aliases, brands,
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

from cloud.catalog import vocab
from edge.nlu.schema import INTENTS
from export.nlu_templates import (
    EXTRA_PRODUCTS,
    FILLERS,
    POLITE_PREFIXES,
    PRICE_CAPS,
    SUFFIXES,
    TEMPLATES,
)

HOLDOUT_EVERY = 5
"""Pattern i of an intent is held out when i % HOLDOUT_EVERY == HOLDOUT_EVERY - 2."""

HOLDOUT_SHARE = 6
"""About one product (and brand) in HOLDOUT_SHARE is held out, chosen by name hash."""

INTENT_WEIGHTS = {
    "add_to_cart": 5.0, "search": 3.5, "remove_from_cart": 2.0, "price_query": 2.0, "recommend": 1.2,
    "view_cart": 0.9, "checkout": 0.9, "confirm": 1.0, "deny": 1.0, "order_status": 0.8, "reorder": 1.0,
    "cancel_order": 0.9, "help": 0.8, "faq": 1.0, "other": 1.4,
}
"""How often each intent is drawn: slot-heavy intents need more examples than one-word answers."""

_SMALL_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS_WORDS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth")
_ORDINAL_DIGITS = ("1st", "2nd", "3rd", "4th", "5th", "6th")
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


def number_words(n: int) -> str:
    """1..999 in words ("twenty four", "a hundred and five" is spoken "one hundred five" here)."""
    if n < 20:
        return _SMALL_WORDS[n]
    if n < 100:
        tens, rest = divmod(n, 10)
        return _TENS_WORDS[tens] + (f" {_SMALL_WORDS[rest]}" if rest else "")
    hundreds, rest = divmod(n, 100)
    return f"{_SMALL_WORDS[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")


def _held_out(name: str) -> bool:
    digest = hashlib.sha256(name.lower().encode()).digest()
    return digest[0] % HOLDOUT_SHARE == 0


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
    held_products = [n for n in names + aliases if _held_out(n)]
    brands = vocab.brand_names()
    return (
        Vocabulary(train_products, [b for b in brands if not _held_out(b)], units, product_units, product_sizes),
        Vocabulary(held_products, [b for b in brands if _held_out(b)], units, product_units, product_sizes),
    )


Segment = tuple[str, str | None]  # (text, slot or None)


class _Renderer:
    """Fills one pattern with words; every choice comes from the seeded rng passed in."""

    def __init__(self, rng: random.Random, words: Vocabulary, digits: bool, tag: bool) -> None:
        self.rng, self.words, self.digits, self.tag = rng, words, digits, tag
        self.last_quantity = 2

    def s(self, text: str, slot: str | None) -> Segment:
        return (text, slot if self.tag else None)

    def number(self, n: int) -> str:
        return str(n) if self.digits else number_words(n)

    def quantity_value(self) -> int:
        r = self.rng.random()
        if r < 0.70:
            return self.rng.randint(2, 6)
        if r < 0.90:
            return self.rng.randint(7, 12)
        if r < 0.97:
            return self.rng.choice([15, 18, 20, 24, 30, 36, 48])
        return self.rng.choice([50, 100, 200, 500, 1000])

    def quantity(self, allow_one: bool = True) -> list[Segment]:
        if allow_one and self.rng.random() < 0.15:
            self.last_quantity = 1
            lead = [(self.rng.choice(["just", "only"]), None)] if self.rng.random() < 0.3 else []
            return [*lead, self.s("1" if self.digits and self.rng.random() < 0.5 else "one", "quantity")]
        n = self.quantity_value()
        self.last_quantity = n
        if n == 2 and self.rng.random() < 0.1:
            return [self.s("a couple", "quantity")]
        return [self.s(self.number(n), "quantity")]

    def unit(self, product: str | None = None) -> str:
        own = self.words.product_units.get(product or "", "each")
        unit = own if own != "each" and self.rng.random() < 0.55 else self.rng.choice(list(self.words.units))
        if self.last_quantity == 1:
            return unit
        plurals = self.words.units[unit]
        return self.rng.choice(plurals) if self.rng.random() < 0.3 else plurals[0]

    def units_seg(self) -> list[Segment]:
        return [self.s(self.unit(), "unit")]

    def product(self) -> str:
        return self.rng.choice(self.words.products)

    def brand(self) -> str:
        return self.rng.choice(self.words.brands)

    def max_price(self) -> list[Segment]:
        rng = self.rng
        dollars = rng.choice([1, 2, 3, 5, 5, 8, 10, 10, 12, 15, 20, 20, 25, 30, 40, 50, 75, 100])
        cents = rng.choice([0, 0, 0, 0, 49, 50, 99])
        if cents and dollars < 30:
            forms = [f"${dollars}.{cents:02d}", f"{dollars}.{cents:02d}",
                     f"{number_words(dollars)} {number_words(cents)}",
                     f"{number_words(dollars)} dollars and {number_words(cents)} cents"]
        else:
            forms = [f"${dollars}", f"{dollars} dollars", f"{dollars} bucks", f"{number_words(dollars)} dollars",
                     f"{number_words(dollars)} bucks", f"{number_words(dollars)}", f"{dollars}"]
        return [self.s(rng.choice(forms), "max_price")]

    def ordinal(self) -> list[Segment]:
        r = self.rng.random()
        if r < 0.15:
            return [self.s(self.rng.choice(["last", "second to last"]), "ordinal")]
        pool = _ORDINAL_DIGITS if self.digits and r < 0.4 else _ORDINAL_WORDS
        return [self.s(self.rng.choice(pool[:4] if self.rng.random() < 0.8 else pool), "ordinal")]

    def ordinal_num(self) -> list[Segment]:
        return [self.s(self.number(self.rng.randint(1, 5)), "ordinal")]

    def item(self) -> list[Segment]:
        """A product as shoppers say it when buying: maybe with quantity, unit and brand."""
        rng, p, out = self.rng, self.product(), []
        kind = rng.choices(["p", "bp", "qp", "qup", "aup", "qubp", "pfb", "qbp", "some", "size", "qu_p"],
                           weights=[26, 8, 12, 20, 10, 6, 4, 5, 4, 2, 3])[0]
        self.last_quantity = 2
        if kind == "p":
            return [self.s(p, "product")]
        if kind == "some":
            return [("some", None), self.s(p, "product")]
        if kind == "bp":
            return [self.s(self.brand(), "brand"), self.s(p, "product")]
        if kind == "pfb":
            return [self.s(p, "product"), (rng.choice(["from", "by"]), None), self.s(self.brand(), "brand")]
        if kind in ("qp", "qbp"):
            out = self.quantity()
            if kind == "qbp":
                out.append(self.s(self.brand(), "brand"))
            return [*out, self.s(p, "product")]
        if kind in ("aup", "size"):
            self.last_quantity = 1
            sizes = self.words.product_sizes.get(p) or ("2 lb",)
            size = [(self._spoken_size(rng.choice(sizes)), None)] if kind == "size" else []
            unit = self.unit(p)
            article = "an" if not size and unit[0] in "aeiou" else "a"
            return [self.s(article, "quantity"), *size, self.s(unit, "unit"), ("of", None), self.s(p, "product")]
        out = self.quantity()
        out.append(self.s(self.unit(p), "unit"))
        if kind != "qu_p":
            out.append(("of", None))
        if kind == "qubp":
            out.append(self.s(self.brand(), "brand"))
        return [*out, self.s(p, "product")]

    def _spoken_size(self, size: str) -> str:
        amount, _, unit = size.partition(" ")
        spoken_unit = {"lb": "pound", "oz": "ounce", "ct": "count", "gal": "gallon"}.get(unit, unit)
        if not amount.isdigit():
            return size
        return f"{self.number(int(amount))} {spoken_unit}"

    def search_item(self) -> list[Segment]:
        rng, p = self.rng, self.product()
        kind = rng.choices(["p", "bp", "pfb", "b", "p$", "bp$", "cheap"], weights=[40, 12, 6, 4, 24, 6, 4])[0]
        if kind == "b":
            return [self.s(self.brand(), "brand")]
        if kind == "cheap":
            return [(rng.choice(["cheap", "organic", "fresh", "good"]), None), self.s(p, "product")]
        out = [self.s(p, "product")]
        if kind in ("bp", "bp$"):
            out.insert(0, self.s(self.brand(), "brand"))
        if kind == "pfb":
            out += [(rng.choice(["from", "by"]), None), self.s(self.brand(), "brand")]
        if kind.endswith("$"):
            out += [(rng.choice(PRICE_CAPS), None), *self.max_price()]
        return out

    def price_item(self) -> list[Segment]:
        rng, p = self.rng, self.product()
        kind = rng.choices(["p", "bp", "the_p", "aup", "qup"], weights=[40, 15, 20, 15, 10])[0]
        if kind == "p":
            return [self.s(p, "product")]
        if kind == "bp":
            return [self.s(self.brand(), "brand"), self.s(p, "product")]
        if kind == "the_p":
            return [("the", None), self.s(p, "product")]
        if kind == "aup":
            self.last_quantity = 1
            unit = self.unit(p)
            return [self.s("an" if unit[0] in "aeiou" else "a", "quantity"), self.s(unit, "unit"),
                    ("of", None), self.s(p, "product")]
        out = self.quantity(allow_one=False)
        return [*out, self.s(self.unit(p), "unit"), ("of", None), self.s(p, "product")]

    def fill(self, name: str) -> list[Segment]:
        if name == "number":
            return [(self.number(self.rng.randint(2, 45)), None)]
        if name == "quantity":
            return self.quantity()
        if name == "units":
            return self.units_seg()
        if name in ("product", "brand"):
            return [self.s(getattr(self, name)(), name)]
        method = getattr(self, name, None)
        if method is None:
            raise KeyError(f"unknown placeholder {{{name}}}")
        return method()


_ALT = re.compile(r"\(([^()]*)\)")
_PART = re.compile(r"\{(\w+)\}|[^\s{}]+")


def render(template: str, intent: str, rng: random.Random, words: Vocabulary, pattern: str = "",
           split: str = "train") -> Example:
    """One utterance from one pattern: fill, add fillers/politeness, pick a style, compute spans."""
    imperative = template.startswith("!")
    chosen = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template.lstrip("!"))
    style = rng.choices(["asr", "whisper", "plain"], weights=[50, 35, 15])[0]
    digits = rng.random() < (0.6 if style == "whisper" else 0.4)
    renderer = _Renderer(rng, words, digits, tag=intent != "other")
    segments: list[Segment] = []
    for match in _PART.finditer(chosen):
        segments += renderer.fill(match.group(1)) if match.group(1) else [(match.group(0), None)]
    segments = [seg for seg in segments if seg[0]]
    if imperative and rng.random() < 0.3:
        segments.insert(0, (rng.choice(POLITE_PREFIXES), None))
    if rng.random() < 0.15:
        segments.insert(0, (rng.choice(FILLERS) + ("," if style != "asr" else ""), None))
    if intent not in ("confirm", "deny", "other") and rng.random() < 0.12:
        segments.append((rng.choice(SUFFIXES), None))
    if len(segments) > 3 and rng.random() < 0.06:
        segments.insert(rng.randint(1, len(segments) - 1), (rng.choice(("uh", "um", "like", "you know")), None))
    return _assemble(segments, style, rng, intent, pattern, split)


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


def build_splits(seed: int = 13, n_train: int = 3600, n_eval: int = 300) -> dict[str, list[Example]]:
    """train plus three held-out sets: unseen patterns, unseen products, and both unseen.

    Held-out utterances whose text also occurs in train are dropped (short answers like "yes"
    would otherwise count as unseen); train is de-duplicated too.
    """
    rng = random.Random(seed)
    train_words, held_words = catalog_vocabulary()
    train = generate(n_train, rng, train_words, False, "train")
    seen: set[str] = set()
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
