"""`python -m export nlu --npu` (bundle "nlu-npu"): a static, QDQ-format INT8 joint NLU model for NPUs.

NPU toolchains (QNN, RKNN, NNAPI, Ethos) want every quantized tensor's scale fixed ahead of time
in QuantizeLinear/DequantizeLinear pairs, not the per-batch activation ranges of the shipped
dynamic model. So: take the FP32 joint graph the nlu exporter left in `<out>/.nlu-work` (plain
ONNX ops, no com.microsoft fusions an NPU would not know), calibrate activation ranges on a few
hundred *training* utterances from the generator through Optimum's ORTQuantizer (a hand-built
`CalibrationConfig` and a plain list of inputs: the documented path needs `datasets` and the hub),
then quantize several op sets with per-channel symmetric INT8 weights and score each on held-out
utterances with the same device-runtime evaluation the nlu exporter uses. The cheapest set within
`PARITY_POINTS` of FP32 on both intent accuracy and slot F1 ships as `nlu.qdq.onnx`; the whole
candidate table, the calibration settings and the reason go into this bundle's manifest.

The bundle is self-contained (model, tokenizer, labels) so `Understander.from_bundle` loads it.
"""

from __future__ import annotations

import importlib.metadata
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import onnx

from edge.config import RuntimeSettings
from edge.nlu.bundle import load_tokenizer
from edge.nlu.understand import Understander
from export.bundle import Manifest, sha256_file, tool_versions
from export.bundle import source_key as hash_parts
from export.nlu_data import Example, build_splits, read_jsonl, write_jsonl
from export.nlu_eval import evaluate, latencies_ms

BUNDLE = "nlu-npu"
PARITY_POINTS = 0.01
"""The shipped QDQ model must stay within 1 point of FP32 on intent accuracy and slot F1."""
DRIFT = 0.002
"""`--check` tolerance between re-measured and recorded figures."""
CALIBRATION_SIZE = 300
"""Training utterances whose activations set the static ranges."""
EVAL_EVERY = 2
"""Score candidates on every EVAL_EVERY-th held-out utterance of the nlu bundle (~420 of 841)."""
PERCENTILE = 99.99
"""Percentile calibration keeps this share of each activation's histogram inside the range."""

_CALIBRATED_OPS = {"minmax": ("MatMul", "Add", "Gather", "Gemm", "LayerNormalization", "Softmax", "Reshape",
                              "Transpose", "Where", "Slice", "Unsqueeze"),
                   "percentile": ("MatMul", "Gemm", "Gather")}
"""Op types whose tensors get ranges, per method: a superset of its candidates' op sets. Histogram
methods cannot bin an all-zero tensor (the attention-mask term is one, with no padding), so
percentile calibration covers the MatMul(+Gather) candidates."""

_HERE = Path(__file__).resolve().parent
_CODE = [_HERE / "nlu_npu.py", _HERE / "nlu_eval.py", _HERE.parent / "edge" / "nlu" / "understand.py"]


@dataclass(frozen=True)
class Candidate:
    """One op set: which op types get QDQ, which nodes stay FP32, which calibration method."""

    name: str
    operators: tuple[str, ...] | None
    """None = Optimum's default static op set."""
    exclude: str = "none"
    """Named node filter (see `_excluded`)."""
    method: str = "minmax"

    def describe(self) -> str:
        ops = "optimum default static set" if self.operators is None else "+".join(self.operators)
        return f"{ops}; excluded: {self.exclude}; calibration: {self.method}"


CANDIDATES = (
    Candidate("default", None),
    Candidate("matmul", ("MatMul",)),
    Candidate("matmul_add", ("MatMul", "Add")),
    Candidate("matmul_gather", ("MatMul", "Gather")),
    Candidate("matmul_weights", ("MatMul",), "activation-activation MatMuls"),
    Candidate("matmul_weights_no_ffn_out", ("MatMul",), "activation-activation MatMuls, FFN output dense"),
    Candidate("matmul_weights_no_edges", ("MatMul",), "activation-activation MatMuls, layer 0, layer 5, heads"),
    Candidate("matmul_pct", ("MatMul",), method="percentile"),
    Candidate("matmul_weights_pct", ("MatMul",), "activation-activation MatMuls", "percentile"),
    Candidate("matmul_weights_no_ffn_out_pct", ("MatMul",), "activation-activation MatMuls, FFN output dense",
              "percentile"),
    Candidate("matmul_gather_no_ffn_out", ("MatMul", "Gather"), "activation-activation MatMuls, FFN output dense"),
    Candidate("matmul_gather_no_ffn_out_pct", ("MatMul", "Gather"), "activation-activation MatMuls, FFN output dense",
              "percentile"),
)
"""Ordered roughly from most to least quantized: the first that keeps parity is not always cheapest,
so the choice ranks passing candidates by quantized-MatMul count, then size."""


