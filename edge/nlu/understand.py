"""Text -> `Understanding`: the joint intent + slot model on onnxruntime, words via `tokenizers`.

One encoder pass gives intent logits (one row) and a BIO tag per token. A word's tag is the tag
of its first sub-token (that is how the model was trained); consecutive B-/I- words make a span,
and a span's value is the original text between its first and last character, so "$4.99" and
"Fuji apples" come back as spoken before normalization turns them into numbers and singular units.

The Mandarin bundle (`nlu-zh`, picked when [device] language = "zh") says so in its labels.json:
``"language": "zh"`` selects `edge.nlu.normalize_zh` for slot values, and ``"tag_unit": "token"``
makes every SentencePiece token its own unit (Chinese has no spaces, so a "word" would be a clause).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge.config import RuntimeSettings, Settings
from edge.events import Understanding
from edge.nlu import normalize, normalize_zh
from edge.nlu.bundle import (
    BUNDLE_NAME,
    TOKENIZER_MAX_LEN,
    load_bundle,
    load_tokenizer,
    shared_tokenizer,
    shared_weights,
)
from edge.providers import ort_session

log = logging.getLogger(__name__)

ZH_BUNDLE_NAME = "nlu-zh"
"""The Mandarin bundle (`python -m export nlu-zh`), used when settings.device.language is "zh"."""
_NORMALIZERS = {"en": normalize, "zh": normalize_zh}
METASPACE = "\u2581"
"""SentencePiece's word-start mark; a token that is only this mark carries no tag."""

Span = tuple[int, int, str]
"""(start, end, slot): character offsets into the text, end exclusive."""


@dataclass(frozen=True)
class Prediction:
    """The model's raw reading of one text, before slot values are normalized."""

    intent: str
    confidence: float
    spans: tuple[Span, ...]


def decode_bio(tags: list[str], offsets: list[tuple[int, int]]) -> list[Span]:
    """Word tags + word character ranges -> slot spans.

    Lenient like conlleval: an I- tag that does not continue a span of its slot starts one, so a
    missed B- still yields the slot instead of dropping it.
    """
    spans: list[Span] = []
    current: list | None = None
    for tag, (start, end) in zip(tags, offsets, strict=True):
        kind, _, slot = tag.partition("-")
        if kind == "I" and current is not None and current[2] == slot:
            current[1] = end
            continue
        if current is not None:
            spans.append(tuple(current))
            current = None
        if kind in ("B", "I"):
            current = [start, end, slot]
    if current is not None:
        spans.append(tuple(current))
    return spans


def token_units(encoding: Any) -> list[int | None]:
    """Word ids for a model tagged per token: each token its own unit, specials and a bare "\u2581" none."""
    return [None if word is None or token == METASPACE else i
            for i, (word, token) in enumerate(zip(encoding.word_ids, encoding.tokens, strict=True))]


def fit(encoding: Any, max_len: int, word_ids: list[int | None] | None = None) -> tuple[list[int], list[int | None], list[tuple[int, int]]]:
    """(ids, word ids, offsets) of an encoding cut to max_len tokens as the tokenizer's own truncation cuts.

    For one sequence that is the first max_len - 2 word pieces between [CLS] and [SEP]; the shared
    tokenizer truncates only at the encoder's longer limit, so the joint model cuts here.
    """
    ids, offsets = encoding.ids, encoding.offsets
    words = encoding.word_ids if word_ids is None else word_ids
    if len(ids) <= max_len:
        return ids, words, offsets
    keep = max_len - 1  # [CLS] and the first max_len - 2 pieces; the closing [SEP] follows
    return ids[:keep] + ids[-1:], words[:keep] + words[-1:], offsets[:keep] + offsets[-1:]


