"""`python -m export nlu --npu`: the static QDQ INT8 NLU variant, its candidate table, parity, and the
device runtime loading it."""

from __future__ import annotations

from collections import Counter

import onnx
import pytest

from edge.nlu import Understander
from export.bundle import Manifest, verify_files
from export.nlu_eval import evaluate, load_handwritten
from tests.conftest import MODELS_DIR, REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def npu_dir(bundle):
    return bundle("nlu-npu")


@pytest.fixture(scope="module")
def manifest(npu_dir):
    return Manifest.load(npu_dir)


def test_npu_flag_builds_nlu_then_the_npu_variant(npu_dir, cli):
    result = cli("export", "nlu", "--npu", "--out", str(MODELS_DIR), timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[export] nlu:" in result.stderr and "[export] nlu-npu:" in result.stderr


def test_npu_flag_is_refused_for_other_bundles(cli):
    result = cli("export", "tts", "--npu")
    assert result.returncode == 2
    assert "--npu applies to the nlu bundle only" in result.stderr


def test_bundle_is_complete_and_self_contained(npu_dir, manifest):
    assert not verify_files(npu_dir)
    roles = {info["role"] for info in manifest.files.values()}
    assert {"nlu", "tokenizer", "labels", "parity-set"} <= roles
    assert manifest.files["nlu.qdq.onnx"]["role"] == "nlu"


def test_model_is_static_qdq_not_dynamic(npu_dir):
    ops = Counter(node.op_type for node in onnx.load(str(npu_dir / "nlu.qdq.onnx")).graph.node)
    assert ops["QuantizeLinear"] > 0 and ops["DequantizeLinear"] > 0
    for dynamic in ("DynamicQuantizeLinear", "MatMulInteger", "ConvInteger"):
        assert ops[dynamic] == 0, f"{dynamic} is a dynamic-quantization op"
    # No com.microsoft fused ops an NPU compiler would not know.
    model = onnx.load(str(npu_dir / "nlu.qdq.onnx"))
    assert all(node.domain in ("", "ai.onnx") for node in model.graph.node)


def test_manifest_has_the_candidate_table_and_the_choice(manifest):
    table = manifest.extra["candidates"]
    assert len(table) >= 5
    for name, row in table.items():
        for key in ("op_set", "intent_accuracy", "slot_f1", "bytes", "p50_ms_seq16", "points", "quantized_matmuls"):
            assert key in row, f"candidate {name} lacks {key}"
    chosen = manifest.quantization["candidate"]
    assert chosen in table
    assert manifest.quantization["is_static"] is True and manifest.quantization["format"] == "QDQ"
    assert manifest.quantization["per_channel"] is True
    calibration = manifest.quantization["calibration"]
    assert calibration["utterances"] >= 100 and calibration["method"] in ("minmax", "percentile")
    assert manifest.decisions and chosen in manifest.decisions[0]


def test_shipped_variant_keeps_parity_within_one_point(manifest):
    parity = manifest.parity["heldout_generated"]
    assert parity["fp32"]["n"] >= 300
    for metric, delta in parity["qdq_minus_fp32_points"].items():
        assert delta >= -1.0, f"QDQ {metric} is {delta:+.2f} pt vs FP32\n{manifest.decisions[0]}"
    row = manifest.extra["candidates"][manifest.quantization["candidate"]]
    assert row["intent_accuracy"] == parity["qdq"]["intent_accuracy"]
    assert row["quantized_matmuls"] > 0


def test_device_runtime_loads_it_and_matches_dynamic_int8_on_handwritten_set(npu_dir, bundle):
    examples = load_handwritten(REPO / "tests" / "data" / "nlu_heldout.jsonl")
    qdq = Understander.from_bundle(npu_dir)
    assert qdq.model_path.name == "nlu.qdq.onnx"
    dynamic = Understander.from_bundle(bundle("nlu"))
    qdq_scores, dyn_scores = evaluate(qdq, examples), evaluate(dynamic, examples)
    assert abs(qdq_scores.intent_accuracy - dyn_scores.intent_accuracy) <= 0.01, (
        f"QDQ intent {qdq_scores.intent_accuracy:.3f} vs dynamic {dyn_scores.intent_accuracy:.3f}\n"
        + "\n".join(str(e) for e in qdq_scores.errors))
    same = sum(qdq.predict(e.text).intent == dynamic.predict(e.text).intent for e in examples)
    assert same / len(examples) >= 0.97


def test_check_re_measures_the_shipped_variant(npu_dir, cli):
    result = cli("export", "nlu-npu", "--check", "--out", str(MODELS_DIR), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[check] nlu-npu: ok" in result.stderr
