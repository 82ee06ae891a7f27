"""The Piper voice: bundle checks, espeak-ng phonemes, one clause in, audio chunks out.

Text is phonemized with piper-tts's `EspeakPhonemizer` (espeak-ng with its own data, no torch;
GPL-3.0-or-later, as the bundle manifest records), turned into Piper's phoneme ids with the
bundle's tokens.txt (`^ _ p1 _ p2 _ ... $`, as piper-tts and sherpa-onnx build them), and
synthesized by edge.tts.vocoder: the latent graph once per sentence, then the HiFi-GAN decoder in
the chunks the export verified against the whole graph. Everything about the bundle that can be
wrong is checked before the sessions load, with the command that fixes it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.config import Settings
from edge.providers import ort_providers
from edge.tts.vocoder import ChunkPlan, Vocoder

if TYPE_CHECKING:
    from edge.tts.voice_zh import ZhVoice

log = logging.getLogger(__name__)

FIX = "build it with `python -m export tts`"
BOS, PAD, EOS = "^", "_", "$"


class TtsError(RuntimeError):
    """Synthesis failed (or produced nothing) for a clause; the message names the text."""


class TtsBundleError(TtsError):
    """The tts bundle is missing, incomplete or not a Piper/VITS voice."""


@dataclass(frozen=True)
class VoiceBundle:
    """Paths and voice facts from a tts bundle's manifest."""

    dir: Path
    model: Path
    """The whole graph (the reference the chunked path is verified against; piper-tts runs it in bench)."""
    tokens: Path
    sample_rate: int
    espeak_voice: str
    noise_scale: float
    noise_w: float
    length_scale: float
    manifest: dict[str, Any]
    latent: Path | None = None
    """Phoneme ids -> latent z (text encoder, duration predictor, flow)."""
    decoder: tuple[Path, ...] = ()
    """z -> audio (HiFi-GAN), one graph per stage, run in chunks by `plan`."""
    plan: ChunkPlan | None = None


def read_manifest(bundle_dir: Path, bundle: str, fix: str) -> dict[str, Any]:
    """A voice bundle's manifest.json, checked to describe `bundle`; TtsBundleError saying how to fix it."""
    path = bundle_dir / "manifest.json"
    if not path.is_file():
        raise TtsBundleError(f"no {bundle} bundle at {bundle_dir} (no manifest.json): {fix}")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TtsBundleError(f"{path} is unreadable ({exc}): {fix} --force") from None
    if manifest.get("bundle") != bundle:
        raise TtsBundleError(f"{path} describes bundle {manifest.get('bundle')!r}, not {bundle!r}")
    return manifest


def bundle_file(bundle_dir: Path, manifest: dict[str, Any], role: str, fix: str) -> Path:
    """The file the manifest lists for `role`, checked to exist; TtsBundleError saying how to fix it."""
    bundle = manifest.get("bundle", "tts")
    for name, info in manifest.get("files", {}).items():
        if info.get("role") == role:
            path = bundle_dir / name
            if not path.is_file():
                raise TtsBundleError(f"{bundle} bundle file {path} ({role}) is missing: {fix} --force")
            return path
    raise TtsBundleError(f"{bundle} bundle at {bundle_dir} lists no {role!r} file: {fix} --force")


