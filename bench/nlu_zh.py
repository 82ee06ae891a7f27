"""The Mandarin rows of `python -m bench nlu`: the nlu-zh bundle measured beside the English one.

Same columns as the English table where they mean the same: intent accuracy / slot F1 on the
generated held-out sets (unseen phrasings, unseen products, both) and on the hand-written
Mandarin set (tests/data/nlu_zh_heldout.jsonl); latency per utterance through the device runtime
(tokenize + run + decode + normalize), p50/p95, one thread; model size. FP32 (the export's anchor,
kept in the work directory) and the shipped INT8 are timed in the same process as the English model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench import summary
from edge.config import RuntimeSettings
from edge.nlu import Understander, load_bundle
from export.bundle import Manifest
from export.nlu_data import read_jsonl
from export.nlu_eval import evaluate
from export.nlu_zh_data import HANDWRITTEN, load_handwritten

BUNDLE = "nlu-zh"


def _e2e_ms(model: Understander, texts: list[str], rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        for text in texts:
            model._last = None  # the cache would answer a repeated text without running the model
            started = time.perf_counter()
            model.understand(text)
            samples.append((time.perf_counter() - started) * 1000)
    return {"p50": statistics.median(samples), "p95": float(np.percentile(samples, 95))}


def zh_rows(args: argparse.Namespace, english: dict[str, Path]) -> None:
    """Print the zh table (and the English shipped model's e2e latency on English text, same process)."""
    bundle_dir = args.models / BUNDLE
    if not (bundle_dir / "manifest.json").is_file():
        print(f"\n[bench nlu] no {BUNDLE} bundle in {args.models}; build it with `python -m export {BUNDLE}`",
              file=sys.stderr)
        return
    bundle = load_bundle(bundle_dir)
    manifest = Manifest.load(bundle_dir)
    heldout = read_jsonl(bundle.path("parity-set"))
    hand = load_handwritten(HANDWRITTEN)
    sets = {"gen:patterns": [e for e in heldout if e.split == "unseen_patterns"],
            "gen:products": [e for e in heldout if e.split == "unseen_products"],
            "gen:both": [e for e in heldout if e.split == "unseen_both"], "gen:all": heldout, "hand": hand}
    variants = {"zh fp32": Path(manifest.extra.get("fp32", {}).get("nlu", "")), "zh int8 shipped": bundle.path("nlu")}
    variants = {name: path for name, path in variants.items() if path.is_file()}
    runtime = RuntimeSettings()
    models = {name: Understander(path, bundle.path("tokenizer"), bundle.labels, runtime, args.threads)
              for name, path in variants.items()}
    rounds = max(1, args.rounds // 5)
    texts = [e.text for e in hand]
    header = (f"{'model':<17}" + "".join(f"{name:>15}" for name in sets) + f"{'e2e p50/p95 ms':>17}{'MB':>7}")
    print(f"\nMandarin NLU ({BUNDLE}): {len(heldout)} generated held-out + {len(hand)} hand-written utterances\n"
          + header + "\n" + "-" * len(header))
    shipped = None
    for name, model in models.items():
        cells = []
        for set_name, examples in sets.items():
            scores = evaluate(model, examples)
            cells.append(f"{scores.intent_accuracy:.3f}/{scores.slot_f1:.3f}")
            if set_name == "gen:all" and name == "zh int8 shipped":
                shipped = scores
        e2e = _e2e_ms(model, texts, rounds)
        print(f"{name:<17}" + "".join(f"{c:>15}" for c in cells)
              + f"{e2e['p50']:>8.2f}/{e2e['p95']:<8.2f}{variants[name].stat().st_size / 1e6:>7.1f}", flush=True)
        if name == "zh int8 shipped":
            summary.add("NLU", "zh e2e latency p50/p95 (INT8)", f"{e2e['p50']:.1f} / {e2e['p95']:.1f} ms", "", "")
    en_path = english.get("int8 shipped")
    if en_path is not None and en_path.is_file():
        en_bundle = load_bundle(en_path.parent)
        en = Understander(en_path, en_bundle.path("tokenizer"), en_bundle.labels, runtime, args.threads)
        en_texts = [e.text for e in read_jsonl(en_bundle.path("parity-set"))[:len(texts)]]
        e2e = _e2e_ms(en, en_texts, rounds)
        print(f"{'en int8 shipped':<17}" + " " * 15 * len(sets)
              + f"{e2e['p50']:>8.2f}/{e2e['p95']:<8.2f}{en_path.stat().st_size / 1e6:>7.1f}  (English text)")
    if shipped is not None:
        summary.add("NLU", "zh generated held-out, intent acc / slot F1 (INT8)",
                    f"{shipped.intent_accuracy:.3f} / {shipped.slot_f1:.3f}", ">= 0.95 / >= 0.90", "")
