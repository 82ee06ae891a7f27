"""Generate labelled Mandarin utterances for the zh joint intent + slot model, with held-out splits.

Words come from `voiceshop_common.vocab_zh` (products, brands, measure words; its held-out marks
decide which products and brands the model never sees) plus off-catalog products; phrasings from
`export.nlu_zh_templates` (every fifth pattern held out). Utterances are built from labelled
segments, so slot spans are exact character offsets, then dressed as Whisper's Mandarin output
comes (after Traditional -> Simplified): numbers as Chinese numerals or digits, end punctuation or
none, a comma after an opener. Everything is seeded: the same seed gives the same data.

The `Example` record and the JSONL helpers are the English generator's (`export.nlu_data`), so
the evaluation code (`export.nlu_eval`) scores both languages alike.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from edge.nlu.schema import INTENTS
from export.nlu_data import Example
from export.nlu_zh_templates import EXTRA_PRODUCTS, FILLERS, POLITE, PRICE_CAPS, SUFFIXES, TEMPLATES
from voiceshop_common import vocab_zh

HOLDOUT_EVERY = 5
"""Pattern i of an intent is held out when i % HOLDOUT_EVERY == 3."""

INTENT_WEIGHTS = {
    "add_to_cart": 5.0, "search": 3.5, "remove_from_cart": 2.2, "price_query": 2.0, "recommend": 1.2,
    "view_cart": 1.0, "checkout": 0.9, "confirm": 1.0, "deny": 1.1, "order_status": 0.8, "reorder": 0.9,
    "cancel_order": 0.9, "help": 0.8, "faq": 1.0, "other": 1.2,
}

HANDWRITTEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "nlu_zh_heldout.jsonl"
"""Hand-written held-out Mandarin commands (the test and the benchmark score the model on them)."""

_DIGITS = "零一二三四五六七八九"
Segment = tuple[str, "str | None"]


def chinese_number(n: int, before_unit: bool = False) -> str:
    """0 < n < 10000 in Chinese numerals as spoken: 12 -> 十二, 20 -> 二十, 2 before a measure word -> 两."""
    if n == 2 and before_unit:
        return "两"
    out, zero = "", False
    for value, name in ((1000, "千"), (100, "百"), (10, "十")):
        digit = n // value % 10
        if digit:
            if zero:
                out += "零"
            lead = "两" if digit == 2 and value >= 100 and before_unit else _DIGITS[digit]
            out += ("" if value == 10 and digit == 1 and not out else lead) + name
            zero = False
        elif out:
            zero = True
    if n % 10:
        out += ("零" if zero else "") + _DIGITS[n % 10]
    return out or "零"


@dataclass
class ZhVocabulary:
    """The words one split draws from."""

    products: list[str]
    brands: list[str]


def _extra_held(name: str) -> bool:
    return hashlib.sha256(name.encode()).digest()[0] % 6 == 0


def vocabularies() -> tuple[ZhVocabulary, ZhVocabulary]:
    """(train, held-out): the catalog's split from vocab_zh, off-catalog products split by hash."""
    extra_train = [p for p in EXTRA_PRODUCTS if not _extra_held(p)]
    extra_held = [p for p in EXTRA_PRODUCTS if _extra_held(p)]
    return (ZhVocabulary(vocab_zh.product_names("train") + extra_train, vocab_zh.brand_names("train")),
            ZhVocabulary(vocab_zh.product_names("held_out") + extra_held, vocab_zh.brand_names("held_out")))