def _nlu_dir(out: Path) -> Path:
    return out / "nlu"


def source_key() -> str:
    from export.bundle import DEFAULT_OUT

    nlu_manifest = _nlu_dir(DEFAULT_OUT) / "manifest.json"
    nlu_key = json.loads(nlu_manifest.read_text()).get("source_key", "") if nlu_manifest.is_file() else "missing"
    versions = [f"{n}={importlib.metadata.version(n)}" for n in ("optimum", "optimum-onnx", "onnxruntime", "onnx")]
    return hash_parts(BUNDLE, nlu_key, repr(CANDIDATES), CALIBRATION_SIZE, EVAL_EVERY, PERCENTILE,
                      PARITY_POINTS, *versions, *_CODE)


def _feeds(tokenizer, examples: list[Example]) -> list[dict]:
    """Model inputs per utterance (batch 1, real length): what the device feeds at run time."""
    import numpy as np

    rows = []
    for ex in examples:
        ids = np.asarray(tokenizer.encode(ex.text).ids, dtype=np.int64)
        rows.append({"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)})
    return rows


def _calibration_config(method: str):
    """A hand-built CalibrationConfig: Optimum's Auto* helpers read a `datasets.Dataset`'s info."""
    from onnxruntime.quantization import CalibrationMethod
    from optimum.onnxruntime.configuration import CalibrationConfig

    common = {"dataset_name": "voiceshop-generated-train", "dataset_config_name": "nlu_data.build_splits(seed=13)",
              "dataset_split": "train", "dataset_num_samples": CALIBRATION_SIZE}
    if method == "minmax":
        return CalibrationConfig(**common, method=CalibrationMethod.MinMax, moving_average=False)
    return CalibrationConfig(**common, method=CalibrationMethod.Percentile, num_bins=2048, percentile=PERCENTILE)


def _calibrate(fp32: Path, work: Path, rows: list[dict], method: str):
    """Activation ranges for every tensor, collected once per method and shared by all op sets.

    onnxruntime's histogram calibrators stack each batch's outputs into one array, so utterances
    of different lengths cannot share a pass; we feed one pass per length (no padding: the
    device never pads) into the same calibrator through ORTQuantizer.partial_fit.
    """
    from optimum.onnxruntime import ORTQuantizer

    quantizer = ORTQuantizer.from_pretrained(fp32.parent, file_name=fp32.name)
    config = _calibration_config(method)
    by_length: dict[int, list[dict]] = {}
    for row in rows:
        by_length.setdefault(len(row["input_ids"]), []).append(row)
    started = time.monotonic()
    for length in sorted(by_length):
        quantizer.partial_fit(dataset=by_length[length], calibration_config=config,
                              onnx_augmented_model_name=str(work / f"augmented-{method}.onnx"),
                              operators_to_quantize=list(_CALIBRATED_OPS[method]))
        config = replace(config, method=None)  # later passes add to the same calibrator
    ranges = quantizer.compute_ranges()
    print(f"[export] {BUNDLE}: {method} calibration on {len(rows)} utterances ({len(by_length)} lengths) in "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr)
    return ranges


def _excluded(graph: onnx.GraphProto, rule: str) -> list[str]:
    """Node names to keep in FP32 for a named rule (a comma-separated list of the parts below)."""
    weights = {init.name for init in graph.initializer}

    def keep_fp32(node: onnx.NodeProto) -> bool:
        name = node.name
        act_act = not any(i in weights for i in node.input)
        ffn_out = "/output/dense/" in name and "attention" not in name
        edge = "layer.0/" in name or "layer.5/" in name or "_head" in name
        return (("activation-activation" in rule and act_act) or ("FFN output" in rule and ffn_out)
                or ("layer 0, layer 5" in rule and edge))

    return [node.name for node in graph.node if node.op_type == "MatMul" and keep_fp32(node)]


def _quantize(fp32: Path, out_dir: Path, candidate: Candidate, ranges: dict, graph: onnx.GraphProto) -> Path:
    """QDQ static INT8 (weights per channel, symmetric QInt8; activations QUInt8) of one op set."""
    from optimum.onnxruntime import ORTQuantizer
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    config = AutoQuantizationConfig.arm64(is_static=True, per_channel=True,
                                          operators_to_quantize=list(candidate.operators) if candidate.operators
                                          else None,
                                          nodes_to_exclude=_excluded(graph, candidate.exclude))
    quantizer = ORTQuantizer.from_pretrained(fp32.parent, file_name=fp32.name)
    quantizer.quantize(config, save_dir=out_dir / candidate.name, file_suffix="qdq",
                       calibration_tensors_range=ranges)
    return out_dir / candidate.name / f"{fp32.stem}_qdq.onnx"


def qdq_facts(path: Path) -> dict[str, int]:
    """Op counts that say what kind of INT8 a graph is (QDQ pairs vs dynamic-quant ops)."""
    model = onnx.load(str(path))
    count = {op: 0 for op in ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger",
                              "QLinearMatMul")}
    for node in model.graph.node:
        if node.op_type in count:
            count[node.op_type] += 1
    producers = {o: n for n in model.graph.node for o in n.output}
    quantized = 0
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Gemm") and all(
                i in producers and producers[i].op_type == "DequantizeLinear" for i in node.input[:2]):
            quantized += 1
    count["quantized_matmuls"] = quantized
    return count


