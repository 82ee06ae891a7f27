"""The Piper voice on sherpa-onnx: bundle checks, espeak-ng phonemes, one clause in, samples out.

sherpa-onnx 2.x has no espeak-ng inside: given text for a Piper voice it silently returns 0
samples. So text is phonemized here with piper-tts's `EspeakPhonemizer` (espeak-ng with its own
data, no torch; GPL-3.0-or-later, as the bundle manifest records) and handed to sherpa as
`GenerationConfig.phoneme_codepoints`; a 0-sample result raises instead of playing silence.
Everything about the bundle that can be wrong is checked before sherpa's 2-3 s constructor runs,
with the command that fixes it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sherpa_onnx

from edge.config import Settings
from edge.memory import sherpa_provider_string
from edge.providers import sherpa_provider

log = logging.getLogger(__name__)

FIX = "build it with `python -m export tts`"


class TtsError(RuntimeError):
    """Synthesis failed (or produced nothing) for a clause; the message names the text."""


class TtsBundleError(TtsError):
    """The tts bundle is missing, incomplete or not a Piper/VITS voice."""


@dataclass(frozen=True)
class VoiceBundle:
    """Paths and voice facts from a tts bundle's manifest."""

    dir: Path
    model: Path
    tokens: Path
    sample_rate: int
    espeak_voice: str
    noise_scale: float
    noise_w: float
    length_scale: float
    manifest: dict[str, Any]


def _role(bundle_dir: Path, manifest: dict[str, Any], role: str) -> Path:
    for name, info in manifest.get("files", {}).items():
        if info.get("role") == role:
            path = bundle_dir / name
            if not path.is_file():
                raise TtsBundleError(f"tts bundle file {path} ({role}) is missing: {FIX} --force")
            return path
    raise TtsBundleError(f"tts bundle at {bundle_dir} lists no {role!r} file: {FIX} --force")


