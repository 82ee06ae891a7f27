"""`python -m bench nlu`: NLU accuracy on what the model never saw, FP32 vs INT8, and its speed.

Rows: the FP32 export (the anchor), plain INT8, O2-fused INT8 (whichever of the two the
exporter did not ship is shown too), and the shipped INT8 file. Columns: intent accuracy and
slot F1 on the generated held-out sets (unseen phrasings, unseen products, both) and on the
hand-written set in tests/data; single-thread latency per utterance at sequence length 16 and
at the hand-written set's median length (model only), end to end through the device runtime
(tokenize + run + decode + normalize); file size. All variants are timed in this process, in
interleaved rounds, so ratios hold on a busy machine even when absolute times drift.
The Mandarin bundle (nlu-zh), when built, gets its own rows after the English ones (bench/nlu_zh.py).
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
from edge.nlu import Embedder, Understander, load_bundle
from export.bundle import DEFAULT_OUT, Manifest
from export.nlu_data import read_jsonl
from export.nlu_eval import embedding_cosines, evaluate, latencies_ms, load_handwritten

REPO = Path(__file__).resolve().parents[1]
HANDWRITTEN = REPO / "tests" / "data" / "nlu_heldout.jsonl"


def _variants(bundle_dir: Path, manifest: Manifest) -> dict[str, Path]:
    work = bundle_dir.parent / ".nlu-work"
    found = {"fp32": Path(manifest.extra.get("fp32", {}).get("nlu", "")),
             "int8 plain": work / "joint-int8" / "model_quantized.onnx",
             "int8 O2-fused": work / "joint-int8" / "model_optimized_quantized.onnx",
             "int8 shipped": bundle_dir / "nlu.int8.onnx"}
    missing = [name for name, path in found.items() if not path.is_file()]
    for name in missing:
        print(f"[bench nlu] {name}: not found ({found[name]}); rebuild with `python -m export nlu --force`",
              file=sys.stderr)
    return {name: path for name, path in found.items() if name not in missing}


def _e2e_ms(model: Understander, texts: list[str], rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            model.understand(text)
            samples.append((time.perf_counter() - started) * 1000)
    return {"p50": statistics.median(samples), "p95": float(np.percentile(samples, 95))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench nlu", description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=DEFAULT_OUT, help="bundle directory")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (default 1)")
    parser.add_argument("--rounds", type=int, default=10, help="timing rounds (more: steadier numbers)")
    args = parser.parse_args(argv)
    bundle_dir = args.models / "nlu"
    bundle = load_bundle(bundle_dir)
    manifest = Manifest.load(bundle_dir)
    variants = _variants(bundle_dir, manifest)
    heldout = read_jsonl(bundle.path("parity-set"))
    hand = load_handwritten(HANDWRITTEN)
    sets = {"gen:patterns": [e for e in heldout if e.split == "unseen_patterns"],
            "gen:products": [e for e in heldout if e.split == "unseen_products"],
            "gen:both": [e for e in heldout if e.split == "unseen_both"],
            "gen:all": heldout, "hand": hand,
            "hand:unseen-prod": [e for e in hand if e.split == "unseen_product"]}
    runtime = RuntimeSettings()
    tokenizer = bundle.path("tokenizer")
    models = {name: Understander(path, tokenizer, bundle.labels, runtime, args.threads)
              for name, path in variants.items()}
    typical = int(statistics.median(len(models["int8 shipped"].tokenizer.encode(e.text).ids) for e in hand))
    print(f"NLU benchmark: {len(heldout)} generated held-out + {len(hand)} hand-written utterances, "
          f"{args.threads} thread(s); latency = batch 1", flush=True)
    seq16 = latencies_ms(variants, seq_len=16, rounds=args.rounds, threads=args.threads)
    seqn = latencies_ms(variants, seq_len=typical, rounds=args.rounds, threads=args.threads)
    texts = [e.text for e in hand]
    header = (f"{'model':<15}" + "".join(f"{name:>18}" for name in sets)
              + f"{'seq16 p50/p95 ms':>18}{f'seq{typical} p50/p95':>18}{'e2e p50/p95 ms':>17}{'MB':>7}")
    print("\nintent accuracy / slot F1 per set, latency single utterance\n" + header)
    print("-" * len(header))
    hand_scores = {}
    for name, model in models.items():
        cells = []
        for set_name, examples in sets.items():
            scores = evaluate(model, examples)
            cells.append(f"{scores.intent_accuracy:.3f}/{scores.slot_f1:.3f}")
            if set_name == "hand":
                hand_scores[name] = scores
        e2e = _e2e_ms(model, texts, max(1, args.rounds // 5))
        size = variants[name].stat().st_size / 1e6
        print(f"{name:<15}" + "".join(f"{c:>18}" for c in cells)
              + f"{seq16[name]['p50']:>9.2f}/{seq16[name]['p95']:<8.2f}{seqn[name]['p50']:>9.2f}/"
              f"{seqn[name]['p95']:<8.2f}{e2e['p50']:>8.2f}/{e2e['p95']:<8.2f}{size:>7.1f}", flush=True)
    if "fp32" in seq16:
        print(f"\nspeed-up of shipped INT8 over FP32 (anchor, same process): seq16 "
              f"{seq16['fp32']['p50'] / seq16['int8 shipped']['p50']:.2f}x, seq{typical} "
              f"{seqn['fp32']['p50'] / seqn['int8 shipped']['p50']:.2f}x")
    shipped = hand_scores["int8 shipped"]
    if "fp32" in seq16:
        summary.add("NLU", "INT8 latency, seq 16, p50", f"{seq16['int8 shipped']['p50']:.1f} ms "
                    f"({seq16['fp32']['p50'] / seq16['int8 shipped']['p50']:.2f}x faster)", "INT8 faster",
                    f"FP32 {seq16['fp32']['p50']:.1f} ms")
        summary.add("NLU", "size INT8", f"{variants['int8 shipped'].stat().st_size / 1e6:.1f} MB", "",
                    f"FP32 {variants['fp32'].stat().st_size / 1e6:.1f} MB")
    summary.add("NLU", "hand-written held-out, intent acc / slot F1 (INT8)",
                f"{shipped.intent_accuracy:.3f} / {shipped.slot_f1:.3f}", ">= 0.95 / >= 0.90",
                " / ".join(f"{n} {s.intent_accuracy:.3f}/{s.slot_f1:.3f}" for n, s in hand_scores.items()
                           if n != "int8 shipped"))
    print(f"hand-written set, shipped INT8: intent {shipped.intent_accuracy:.3f} (goal >= 0.95), slot F1 "
          f"{shipped.slot_f1:.3f} (goal >= 0.90), slot value accuracy {shipped.value_accuracy:.3f}")
    _bench_encoder(bundle_dir, bundle, manifest, args)
    from bench.nlu_zh import zh_rows

    zh_rows(args, variants)
    return 0


def _bench_encoder(bundle_dir: Path, bundle, manifest: Manifest, args: argparse.Namespace) -> None:
    ref = np.load(bundle.path("parity-embeddings"))
    sentences = [str(s) for s in ref["sentences"]]
    runtime = RuntimeSettings()
    encoders = {"int8 shipped": bundle.path("encoder")}
    fp32 = Path(manifest.extra.get("fp32", {}).get("encoder", ""))
    if fp32.is_file():
        encoders = {"fp32": fp32, **encoders}
    print(f"\nsentence encoder ({len(sentences)} product names and questions)")
    print(f"{'model':<15}{'cos to FP32 mean/min':>22}{'items/s (batch 32)':>20}{'query ms p50':>14}{'MB':>7}")
    for name, path in encoders.items():
        embedder = Embedder(path, bundle.path("tokenizer"), runtime, args.threads)
        started = time.perf_counter()
        vectors = embedder.encode(sentences)
        rate = len(sentences) / (time.perf_counter() - started)
        cos = embedding_cosines(ref["fp32"], vectors)
        query = []
        for text in sentences[:50]:
            t0 = time.perf_counter()
            embedder.encode_one(text)
            query.append((time.perf_counter() - t0) * 1000)
        print(f"{name:<15}{cos['mean']:>14.4f}/{cos['min']:<7.4f}{rate:>20.0f}{statistics.median(query):>14.2f}"
              f"{path.stat().st_size / 1e6:>7.1f}")
    print(f"\n(exporter decisions: {'; '.join(manifest.decisions)})")


if __name__ == "__main__":
    raise SystemExit(main())