def _scores(model: Path, tokenizer: Path, labels: dict, examples: list[Example]) -> dict:
    return evaluate(Understander(model, tokenizer, labels, RuntimeSettings(), threads=1), examples).summary()


def _ensure_nlu(out: Path) -> Path:
    """The nlu bundle must exist (its FP32 graph, tokenizer and held-out set are our inputs)."""
    from export.cli import build_one

    return build_one("nlu", out, force=False)


def build(staging: Path) -> tuple[Manifest, dict[str, str]]:
    out = staging.parent
    nlu_dir = _ensure_nlu(out)
    nlu = Manifest.load(nlu_dir)
    fp32 = Path(nlu.extra["fp32"]["nlu"])
    if not fp32.is_file() or sha256_file(fp32) != nlu.extra["fp32"]["nlu_sha256"]:
        raise RuntimeError(f"FP32 joint graph {fp32} is missing or not the one the nlu bundle was built from; "
                           f"rebuild it with `python -m export nlu --force`")
    work = out / ".nlu-work" / "npu"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("tokenizer.json", "labels.json"):
        shutil.copy(nlu_dir / name, staging / name)
    labels = json.loads((staging / "labels.json").read_text())
    tokenizer_path = staging / "tokenizer.json"
    tokenizer = load_tokenizer(tokenizer_path, int(labels["max_len"]))

    calibration = random.Random(7).sample(build_splits()["train"], CALIBRATION_SIZE)
    heldout = read_jsonl(nlu_dir / "parity" / "heldout.jsonl")[::EVAL_EVERY]
    (staging / "parity").mkdir()
    write_jsonl(staging / "parity" / "heldout.jsonl", heldout)
    rows = _feeds(tokenizer, calibration)
    ranges = {method: _calibrate(fp32, work, rows, method)
              for method in sorted({c.method for c in CANDIDATES})}
    graph = onnx.load(str(fp32), load_external_data=False).graph

    paths = {"fp32": fp32, "dynamic_int8": nlu_dir / "nlu.int8.onnx"}
    table: dict[str, dict] = {}
    for candidate in CANDIDATES:
        started = time.monotonic()
        paths[candidate.name] = _quantize(fp32, work, candidate, ranges[candidate.method], graph)
        table[candidate.name] = {"op_set": candidate.describe(), "quantize_seconds":
                                 round(time.monotonic() - started, 1)}
    scores = {name: _scores(path, tokenizer_path, labels, heldout) for name, path in paths.items()}
    latency = latencies_ms(paths, seq_len=16, rounds=5, per_round=10)
    for name, row in table.items():
        row.update({**scores[name], **qdq_facts(paths[name]), "bytes": paths[name].stat().st_size,
                    "p50_ms_seq16": round(latency[name]["p50"], 3),
                    **_delta(scores[name], scores["fp32"])})
    chosen, reason = choose(table)
    shutil.copy(paths[chosen], staging / "nlu.qdq.onnx")
    shutil.rmtree(work, ignore_errors=True)  # ~0.6 GB of candidates; the table keeps what they measured
    print(f"[export] {BUNDLE}: {reason}", file=sys.stderr)
    pick = next(c for c in CANDIDATES if c.name == chosen)
    manifest = Manifest(
        bundle=BUNDLE,
        source={**nlu.source, "derived_from": f"nlu bundle (source_key {nlu.source_key}), FP32 joint graph "
                                              f"sha256 {nlu.extra['fp32']['nlu_sha256']}"},
        source_key="",
        quantization={"tool": "optimum ORTQuantizer (static, QDQ format)", "config": "AutoQuantizationConfig.arm64",
                      "is_static": True, "format": "QDQ", "per_channel": True, "weights": "QInt8 symmetric",
                      "activations": "QUInt8 asymmetric, calibrated", "op_set": pick.describe(),
                      "candidate": chosen, "nodes_excluded": _excluded(graph, pick.exclude),
                      "calibration": {"method": pick.method, "utterances": CALIBRATION_SIZE,
                                      "source": "export.nlu_data.build_splits(seed=13)['train'], "
                                                "random.Random(7).sample", "batch": 1,
                                      "percentile": PERCENTILE if pick.method == "percentile" else None,
                                      "num_bins": 2048 if pick.method == "percentile" else None}},
        parity={"heldout_generated": {"fp32": scores["fp32"], "qdq": scores[chosen],
                                      "dynamic_int8": scores["dynamic_int8"],
                                      "qdq_minus_fp32_points": _delta(scores[chosen], scores["fp32"])["points"],
                                      "limit_points": PARITY_POINTS * 100}},
        decisions=[reason, "candidates differing by under ~1 pt are within the sampling noise of "
                           f"{len(heldout)} utterances (e.g. matmul vs matmul_gather differ only in the embedding "
                           "table); see the table before trusting a small margin",
                   "FP32 source is the un-fused graph: O2 fusion emits com.microsoft Attention/"
                           "SkipLayerNormalization that NPU compilers do not take",
                   "latency is onnxruntime CPU (QDQ on x86 runs as float around Q/DQ pairs or QLinear fusions); "
                   "it is not NPU speed"],
        tools=tool_versions(["optimum", "optimum-onnx"]),
        extra={"candidates": table, "dynamic_int8": {"file": "nlu/nlu.int8.onnx",
                                                     "sha256": sha256_file(paths["dynamic_int8"]),
                                                     **scores["dynamic_int8"],
                                                     "p50_ms_seq16": round(latency["dynamic_int8"]["p50"], 3)},
               "fp32": {"p50_ms_seq16": round(latency["fp32"]["p50"], 3), "bytes": fp32.stat().st_size},
               "labels": labels},
    )
    roles = {"nlu.qdq.onnx": "nlu", "tokenizer.json": "tokenizer", "labels.json": "labels",
             "parity/heldout.jsonl": "parity-set"}
    return manifest, roles