def load_bundle(bundle_dir: str | Path) -> VoiceBundle:
    """Read and check the bundle's manifest.json; TtsBundleError saying how to fix anything wrong."""
    bundle_dir = Path(bundle_dir).expanduser()
    path = bundle_dir / "manifest.json"
    if not path.is_file():
        raise TtsBundleError(f"no tts bundle at {bundle_dir} (no manifest.json): {FIX}")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TtsBundleError(f"{path} is unreadable ({exc}): {FIX} --force") from None
    if manifest.get("bundle") != "tts":
        raise TtsBundleError(f"{path} describes bundle {manifest.get('bundle')!r}, not 'tts'")
    extra = manifest.get("extra", {})
    try:
        return VoiceBundle(
            dir=bundle_dir, model=_role(bundle_dir, manifest, "model"), tokens=_role(bundle_dir, manifest, "tokens"),
            sample_rate=int(extra["sample_rate"]), espeak_voice=str(extra["espeak_voice"]),
            noise_scale=float(extra["noise_scale"]), noise_w=float(extra["noise_w"]),
            length_scale=float(extra["length_scale"]), manifest=manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise TtsBundleError(f"{path}: voice facts missing from 'extra' ({exc}): {FIX} --force") from None


class Phonemizer:
    """espeak-ng through piper-tts; one per process (espeak-ng keeps global state), calls serialized."""

    _lock = threading.Lock()
    _espeak: Any = None

    def __init__(self, voice: str) -> None:
        self.voice = voice
        with Phonemizer._lock:
            if Phonemizer._espeak is None:
                try:
                    from piper.phonemize_espeak import EspeakPhonemizer
                except ImportError as exc:
                    raise TtsError(f"the phonemizer is missing: piper-tts is not importable ({exc}); "
                                   "pip install piper-tts==1.8.0") from None
                Phonemizer._espeak = EspeakPhonemizer()

    def codepoints(self, text: str) -> list[list[int]]:
        """Text -> one list of IPA codepoints per sentence espeak-ng finds in it."""
        with Phonemizer._lock:
            sentences = Phonemizer._espeak.phonemize(self.voice, text)
        return [[ord(c) for c in "".join(s)] for s in sentences if s]


class Voice:
    """A loaded voice: `synthesize(clause)` -> float32 samples at `sample_rate`."""

    def __init__(self, bundle: VoiceBundle, threads: int = 1, provider: str = "cpu",
                 noise_scale: float | None = None, noise_w: float | None = None) -> None:
        self.bundle = bundle
        self.sample_rate = bundle.sample_rate
        self.phonemizer = Phonemizer(bundle.espeak_voice)
        vits = sherpa_onnx.OfflineTtsVitsModelConfig(
            model=str(bundle.model), tokens=str(bundle.tokens), lexicon="", data_dir="",
            noise_scale=bundle.noise_scale if noise_scale is None else noise_scale,
            noise_scale_w=bundle.noise_w if noise_w is None else noise_w,
            length_scale=bundle.length_scale)
        config = sherpa_onnx.OfflineTtsConfig(
            model=sherpa_onnx.OfflineTtsModelConfig(vits=vits, num_threads=threads, provider=provider),
            max_num_sentences=1)
        if not config.validate():
            raise TtsBundleError(f"sherpa-onnx rejected the tts bundle at {bundle.dir}: {FIX} --force")
        self._tts = sherpa_onnx.OfflineTts(config)
        if self._tts.sample_rate != bundle.sample_rate:
            raise TtsBundleError(f"{bundle.model} says {self._tts.sample_rate} Hz, the manifest "
                                 f"{bundle.sample_rate} Hz: {FIX} --force")
        self._lock = threading.Lock()

    def synthesize(self, text: str, speed: float = 1.0, should_stop: Callable[[], bool] | None = None) -> np.ndarray:
        """One clause of normalized text -> samples (empty if the text has nothing to pronounce)."""
        codepoints = self.phonemizer.codepoints(text)
        if not codepoints:
            return np.zeros(0, dtype=np.float32)
        return self.generate(codepoints, speed, should_stop, label=text)

    def generate(self, codepoints: list[list[int]], speed: float = 1.0,
                 should_stop: Callable[[], bool] | None = None, label: str = "") -> np.ndarray:
        """Phoneme codepoints (one list per sentence) -> samples; TtsError if sherpa returns silence.

        should_stop is polled in sherpa's per-sentence callback (returning 0 stops generation):
        a clause espeak splits into several sentences stops after the one in progress.
        """
        config = sherpa_onnx.GenerationConfig()
        config.phoneme_codepoints = codepoints
        config.silence_scale = 1.0
        config.speed = speed
        config.sid = 0

        def keep_going(_samples: np.ndarray, _progress: float) -> int:
            return 0 if should_stop is not None and should_stop() else 1

        with self._lock:
            audio = self._tts.generate("", config, keep_going)
        samples = np.asarray(audio.samples, dtype=np.float32)
        if should_stop is not None and should_stop():
            return samples
        if samples.size == 0 or audio.sample_rate != self.sample_rate or not np.any(samples):
            raise TtsError(f"sherpa-onnx returned {samples.size} samples at {audio.sample_rate} Hz "
                           f"{'(all zero) ' if samples.size else ''}for {label or codepoints!r}: without "
                           "phonemes a Piper voice says nothing; is the bundle built by `python -m export tts`?")
        return samples


def voice_for_settings(settings: Settings, **overrides: Any) -> Voice:
    """The tts bundle under settings.models, with settings' threads and provider.

    The clause length varies reply to reply, so onnxruntime's arena is off unless
    settings.memory.tts_arena says otherwise (edge.memory: it kept ~100 MB of clause buffers).
    """
    bundle = load_bundle(settings.models.path / "tts")
    provider = sherpa_provider_string(sherpa_provider(settings.runtime), settings.memory.tts_arena)
    return Voice(bundle, threads=settings.threads.tts, provider=provider, **overrides)