class ZhRenderer:
    """Fills one pattern's placeholders; every choice from the seeded rng."""

    def __init__(self, rng: random.Random, words: ZhVocabulary, tag: bool) -> None:
        self.rng, self.words, self.tag = rng, words, tag
        self.digits = rng.random() < 0.4
        self.product_name = rng.choice(words.products)

    def s(self, text: str, slot: str | None) -> Segment:
        return (text, slot if self.tag else None)

    def number(self, n: int, before_unit: bool) -> str:
        return str(n) if self.digits else chinese_number(n, before_unit)

    def quantity(self) -> list[Segment]:
        r = self.rng.random()
        n = 1 if r < 0.2 else self.rng.randint(2, 6) if r < 0.8 else self.rng.randint(7, 12) if r < 0.93 \
            else self.rng.choice([15, 20, 24, 30, 50, 100])
        return [self.s(self.number(n, True), "quantity")]

    def unit(self) -> list[Segment]:
        spec = vocab_zh.product(self.product_name)
        unit = spec.unit if spec and self.rng.random() < 0.6 else self.rng.choice(vocab_zh.UNITS)
        return [self.s(unit, "unit")]

    def qty(self) -> list[Segment]:
        return self.quantity() + self.unit()

    def brand(self) -> list[Segment]:
        spec = vocab_zh.product(self.product_name)
        own = [b for b in vocab_zh.brands_for(spec.category) if b in self.words.brands] if spec else []
        return [self.s(self.rng.choice(own) if own and self.rng.random() < 0.8 else self.rng.choice(self.words.brands),
                       "brand")]

    def product(self) -> list[Segment]:
        return [self.s(self.product_name, "product")]

    def item(self) -> list[Segment]:
        r = self.rng.random()
        if r < 0.45:
            return self.qty() + self.product()
        if r < 0.6:
            return self.qty() + self.brand() + ([("的", None)] if self.rng.random() < 0.3 else []) + self.product()
        if r < 0.72:
            return self.brand() + ([("的", None)] if self.rng.random() < 0.3 else []) + self.product()
        return self.product()

    def item_bare(self) -> list[Segment]:
        r = self.rng.random()
        if r < 0.2:
            before, after = self.rng.choice(PRICE_CAPS)
            return [(before, None), *self.max_price(), (after + "的", None), *self.product()]
        if r < 0.35:
            return self.brand() + ([("的", None)] if self.rng.random() < 0.4 else []) + self.product()
        return self.product()

    def max_price(self) -> list[Segment]:
        r = self.rng.random()
        n = self.rng.choice([5, 8, 10, 15, 20, 25, 30, 39, 40, 50, 60, 80, 99, 100, 150, 200]) if r < 0.8 \
            else self.rng.randint(3, 120)
        amount = self.number(n, True)
        currency = self.rng.choice(["元", "块", "块钱", "元", "块"])
        if self.rng.random() < 0.08:  # 十二块五 = 12.5, 9.9元
            amount, currency = (f"{n}.5", "元") if self.digits else (amount, "块五")
        return [self.s(amount + currency, "max_price")]

    def ordinal(self) -> list[Segment]:
        if self.rng.random() < 0.12:  # "最后一个": the position word is 最后, 一 belongs to the measure word
            return [self.s("最后", "ordinal"), ("一", None)] if self.rng.random() < 0.6 \
                else [self.s("倒数第二", "ordinal")]
        n = self.rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])
        return [self.s("第" + (str(n) if self.digits and self.rng.random() < 0.5 else chinese_number(n)), "ordinal")]

    def fill(self, name: str) -> list[Segment]:
        return getattr(self, name)()


_ALT = re.compile(r"\(([^()]*)\)")
_PART = re.compile(r"\{(\w+)\}|[^{}]+")
_QUESTION = re.compile(r"(吗|呢|什么|多少|哪|怎么|几|有没有|啥|是不是)")


