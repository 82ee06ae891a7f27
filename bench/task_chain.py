"""The device chain `python -m bench task` drives, and how one command's outcome is scored.

Hearing is edge.asr exactly as the device builds it (`recognizer_for_settings`: Silero VAD segments,
Whisper INT8 on sherpa-onnx, the guard), fed 80 ms frames; every final transcript of the clip is
joined (noise the VAD takes for speech adds words, as it would on the device). The rest is
`ShopSession.turn`, the wiring `edge chat` and the device loop use: catalog-aware correction (with
the dialogue's context), the INT8 NLU, the dialogue over the demo catalog. Each command starts a
fresh conversation; a remove request starts with the cart its Command names.

Scores, per command:
- intent: the NLU's intent on the (corrected) transcript equals the command's;
- product-correct (commands that name a product): the product the dialogue picked is one the
  command means (bench.task_commands: the spec's SKUs, the brand's if one was named). "Picked" is
  the first product an action carries (added, removed, priced, out of stock, the top search
  result or the product introduced with "how many?"), else the product a pending question is
  about ("Shall I add 2?"), else the product in focus. No product picked counts as wrong. A
  misheard verb can still pick the right product ("delete" heard as "add"): intent accuracy is
  where that shows;
- slot F1: (slot, value) pairs after the NLU's own normalizer (`normalize_slot`; strings compared
  as normalized words, numbers as numbers), micro-averaged: TP equal, FP predicted and not
  equal, FN expected and not equal;
- WER of the raw transcript against the text said.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench.task_commands import Command
from edge.config import Settings
from edge.nlu.normalize import normalize_slot
from edge.text.wer import edit_distance, normalize

FRAME = 1280
"""80 ms at 16 kHz: the frame size the device's microphone thread delivers."""


def with_model(settings: Settings, model: str) -> Settings:
    """settings with [asr] model = model ("tiny.en" or "base")."""
    return dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, model=model))


def transcriber(settings: Settings, threads: int = 1, catalog: sqlite3.Connection | None = None) -> Hear:
    """audio -> what the device hears (its VAD + Whisper recognizer, no partials or speculation), with
    the device's Whisper prompt ([asr] prompt, edge.asr.prompt, over `catalog`) when one is set."""
    from edge.asr import recognizer_for_settings
    from edge.asr.prompt import attach_prompt

    recognizer = recognizer_for_settings(settings, partials=False, speculative=False, threads=threads)
    # as on the device: a recognizer without prompts (base's "auto" runtime is sherpa) hears without one
    return Hear(recognizer, attach_prompt(recognizer, settings.asr.prompt, settings.asr.prompt_tokens, catalog,
                                          (settings.asr.bias_bonus, settings.asr.bias_start_bonus)))


class Hear:
    """The device's recognizer over whole clips; `context` sets what the dialogue would show (the
    prompt's products: a remove command's cart) before a clip is heard."""

    def __init__(self, recognizer: Any, prompt: Any) -> None:
        self.recognizer, self.prompt = recognizer, prompt

    def __call__(self, audio: np.ndarray, context: list[str] | None = None) -> str:
        return self.heard(audio, context)[0]

    def heard(self, audio: np.ndarray, context: list[str] | None = None) -> tuple[str, tuple[tuple[str, float], ...]]:
        """The transcript and, for a request heard in one segment, the recognizer's other readings of it (the
        device's Listen.alternatives: what the dialogue may answer instead, edge.dialog.hearing)."""
        from edge.asr.files import final_transcripts

        if self.prompt is not None:
            self.prompt.update(context or [])
        finals = [e for e in final_transcripts(self.recognizer, audio, FRAME) if e.text.strip()]
        text = " ".join(e.text.strip() for e in finals)
        return text, (finals[0].alternatives if len(finals) == 1 else ())

    @property
    def decode_seconds(self) -> float:
        return float(self.recognizer.stats["decode_seconds"])


def _canon(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):g}"
    return " ".join(normalize(str(value)))


def expected_slots(command: Command) -> dict[str, str]:
    """The command's slots as the NLU's normalizer would give them (unreadable ones left out)."""
    out = {}
    for slot, words in command.slots.items():
        value = normalize_slot(slot, words)
        if value is not None:
            out[slot] = _canon(value)
    return out