def _delta(scores: dict, fp32: dict) -> dict:
    return {"points": {m: round((scores[m] - fp32[m]) * 100, 2) for m in ("intent_accuracy", "slot_f1")}}


def choose(table: dict[str, dict]) -> tuple[str, str]:
    """Cheapest passing op set: most MatMuls in INT8 (what the NPU runs), then smallest file.

    If none keeps parity, ship the closest one and say so: the manifest's table shows the gap.
    """
    def passes(row: dict) -> bool:
        return all(-row["points"][m] <= PARITY_POINTS * 100 for m in ("intent_accuracy", "slot_f1"))

    passing = [name for name, row in table.items() if passes(row)]
    if passing:
        best = max(passing, key=lambda n: (table[n]["quantized_matmuls"], -table[n]["bytes"]))
        row = table[best]
        return best, (f"ship {best} ({row['op_set']}): {row['quantized_matmuls']} MatMul/Gemm in INT8, "
                      f"intent {row['points']['intent_accuracy']:+.2f} pt, slot F1 {row['points']['slot_f1']:+.2f} pt "
                      f"vs FP32; the most-quantized of {len(passing)} of {len(table)} op sets within "
                      f"{PARITY_POINTS * 100:.0f} pt")
    best = min(table, key=lambda n: -min(table[n]["points"].values()))
    return best, (f"NO op set kept parity within {PARITY_POINTS * 100:.0f} pt; shipping the closest, {best} "
                  f"(intent {table[best]['points']['intent_accuracy']:+.2f} pt, slot F1 "
                  f"{table[best]['points']['slot_f1']:+.2f} pt)")


def check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]:
    """Re-score the shipped QDQ file on the recorded held-out subset."""
    labels = json.loads((bundle_dir / "labels.json").read_text())
    heldout = read_jsonl(bundle_dir / "parity" / "heldout.jsonl")
    now = _scores(bundle_dir / "nlu.qdq.onnx", bundle_dir / "tokenizer.json", labels, heldout)
    recorded = manifest.parity["heldout_generated"]
    problems = []
    for metric in ("intent_accuracy", "slot_f1"):
        if abs(now[metric] - recorded["qdq"][metric]) > DRIFT:
            problems.append(f"QDQ {metric} now {now[metric]:.4f}, manifest says {recorded['qdq'][metric]:.4f}")
    facts = qdq_facts(bundle_dir / "nlu.qdq.onnx")
    if not facts["QuantizeLinear"] or facts["DynamicQuantizeLinear"] or facts["MatMulInteger"]:
        problems.append(f"nlu.qdq.onnx is not a static QDQ graph: {facts}")
    return problems
