"""Bundle manifests name the machine they were built and measured on."""

from __future__ import annotations

import json
import platform

from export.bundle import Manifest, build_machine, write_manifest


def test_manifest_records_the_build_cpu(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"weights")
    manifest = Manifest(bundle="demo", source={"package": "x"}, source_key="k")
    write_manifest(tmp_path, manifest, {"model.onnx": "model"})
    built_on = json.loads((tmp_path / "manifest.json").read_text())["built_on"]
    assert built_on == build_machine()
    assert built_on["machine"] == platform.machine() and built_on["cores"] >= 1
    # onnxruntime picks its INT8 kernels by these; an x86-64 build machine has at least AVX2 here
    if platform.machine() == "x86_64":
        assert "avx2" in built_on["isa"]
    assert Manifest.load(tmp_path).built_on == built_on  # and it loads back


def test_an_older_manifest_without_the_field_still_loads(tmp_path):
    manifest = Manifest(bundle="demo", source={}, source_key="k")
    data = json.loads(manifest.to_json())
    del data["built_on"]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    assert Manifest.load(tmp_path).built_on == {}