def slot_counts(expected: dict[str, str], predicted: dict[str, Any]) -> tuple[int, int, int]:
    """(tp, fp, fn) of predicted slot values against expected (both canonical)."""
    got = {slot: _canon(value) for slot, value in predicted.items()}
    tp = sum(1 for slot, value in expected.items() if got.get(slot) == value)
    fp = sum(1 for slot, value in got.items() if expected.get(slot) != value)
    fn = sum(1 for slot, value in expected.items() if got.get(slot) != value)
    return tp, fp, fn


def picked_product(actions: list[dict[str, Any]], state: Any) -> int | None:
    """The product the dialogue picked in a turn (see the module docstring), or None."""
    for action in actions:
        if action.get("product_id") is not None:
            return int(action["product_id"])
        if action.get("product_ids"):
            return int(action["product_ids"][0])
    pending = getattr(state, "pending", None)
    item = pending.data.get("item") if pending is not None else None
    if item is not None:
        return int(item.product_id)
    focus = getattr(state, "focus", None)
    return int(focus.product_id) if focus is not None else None


def is_meant(command: Command, name: str, brand: str) -> bool:
    """Whether a catalog SKU (name, brand) is a product the command means."""
    lowered = name.lower()
    spec_ok = any(lowered == p.lower() or lowered.endswith(" " + p.lower()) for p in command.products)
    return spec_ok and (not command.brand or brand.lower() == command.brand.lower())


@dataclass
class Outcome:
    """One command, heard once, through the chain."""

    heard: str
    corrected: str
    intent: str | None
    intent_ok: bool
    product_ok: bool | None
    """None: the command names no product."""
    picked: str | None
    """"brand name" of the product the dialogue picked."""
    tp: int
    fp: int
    fn: int
    errors: int
    words: int
    reply: str


class Chain:
    """Correction -> NLU -> dialogue over one device data dir holding the demo catalog."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        from edge.dialog.session import ShopSession

        self.session = ShopSession(settings, data_dir, broker_url="")
        conn = sqlite3.connect(str(data_dir / "catalog.db"))
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT id, sku, name, brand, category, unit, pack_size, price_cents, in_stock, "
                            "popularity FROM products").fetchall()
        conn.close()
        self.products = {int(r["id"]): SimpleNamespace(**dict(r)) for r in rows}
        if self.session.corrector is not None:
            self.session.corrector.warm_spotter()

    def close(self) -> None:
        self.session.close()

    def item(self, name: str, brand: str = "") -> Any:
        """The in-stock, most popular SKU of a product name (and brand): what a cart would hold."""
        from edge.dialog.linking import to_item

        rows = [p for p in self.products.values() if p.name.lower() == name.lower() and p.in_stock
                and (not brand or p.brand.lower() == brand.lower())]
        if not rows:
            raise ValueError(f"the demo catalog has no in-stock {brand} {name}")
        return to_item(max(rows, key=lambda p: (p.popularity, -p.id)))

    def run(self, command: Command, heard: str, typed: bool = False,
            alternatives: Sequence[tuple[str, float]] = ()) -> Outcome:
        """One fresh conversation: the heard line (typed: the command's text as typed) as its first turn, with
        the recognizer's other readings of it (edge.dialog.hearing) when there are any."""
        from edge.dialog.state import CartLine, DialogState

        reference = normalize(command.text)
        if not heard.strip():  # nothing heard: the device starts no turn, so everything is missed
            return Outcome(heard="", corrected="", intent=None, intent_ok=False,
                           product_ok=None if not command.products else False, picked=None, tp=0, fp=0,
                           fn=len(expected_slots(command)), errors=len(reference), words=len(reference), reply="")
        cart = [CartLine(self.item(name, command.brand if n == 0 else ""), 1) for n, name in enumerate(command.cart)]
        self.session.dialog.state = DialogState(cart=cart)
        turn = self.session.turn(heard, settle=False, heard=not typed, alternatives=alternatives)
        picked_id = picked_product(turn.reply.actions, self.session.dialog.state)
        product = self.products.get(picked_id) if picked_id is not None else None
        product_ok = None if not command.products else (
            product is not None and is_meant(command, product.name, product.brand or ""))
        tp, fp, fn = slot_counts(expected_slots(command), turn.slots)
        return Outcome(heard=heard, corrected=turn.user, intent=turn.intent, intent_ok=turn.intent == command.intent,
                       product_ok=product_ok,
                       picked=None if product is None else f"{product.brand} {product.name}".strip(),
                       tp=tp, fp=fp, fn=fn, errors=edit_distance(reference, normalize(heard)), words=len(reference),
                       reply=turn.reply.text)