def render(template: str, intent: str, rng: random.Random, words: ZhVocabulary, pattern: str = "",
           split: str = "train") -> Example:
    polite = template.startswith("!")
    chosen = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template.lstrip("!")).replace(" ", "")
    renderer = ZhRenderer(rng, words, tag=intent != "other")
    segments: list[Segment] = []
    for match in _PART.finditer(chosen):
        segments += renderer.fill(match.group(1)) if match.group(1) else [(match.group(0), None)]
    if polite and rng.random() < 0.3 and not segments[0][0].startswith(("帮", "请", "麻烦")):
        segments.insert(0, (rng.choice(POLITE), None))
    if rng.random() < 0.15:
        segments.insert(0, (rng.choice(FILLERS) + ("，" if rng.random() < 0.5 else ""), None))
    if intent not in ("confirm", "deny", "other") and rng.random() < 0.12:
        segments.append((rng.choice(SUFFIXES), None))
    text, spans = "", []
    for piece, slot in segments:
        if not piece:
            continue
        if slot:
            spans.append((len(text), len(text) + len(piece), slot))
        text += piece
    r = rng.random()
    if r < 0.35:
        text += "？" if _QUESTION.search(text) else "。"
    elif r < 0.38:
        text += "！"
    return Example(text, intent, tuple(spans), pattern, split)


def _patterns(intent: str, held_out: bool) -> list[tuple[int, str]]:
    return [(i, t) for i, t in enumerate(TEMPLATES[intent]) if (i % HOLDOUT_EVERY == 3) == held_out]


def generate(n: int, rng: random.Random, words: ZhVocabulary, held_out_patterns: bool, split: str) -> list[Example]:
    intents = list(INTENTS)
    weights = [INTENT_WEIGHTS[i] for i in intents]
    out = []
    for _ in range(n):
        intent = rng.choices(intents, weights=weights)[0]
        index, template = rng.choice(_patterns(intent, held_out_patterns))
        out.append(render(template, intent, rng, words, f"{intent}:{index}", split))
    return out


def _key(text: str) -> str:
    return re.sub(r"[\s，。？！,.?!]", "", text.lower())


def handwritten_keys(path: Path = HANDWRITTEN) -> set[str]:
    if not path.is_file():
        return set()
    return {_key(json.loads(line)["text"]) for line in path.read_text().splitlines() if line.strip()}


def build_splits(seed: int = 13, n_train: int = 5000, n_eval: int = 300) -> dict[str, list[Example]]:
    """train plus held-out sets: unseen_patterns, unseen_products, unseen_both (as the English splits).

    Held-out texts that also occur in train (or in the hand-written set) are dropped, so every
    scored utterance is new to the model; train is de-duplicated.
    """
    rng = random.Random(seed)
    train_words, held_words = vocabularies()
    seen = handwritten_keys()
    train = []
    for ex in generate(n_train, rng, train_words, False, "train"):
        if _key(ex.text) not in seen:
            seen.add(_key(ex.text))
            train.append(ex)
    splits = {"train": train}
    for name, words, patterns in (("unseen_patterns", train_words, True), ("unseen_products", held_words, False),
                                  ("unseen_both", held_words, True)):
        splits[name] = [ex for ex in generate(n_eval, rng, words, patterns, name) if _key(ex.text) not in seen]
    return splits


def load_handwritten(path: Path = HANDWRITTEN) -> list[Example]:
    """{"text", "intent", "slots": {slot: words}}: slot words located left to right (Chinese has no
    word boundaries to anchor on, so the first occurrence after the previous slot is taken)."""
    examples = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        text, spans, cursor = data["text"], [], 0
        for slot, words in data.get("slots", {}).items():
            start = text.find(words, cursor)
            start = text.find(words) if start < 0 else start
            if start < 0:
                raise ValueError(f"{path}:{number}: slot {slot}={words!r} not found in {text!r}")
            spans.append((start, start + len(words), slot))
            cursor = start + len(words)
        examples.append(Example(text, data["intent"], tuple(sorted(spans)), "hand", "hand"))
    return examples


def corpus_texts(splits: dict[str, list[Example]]) -> list[str]:
    """Every text the vocabulary trim must cover: all splits, the vocabulary itself, the hand-written set."""
    texts = [ex.text for examples in splits.values() for ex in examples]
    texts += vocab_zh.product_names() + vocab_zh.brand_names() + list(vocab_zh.UNITS) + list(EXTRA_PRODUCTS)
    if HANDWRITTEN.is_file():
        texts += [ex.text for ex in load_handwritten()]
    return texts
