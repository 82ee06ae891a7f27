"""Packaged wake words: ready models from ovos-ww-plugin-wakeforge (Apache-2.0) on WakeHuBERT features.

`python -m export wake-packaged` copies the wheel's WakeHuBERT-tiny featurizer (16 kHz waveform ->
[frames, 128] at 50 frames/s) and its classifier heads ("hey mycroft", trained on human
recordings; "alexa", "wake up" and a synthetic "hey mycroft") into the `wake-packaged` bundle, with
each head's calibrated threshold and wake word in the manifest. They are choices for
`[wake] model`, and the bench runs them beside our own head: they are the anchor for what a model
trained on other data (and, for hey_mycroft, on real recordings) does on our negatives.

Scoring follows the wheel's own default ("isolated windows"): every 80 ms the last 1.5 s of audio
(75 frames x 320 samples) is featurized on its own, as the heads' training clips were, and the head
turns those 75 frames into one calibrated logit. The wheel's code is not imported (its package
imports network and plugin-manager modules the device does not carry): this is the same
arithmetic in numpy + onnxruntime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edge.config import RuntimeSettings
from edge.providers import ort_providers
from edge.wake.features import SAMPLE_RATE, STEP_SAMPLES, session_options

BUNDLE = "wake-packaged"
HOP_SAMPLES = 320
"""WakeHuBERT's hop: one 128-d frame per 20 ms."""


class PackagedModelError(RuntimeError):
    """The packaged bundle is missing, or has no model by that name."""


@dataclass
class WindowStream:
    """Per-stream state of a window model: the last window of audio, scored whole every step."""

    model: PackagedModel
    audio: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the audio, as if the stream began after digital silence."""
        self.audio = np.zeros(self.model.window_samples, dtype=np.float32)

    def step(self, samples: np.ndarray) -> float:
        """Advance by one 1280-sample step; return the probability for the window ending here."""
        if samples.shape != (STEP_SAMPLES,):
            raise ValueError(f"a step is {STEP_SAMPLES} samples, got shape {samples.shape}")
        self.audio = np.concatenate([self.audio[STEP_SAMPLES:], samples.astype(np.float32, copy=False)])
        return float(self.model.score_audio(self.audio[None])[0])


@dataclass
class PackagedModel:
    """WakeHuBERT featurizer + one window head; `stream()` gives a per-listener scorer."""

    featurizer: ort.InferenceSession
    head: ort.InferenceSession
    phrase: str
    threshold: float
    """The head's calibrated default threshold (its ONNX metadata, recorded in the manifest)."""
    window_frames: int
    manifest: dict[str, Any]
    name: str = ""

    def __post_init__(self) -> None:
        self._feat_in = self.featurizer.get_inputs()[0].name
        self._head_in = self.head.get_inputs()[0].name
        self.window_samples = self.window_frames * HOP_SAMPLES

    def features(self, audio: np.ndarray) -> np.ndarray:
        """(n, samples) waveforms -> (n, frames, 128) features."""
        return self.featurizer.run(None, {self._feat_in: audio.astype(np.float32, copy=False)})[0]

    def score_features(self, feats: np.ndarray) -> np.ndarray:
        """(n, frames, 128) -> (n,) probabilities (the heads output one calibrated logit each)."""
        logits = np.asarray(self.head.run(None, {self._head_in: feats.astype(np.float32, copy=False)})[0])
        return 1.0 / (1.0 + np.exp(-logits.reshape(len(feats)).astype(np.float64)))

    def score_audio(self, windows: np.ndarray) -> np.ndarray:
        """(n, window_samples) audio windows, each featurized on its own -> (n,) probabilities."""
        return self.score_features(self.features(windows))

    def stream(self) -> WindowStream:
        return WindowStream(self)


def packaged_names(bundle_dir: Path) -> list[str]:
    """The model names a built wake-packaged bundle offers (empty when it is not built)."""
    import json

    path = Path(bundle_dir).expanduser() / "manifest.json"
    if not path.is_file():
        return []
    return sorted(json.loads(path.read_text()).get("extra", {}).get("models", {}))


def load_packaged(bundle_dir: Path, name: str, runtime: RuntimeSettings | None = None,
                  threads: int = 1) -> PackagedModel:
    """Load packaged model `name` from the wake-packaged bundle at bundle_dir."""
    import json

    bundle_dir = Path(bundle_dir).expanduser()
    path = bundle_dir / "manifest.json"
    if not path.is_file():
        raise PackagedModelError(f"no packaged wake models at {bundle_dir}: build them with "
                                 "`python -m export wake-packaged`")
    manifest = json.loads(path.read_text())
    models = manifest.get("extra", {}).get("models", {})
    if name not in models:
        raise PackagedModelError(f"no packaged wake model {name!r} in {bundle_dir}; choose one of "
                                 f"{', '.join(sorted(models))} or 'custom'")
    info = models[name]
    if manifest.get("extra", {}).get("sample_rate", SAMPLE_RATE) != SAMPLE_RATE:
        raise PackagedModelError(f"{bundle_dir}: models expect another sample rate than {SAMPLE_RATE} Hz")
    providers = ort_providers(runtime or RuntimeSettings())

    def session(file: str) -> ort.InferenceSession:
        target = bundle_dir / file
        if not target.is_file():
            raise PackagedModelError(f"{target} is missing: rebuild with `python -m export wake-packaged --force`")
        return ort.InferenceSession(str(target), sess_options=session_options(threads), providers=providers)

    return PackagedModel(featurizer=session(manifest["extra"]["featurizer"]), head=session(info["file"]),
                         phrase=info["phrase"], threshold=float(info["threshold"]),
                         window_frames=int(info["window_frames"]), manifest=manifest, name=name)
