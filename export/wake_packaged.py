"""`python -m export wake-packaged`: the ready wake-word models of ovos-ww-plugin-wakeforge 0.3.0.

The wheel (Apache-2.0, installed `--no-deps`: its declared dependencies are the OVOS plugin manager
and the Hugging Face hub client, none needed to read the files) ships the WakeHuBERT-tiny
featurizer and four window heads. They are copied unchanged with the wheel's LICENSE and NOTICE
files; the manifest records each head's wake word, calibrated threshold (its ONNX
`default_threshold`, or the wheel's own table for alexa.onnx, which has none) and training data,
so `[wake] model` can choose one and `python -m bench wake` can run every one beside our head.
Parity: an espeak-ng rendering of each phrase and the scores the streaming scorer gave it.
openWakeWord's own pre-trained models are CC BY-NC-SA and are deliberately not offered.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.wake.detector import WakeDetector
from edge.wake.packaged import load_packaged
from export.bundle import Manifest, package_version, sha256_file, tool_versions
from export.bundle import source_key as hash_parts
from export.wake_data import synth_espeak, trim

PACKAGE = "ovos-ww-plugin-wakeforge"
VERSION = "0.3.0"
FEATURIZER = "featurizers/wakehubert-tiny/wakehubert.onnx"
MODELS = ("hey_mycroft", "hey_mycroft_synthetic", "alexa", "wake_up")
WHEEL_THRESHOLDS = {"alexa": 0.99, "hey_mycroft": 0.965, "hey_mycroft_synthetic": 0.998, "wake_up": 0.990}
"""The wheel's BUNDLED_MODELS table (used only where a head's metadata has no default_threshold)."""
PARITY_TOLERANCE = 1e-4


def package_dir() -> Path:
    """The installed wheel's folder, found without importing it (its __init__ needs the plugin manager)."""
    spec = importlib.util.find_spec("ovos_ww_plugin_wakeforge")
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{PACKAGE} is not installed (pip install --no-deps {PACKAGE}=={VERSION})")
    return Path(spec.origin).parent


def source_key() -> str:
    root = package_dir()
    return hash_parts(package_version(PACKAGE), *(sha256_file(root / "models" / f"{m}.onnx") for m in MODELS),
                      sha256_file(root / FEATURIZER), Path(__file__),
                      Path(__file__).parents[1] / "edge" / "wake" / "packaged.py")


def _licence_file() -> Path:
    dist = next(package_dir().parent.glob("ovos_ww_plugin_wakeforge-*.dist-info"), None)
    path = dist / "licenses" / "LICENSE" if dist else None
    if path is None or not path.is_file():
        raise RuntimeError(f"{PACKAGE}'s LICENSE not found in its dist-info")
    return path


def _parity_audio(phrase: str) -> np.ndarray:
    """0.6 s of quiet, the phrase (espeak-ng en-us), 1 s of quiet: enough steps to see it fire."""
    spoken = trim(synth_espeak(phrase, "en-us", "m3", 150, 50))
    quiet = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.002
    return np.concatenate([quiet[:9600], spoken * 0.5 / (np.abs(spoken).max() + 1e-9), quiet]).astype(np.float32)


def build(staging: Path) -> tuple[Manifest, dict[str, str]]:
    root = package_dir()
    roles = {"wakehubert.onnx": "featurizer", "LICENSE.wakeforge": "licence",
             "NOTICE.wakehubert": "notice", "NOTICE.models": "notice"}
    shutil.copy2(root / FEATURIZER, staging / "wakehubert.onnx")
    shutil.copy2(_licence_file(), staging / "LICENSE.wakeforge")
    shutil.copy2(root / "featurizers" / "wakehubert-tiny" / "NOTICE", staging / "NOTICE.wakehubert")
    shutil.copy2(root / "models" / "NOTICE", staging / "NOTICE.models")
    models = {}
    for name in MODELS:
        shutil.copy2(root / "models" / f"{name}.onnx", staging / f"{name}.onnx")
        roles[f"{name}.onnx"] = f"head:{name}"
        meta = ort.InferenceSession(str(root / "models" / f"{name}.onnx"),
                                    providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
        models[name] = {"file": f"{name}.onnx", "phrase": meta["wake_word"],
                        "threshold": float(meta.get("default_threshold", WHEEL_THRESHOLDS[name])),
                        "threshold_from": "ONNX metadata" if "default_threshold" in meta else "wheel's table",
                        "window_frames": int(meta.get("window_frames", 75)),
                        "training_data": meta.get("training_data", "")}
    manifest = Manifest(
        bundle="wake-packaged",
        source={"package": PACKAGE, "version": package_version(PACKAGE),
                "licence": "Apache-2.0 (featurizer and heads; LICENSE.wakeforge, NOTICE.*); head training data "
                           "CC-BY-4.0 per NOTICE.models"},
        source_key="",
        decisions=["Scored as the wheel scores them by default: each 80 ms the last 1.5 s is featurized on its "
                   "own (isolated windows, how the heads were trained and calibrated).",
                   "Float32 featurizer (the heads were trained on it; the int8 copy differs, cosine 0.9975)."],
        tools=tool_versions([PACKAGE]),
        extra={"sample_rate": 16000, "featurizer": "wakehubert.onnx", "hop_samples": 320, "models": models},
    )
    (staging / "manifest.json").write_text(manifest.to_json())  # load_packaged reads it; rewritten later
    probes = {}
    for name in MODELS:
        model = load_packaged(staging, name)
        audio = _parity_audio(model.phrase)
        probes[f"{name}.audio"] = audio
        probes[f"{name}.scores"] = WakeDetector(model, model.threshold, 2.0).scores(audio)
        models[name]["parity_peak_score"] = round(float(probes[f"{name}.scores"].max()), 4)
    (staging / "manifest.json").unlink()
    np.savez(staging / "parity.npz", **probes)
    roles["parity.npz"] = "parity"
    return manifest, roles


def check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]:
    """Re-score the stored probes with the shipped files; scores must match the recorded ones."""
    problems = []
    probes = np.load(manifest.path_of("parity", bundle_dir))
    for name in manifest.extra["models"]:
        model = load_packaged(bundle_dir, name)
        got = WakeDetector(model, model.threshold, 2.0).scores(probes[f"{name}.audio"])
        want = probes[f"{name}.scores"]
        diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
        if diff > PARITY_TOLERANCE:
            problems.append(f"{name}: streaming scores differ from the recorded ones by {diff:.2e}")
    return problems