def load_bundle(bundle_dir: str | Path) -> VoiceBundle:
    """Read and check the bundle's manifest.json; TtsBundleError saying how to fix anything wrong."""
    bundle_dir = Path(bundle_dir).expanduser()
    path = bundle_dir / "manifest.json"
    manifest = read_manifest(bundle_dir, "tts", FIX)
    extra = manifest.get("extra", {})
    model, tokens = bundle_file(bundle_dir, manifest, "model", FIX), bundle_file(bundle_dir, manifest, "tokens", FIX)
    latent = bundle_file(bundle_dir, manifest, "latent", FIX)
    try:
        chunks = extra["vocoder"]
        plan = ChunkPlan(first_frames=int(chunks["first_frames"]), frames=int(chunks["frames"]),
                         overlaps=tuple(int(o) for o in chunks["overlaps"]), rates=tuple(int(r) for r in chunks["rates"]))
        decoder = tuple(_stage(bundle_dir, manifest, name) for name in chunks["stages"])
        return VoiceBundle(
            dir=bundle_dir, model=model, tokens=tokens, latent=latent, decoder=decoder, plan=plan,
            sample_rate=int(extra["sample_rate"]), espeak_voice=str(extra["espeak_voice"]),
            noise_scale=float(extra["noise_scale"]), noise_w=float(extra["noise_w"]),
            length_scale=float(extra["length_scale"]), manifest=manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise TtsBundleError(f"{path}: voice facts missing from 'extra' ({exc}): {FIX} --force") from None


def _stage(bundle_dir: Path, manifest: dict[str, Any], name: str) -> Path:
    """A decoder stage named in extra.vocoder.stages: listed (hashed) with role 'decoder', present."""
    if manifest.get("files", {}).get(name, {}).get("role") != "decoder":
        raise TtsBundleError(f"tts bundle at {bundle_dir}: decoder stage {name} is not listed: {FIX} --force")
    if not (bundle_dir / name).is_file():
        raise TtsBundleError(f"tts bundle file {bundle_dir / name} (decoder) is missing: {FIX} --force")
    return bundle_dir / name


def read_tokens(path: Path) -> dict[str, int]:
    """tokens.txt ("{symbol} {id}" per line; the symbol may be a space) -> symbol -> id."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        symbol, _, number = line.rpartition(" ")
        if not _ or not number.lstrip("-").isdigit():
            raise TtsBundleError(f"{path}: bad line {line!r}: {FIX} --force")
        table[symbol] = int(number)
    for symbol in (BOS, PAD, EOS):
        if symbol not in table:
            raise TtsBundleError(f"{path} has no {symbol!r} token (not a Piper voice?): {FIX} --force")
    return table


def phoneme_ids(phonemes: Sequence[str], table: dict[str, int]) -> list[int]:
    """Piper's layout: BOS, PAD, then each known phoneme followed by PAD, then EOS (piper.phoneme_ids)."""
    ids = [table[BOS], table[PAD]]
    for phoneme in phonemes:
        if phoneme in table:
            ids += [table[phoneme], table[PAD]]
    return [*ids, table[EOS]]


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

    def phonemes(self, text: str) -> list[list[str]]:
        """Text -> one list of phonemes per sentence espeak-ng finds in it (empty sentences dropped)."""
        with Phonemizer._lock:
            sentences = Phonemizer._espeak.phonemize(self.voice, text)
        return [list(s) for s in sentences if s]


class Voice:
    """A loaded voice: `chunks(clause)` streams float32 audio at `sample_rate`; `synthesize` joins it."""

    def __init__(self, bundle: VoiceBundle, threads: int = 1, providers: Sequence[str] = ("CPUExecutionProvider",),
                 arena: bool = True, noise_scale: float | None = None, noise_w: float | None = None,
                 chunk_frames: int = 0) -> None:
        """chunk_frames: latent frames per decoder chunk after the first (0: the bundle's plan). Any size gives
        the same audio (each stage's context comes from the plan); a smaller one bounds the decoder's memory."""
        if bundle.latent is None or not bundle.decoder or bundle.plan is None:
            raise TtsBundleError(f"tts bundle at {bundle.dir} has no latent/decoder graphs: {FIX} --force")
        if chunk_frames:
            bundle = replace(bundle, plan=replace(bundle.plan, frames=chunk_frames))
        self.bundle = bundle
        self.sample_rate = bundle.sample_rate
        self.noise_scale = bundle.noise_scale if noise_scale is None else noise_scale
        self.noise_w = bundle.noise_w if noise_w is None else noise_w
        self.phonemizer = Phonemizer(bundle.espeak_voice)
        self._tokens = read_tokens(bundle.tokens)
        try:
            self.vocoder = Vocoder(str(bundle.latent), [str(p) for p in bundle.decoder], bundle.plan, threads=threads,
                                   arena=arena, providers=providers)
        except Exception as exc:  # onnxruntime's errors (a truncated file) name no fix
            raise TtsBundleError(f"onnxruntime cannot load the tts bundle at {bundle.dir} ({exc}): {FIX} --force") \
                from None

    def chunks(self, text: str, speed: float = 1.0,
               should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[np.ndarray, bool]]:
        """One clause of normalized text -> (audio chunk, is it the clause's last) as each is decoded.

        Nothing for a text with nothing to pronounce. should_stop is polled between decoder chunks
        (a barge-in waits for at most one chunk); after a stop no last chunk is flagged.
        """
        sentences = [phoneme_ids(p, self._tokens) for p in self.phonemizer.phonemes(text)]
        for index, ids in enumerate(sentences):
            if should_stop is not None and should_stop():
                return
            z = self.vocoder.latent(ids, self.noise_scale, self.bundle.length_scale / speed, self.noise_w)
            if z.ndim != 3 or z.shape[2] == 0:
                raise TtsError(f"the voice produced no audio frames for {text!r} (latent shape {z.shape})")
            for audio, last in self.vocoder.decode(z, should_stop):
                yield audio, last and index == len(sentences) - 1

    def release(self) -> None:
        """Give back the memory onnxruntime kept for the last reply (a few ms; call it between replies)."""
        self.vocoder.release(phoneme_ids([], self._tokens))

    def synthesize(self, text: str, speed: float = 1.0, should_stop: Callable[[], bool] | None = None) -> np.ndarray:
        """One clause of normalized text -> all its samples (empty if it has nothing to pronounce).

        A one-off (warm-up, a file, the simulated user): the arenas are released afterwards, so a
        warm-up leaves no clause buffers resident (a streamed reply releases once, at its end).
        """
        try:
            parts = [audio for audio, _last in self.chunks(text, speed, should_stop)]
        finally:
            self.release()
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        if parts and not np.any(samples) and not (should_stop is not None and should_stop()):
            raise TtsError(f"the voice returned {samples.size} samples, all zero, for {text!r}: "
                           "is the bundle built by `python -m export tts`?")
        return samples


def voice_for_settings(settings: Settings, **overrides: Any) -> Voice | ZhVoice:
    """The voice for settings.device.language (the tts bundle, or tts-zh for "zh"), with settings' threads,
    provider and arena setting.

    The arena is on by default: the decoder runs in bounded chunks, and the latent graph's arena
    is shrunk after each sentence (edge.tts.vocoder), so it no longer keeps clause buffers.
    """
    if settings.device.language == "zh":
        from edge.tts.voice_zh import zh_voice_for_settings  # imports this module: load it only when needed

        return zh_voice_for_settings(settings, **overrides)
    bundle = load_bundle(settings.models.path / "tts")
    return Voice(bundle, threads=settings.threads.tts, providers=ort_providers(settings.runtime),
                 arena=settings.memory.tts_arena, **{"chunk_frames": settings.tts.decoder_chunk_frames, **overrides})
