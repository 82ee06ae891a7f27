"""The vad bundle: the right Silero file, checked before anything loads it; --check catches tampering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import silero_vad

from edge.asr.models import AsrError, check_vad_file
from export.vad import check_interface

DATA = Path(silero_vad.__file__).parent / "data"


def test_bundle_manifest_is_complete(bundle):
    path = bundle("vad")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["source"]["package"] == "silero-vad" and manifest["source"]["licence"] == "MIT"
    assert manifest["source"]["version"]
    roles = {info["role"]: name for name, info in manifest["files"].items()}
    assert roles == {"model": "silero_vad.onnx", "model_sequence": "silero_vad_16k_sequence.onnx"}
    for name, info in manifest["files"].items():
        assert len(info["sha256"]) == 64 and info["bytes"] == (path / name).stat().st_size
    name = roles["model"]
    # parity: sherpa's detector found one segment per spoken sentence on the parity audio, and the device's
    # sequence file gives the single-window file's probabilities
    assert manifest["parity"]["segments"] == manifest["parity"]["sentences"] == 3
    assert manifest["parity"]["sequence_max_prob_diff"] <= 1e-5
    assert manifest["tools"]["sherpa-onnx"] and manifest["created"]
    assert check_interface(path / name) == []


@pytest.mark.parametrize("wrong", ["silero_vad_half.onnx", "silero_vad_16k_sequence.onnx",
                                   "silero_vad_op18_ifless.onnx"])
def test_wrong_silero_files_are_refused_before_sherpa_sees_them(wrong, tmp_path):
    # sherpa would exit(-1) on these; both the exporter and the device must refuse them first
    assert check_interface(DATA / wrong)
    with pytest.raises(AsrError, match="sherpa-onnx's Silero VAD needs"):
        check_vad_file(DATA / wrong)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    assert "not a readable ONNX file" in check_interface(junk)[0]
    with pytest.raises(AsrError, match="cannot load"):
        check_vad_file(junk)


def test_check_passes_then_catches_a_modified_file(bundle, cli, tmp_path):
    shutil.copytree(bundle("vad"), tmp_path / "vad")
    ok = cli("export", "vad", "--check", "--out", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    model = tmp_path / "vad" / "silero_vad.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    drift = cli("export", "vad", "--check", "--out", str(tmp_path))
    assert drift.returncode == 1
    assert "sha256 differs" in drift.stderr and "DRIFT" in drift.stderr
