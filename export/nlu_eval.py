"""Measure an NLU model the way the device runs it: intent accuracy, slot span F1, value accuracy.

Evaluation goes through the device runtime (`edge.nlu.Understander`), one utterance at a time,
so the figures in the manifest, the benchmark and the tests describe what the device does,
tokenization and BIO decoding included. Slot F1 is exact-span, exact-label (conlleval style).
No torch here: tests and the benchmark import this without the training stack.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.nlu.normalize import normalize_slot
from edge.nlu.understand import Understander
from export.nlu_data import Example


@dataclass
class Scores:
    """Figures for one model on one set of utterances."""

    n: int = 0
    intent_correct: int = 0
    slot_tp: int = 0
    slot_pred: int = 0
    slot_gold: int = 0
    value_correct: int = 0
    errors: list[dict] = field(default_factory=list)
    per_slot: Counter = field(default_factory=Counter)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.n if self.n else 0.0

    @property
    def slot_f1(self) -> float:
        precision = self.slot_tp / self.slot_pred if self.slot_pred else 1.0
        recall = self.slot_tp / self.slot_gold if self.slot_gold else 1.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    @property
    def value_accuracy(self) -> float:
        """Share of gold slots whose normalized value the device returned exactly."""
        return self.value_correct / self.slot_gold if self.slot_gold else 1.0

    def summary(self) -> dict[str, float | int]:
        return {"n": self.n, "intent_accuracy": round(self.intent_accuracy, 4), "slot_f1": round(self.slot_f1, 4),
                "slot_value_accuracy": round(self.value_accuracy, 4)}


def evaluate(model: Understander, examples: Iterable[Example], keep_errors: int = 50) -> Scores:
    scores = Scores()
    # The model's own language decides what a slot's words are worth (zh: 两 -> 2, 三十九元 -> 39).
    normalizer = getattr(getattr(model, "normalizer", None), "normalize_slot", normalize_slot)
    for ex in examples:
        prediction = model.predict(ex.text)
        understanding = model.understand(ex.text)
        scores.n += 1
        scores.intent_correct += prediction.intent == ex.intent
        gold, pred = set(ex.spans), set(prediction.spans)
        scores.slot_tp += len(gold & pred)
        scores.slot_gold += len(gold)
        scores.slot_pred += len(pred)
        for start, end, slot in gold:
            hit = (start, end, slot) in pred
            scores.per_slot[(slot, "tp" if hit else "fn")] += 1
            expected = normalizer(slot, ex.text[start:end])
            scores.value_correct += expected is not None and understanding.slots.get(slot) == expected
        for span in pred - gold:
            scores.per_slot[(span[2], "fp")] += 1
        if (prediction.intent != ex.intent or gold != pred) and len(scores.errors) < keep_errors:
            scores.errors.append({
                "text": ex.text, "intent": ex.intent, "predicted": prediction.intent,
                "gold_slots": {s: ex.text[a:b] for a, b, s in sorted(gold)},
                "predicted_slots": {s: ex.text[a:b] for a, b, s in sorted(pred)},
            })
    return scores


def per_slot_f1(scores: Scores) -> dict[str, float]:
    out = {}
    for slot in sorted({slot for slot, _kind in scores.per_slot}):
        tp, fp, fn = (scores.per_slot[(slot, k)] for k in ("tp", "fp", "fn"))
        out[slot] = round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else 1.0
    return out


def load_handwritten(path: Path) -> list[Example]:
    """The hand-written held-out set: {"text", "intent", "slots": {slot: words as they appear}}.

    Slot words are located in the text (whole words, first occurrence after the previous slot
    where possible), so the file stays easy to write and review by hand; a slot that cannot be
    found is an error in the file and raises.
    """
    examples = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        text, spans = data["text"], []
        for slot, words in data.get("slots", {}).items():
            match = re.search(rf"(?<![\w$]){re.escape(words)}(?!\w)", text)
            if match is None:
                raise ValueError(f"{path}:{number}: slot {slot}={words!r} not found in {text!r}")
            spans.append((match.start(), match.end(), slot))
        examples.append(Example(text, data["intent"], tuple(sorted(spans)), "hand", data.get("tag", "hand")))
    return examples


def embedding_cosines(reference: np.ndarray, vectors: np.ndarray) -> dict[str, float]:
    """Row-wise cosine between two sets of (already normalized) vectors: mean and worst."""
    ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    vec = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = (ref * vec).sum(1)
    return {"mean": round(float(cos.mean()), 4), "min": round(float(cos.min()), 4)}


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def latencies_ms(paths: dict[str, Path], seq_len: int = 16, rounds: int = 15, per_round: int = 20,
                 threads: int = 1) -> dict[str, dict[str, float]]:
    """Batch-1 latency of each model at seq_len tokens: p50/p95 over interleaved rounds.

    Models take turns round by round, so load from other work on a shared machine hits every
    candidate alike and the ratio between them stays meaningful.
    """
    sessions = {name: _session(path, threads) for name, path in paths.items()}
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 29000, size=(1, seq_len), dtype=np.int64)
    ids[0, 0], ids[0, -1] = 101, 102
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    samples: dict[str, list[float]] = {name: [] for name in sessions}
    for session in sessions.values():
        for _ in range(5):
            session.run(None, feeds)
    for _ in range(rounds):
        for name, session in sessions.items():
            for _ in range(per_round):
                started = time.perf_counter()
                session.run(None, feeds)
                samples[name].append((time.perf_counter() - started) * 1000)
    return {name: {"p50": statistics.median(values), "p95": float(np.percentile(values, 95))}
            for name, values in samples.items()}