class Understander:
    """Loads the NLU model once; `understand(text)` takes a few milliseconds per utterance."""

    def __init__(self, model_path: Path, tokenizer_path: Path, labels: dict, runtime: RuntimeSettings,
                 threads: int = 1, initializers: Mapping[str, Any] | None = None) -> None:
        self.intents: list[str] = list(labels["intents"])
        self.tags: list[str] = list(labels["tags"])
        self.max_len = int(labels.get("max_len", 64))
        self.language = str(labels.get("language", "en"))
        self.per_token = labels.get("tag_unit") == "token"
        self.normalizer = _NORMALIZERS[self.language]
        # The encoder's tokenizer (same file, longer truncation) serves here too: predict cuts to max_len.
        self.tokenizer = shared_tokenizer(tokenizer_path) if self.max_len <= TOKENIZER_MAX_LEN \
            else load_tokenizer(tokenizer_path, self.max_len)
        self.session = ort_session(str(model_path), runtime, threads, initializers)
        self.input_names = {i.name for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        if {"intent_logits", "slot_logits"} - set(outputs):
            raise ValueError(f"{model_path}: expected outputs intent_logits and slot_logits, found {outputs}")
        self.model_path = model_path
        self._last: tuple[str, Understanding] | None = None

    @classmethod
    def from_bundle(cls, bundle_dir: Path, runtime: RuntimeSettings | None = None, threads: int = 1,
                    role: str = "nlu") -> Understander:
        bundle = load_bundle(bundle_dir)
        return cls(bundle.path(role), bundle.path("tokenizer"), bundle.labels, runtime or RuntimeSettings(), threads,
                   shared_weights(bundle))

    @classmethod
    def from_settings(cls, settings: Settings) -> Understander:
        """The shipped INT8 model for settings.device.language from settings.models.dir, with the NLU
        thread count and provider."""
        name = ZH_BUNDLE_NAME if settings.device.language == "zh" else BUNDLE_NAME
        return cls.from_bundle(settings.models.path / name, settings.runtime, settings.threads.nlu)

    def predict(self, text: str) -> Prediction:
        """Intent, its softmax probability, and raw slot spans for one text.

        A text without a single letter or digit ("", "### ???", a decoding glitch) carries nothing
        to understand: it is "other" without asking the model, whose answer on such input is
        arbitrary (one INT8 build read "\ufffd ### ???" as confirm at 0.54, a yes to a pending order).
        """
        if not any(ch.isalnum() for ch in text):
            return Prediction("other", 0.0, ())
        encoding = self.tokenizer.encode(text)
        token_ids, word_ids, offsets = fit(encoding, self.max_len, token_units(encoding) if self.per_token else None)
        ids = np.asarray([token_ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        intent_logits, slot_logits = self.session.run(
            ["intent_logits", "slot_logits"], {k: v for k, v in feeds.items() if k in self.input_names})
        logits = intent_logits[0].astype(np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        best = int(probs.argmax())
        token_tags = slot_logits[0].argmax(-1)
        tags, ranges, previous = [], [], None
        for i, word in enumerate(word_ids):
            if word is None:
                continue
            start, end = offsets[i]
            if word != previous:
                tags.append(self.tags[int(token_tags[i])])
                ranges.append([start, end])
            else:
                ranges[-1][1] = end
            previous = word
        return Prediction(self.intents[best], float(probs[best]), tuple(decode_bio(tags, ranges)))

    def understand(self, text: str) -> Understanding:
        """The Understanding event: intent, confidence and normalized slots (absent slots omitted).

        When a slot occurs twice ("apples and bananas") the first is kept; unreadable numbers
        are dropped with a debug log rather than guessed. The device asks twice about the same
        text (the early-endpoint check on the audio thread, then the dialogue on the responder
        thread): the second answer is the first one's, so the model runs once per turn. Each caller
        gets its own slots dict.
        """
        last = self._last  # one read: the other thread may replace it meanwhile
        if last is not None and last[0] == text:
            return replace(last[1], slots=dict(last[1].slots))
        prediction = self.predict(text)
        slots: dict[str, object] = {}
        for start, end, slot in prediction.spans:
            if slot in slots:
                continue
            if slot == "quantity":  # "minus two", "2.5", "one million": the whole number, not a part
                start, end = self.normalizer.quantity_context(text, start, end)
            value = self.normalizer.normalize_slot(slot, text[start:end])
            if value is None:
                log.debug("dropping unreadable %s slot %r in %r", slot, text[start:end], text)
                continue
            slots[slot] = value
        understanding = Understanding(text=text, intent=prediction.intent,
                                      confidence=round(prediction.confidence, 4), slots=slots)
        self._last = (text, understanding)
        return replace(understanding, slots=dict(slots))
