"""The wake bench's building blocks: which models run, their scores on long audio, their test streams.

Scores for accuracy are computed in batches (the bench runs hours of audio through up to six
models on a shared 2-core box), with exactly the windows the streaming detector sees: for our head
`embed_clip` + the head, for a packaged head the last 1.5 s before every 80 ms step, zero-padded
at the start as a fresh stream is. `check_streaming` proves the equality on a real stream per
model each run, and CPU is measured through the live `WakeDetector.process` path only.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.events import AudioChunk
from edge.wake import PackagedModel, WakeDetector, WakeModel, load_wake_model
from edge.wake.features import SAMPLE_RATE, STEP_SAMPLES
from edge.wake.packaged import load_packaged as _load_packaged
from edge.wake.packaged import packaged_names
from export.wake_augment import AugSpec, finish
from export.wake_bench_data import Rendering
from export.wake_data import RATE, Utterance
from export.wake_eval import PositiveStream, batch_scores
from export.wake_real import RealClip


@dataclass
class Candidate:
    """One model under test, with the threshold it ships with."""

    label: str
    model: WakeModel | PackagedModel
    threshold: float
    origin: str


def candidates(models_dir: Path, custom: list[Path], threshold: float | None) -> list[Candidate]:
    """Our custom head(s) first, then every packaged model the wake-packaged bundle offers."""
    out = []
    for path in custom:
        model = load_wake_model(path, threads=1)
        label = "custom" if path == models_dir / "wake" else \
            f"custom:{path.parent.name if path.name == 'wake' else path.name}"
        front = model.manifest.get("extra", {}).get("front_end", "livekit-wakeword")
        out.append(Candidate(label, model, threshold or float(model.manifest.get("extra", {}).get("threshold", 0.5)),
                             f"ours, {front} features, synthetic training"))
    for name in packaged_names(models_dir / "wake-packaged"):
        model = _load_packaged(models_dir / "wake-packaged", name, threads=1)
        trained = "human recordings" if "human" in model.manifest["extra"]["models"][name]["training_data"] \
            else "synthetic speech"
        out.append(Candidate(name, model, model.threshold, f"wakeforge, WakeHuBERT, {trained}"))
    return out


def check_streaming(candidate: Candidate, audio: np.ndarray) -> float:
    """Max |batch - streaming| score difference on audio (must be float rounding only)."""
    streamed = WakeDetector(candidate.model, candidate.threshold, 2.0).scores(audio)
    return float(np.abs(streamed - batch_scores(candidate.model, audio)).max())


def streaming_cpu(candidate: Candidate, audio: np.ndarray) -> float:
    """Process CPU time / audio time through the live detector, 80 ms chunks, one thread."""
    detector = WakeDetector(candidate.model, candidate.threshold, 2.0)
    started = time.process_time()
    for offset in range(0, len(audio) - STEP_SAMPLES + 1, STEP_SAMPLES):
        detector.process(AudioChunk(samples=audio[offset: offset + STEP_SAMPLES], sample_rate=SAMPLE_RATE,
                                    timestamp=offset / SAMPLE_RATE))
    return (time.process_time() - started) / (len(audio) / SAMPLE_RATE)


def positive_streams(renderings: list[Rendering], requests: list[Utterance], copies: int,
                     seed: int, spec: AugSpec | None = None) -> list[PositiveStream]:
    """Each held-out phrase rendering `copies` times: [speech or quiet] + phrase + [request] in a held-out
    room and noise (AugSpec.heldout: SNR 5-20 dB, 15 % clean; spec = AugSpec.train() for the dev split)."""
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    spec = spec or AugSpec.heldout()
    out = []
    for r in (r for r in renderings if r.kind == "phrase"):
        for _ in range(copies):
            lead_seconds = rng.uniform(0.5, 2.5)
            lead = rng.choice(requests).audio[-int(lead_seconds * RATE):] if rng.random() < 0.5 \
                else np.zeros(int(lead_seconds * RATE), np.float32)
            gap = np.zeros(int(rng.uniform(0.2, 0.6) * RATE), np.float32)
            after = [np.zeros(int(rng.uniform(0.1, 0.5) * RATE), np.float32), rng.choice(requests).audio] \
                if rng.random() < 0.6 else []
            dry = np.concatenate([lead, gap, r.audio, *after, np.zeros(RATE, np.float32)])
            start = (len(lead) + len(gap)) / RATE
            out.append(PositiveStream(finish(nrng, dry, spec, requests), start, start + len(r.audio) / RATE,
                                      r.group))
    return out


def confusable_clips(renderings: list[Rendering], pool: list[Utterance], seed: int,
                     spec: AugSpec | None = None) -> list[tuple[np.ndarray, str]]:
    """Each held-out confusable rendering alone (1 s before, 1.5 s after) in a held-out room (or spec's)."""
    nrng = np.random.default_rng(seed)
    spec = spec or AugSpec.heldout()
    out = []
    for r in (r for r in renderings if r.kind == "confusable"):
        dry = np.concatenate([np.zeros(RATE, np.float32), r.audio, np.zeros(int(1.5 * RATE), np.float32)])
        out.append((finish(nrng, dry, spec, pool), r.text))
    return out


def real_stream(clips: list[RealClip], seed: int = 7, split: str = "heldout") -> tuple[np.ndarray, dict[str, float]]:
    """The held-out (or split's) real recordings as one stream: meetings as recorded, syllable runs at random
    levels with 0.3-1.5 s of quiet room noise between them; and seconds per source."""
    rng = np.random.default_rng(seed)
    parts, seconds = [], {}
    for clip in (c for c in clips if c.split == split):
        audio = clip.audio
        if clip.source == "gcin":
            audio = audio * 10 ** (rng.uniform(-20, -3) / 20) / (np.abs(audio).max() + 1e-9)
            quiet = rng.standard_normal(int(rng.uniform(0.3, 1.5) * RATE)) * 10 ** (rng.uniform(-65, -50) / 20)
            audio = np.concatenate([audio, quiet])
        parts.append(audio.astype(np.float32))
        seconds[clip.source] = seconds.get(clip.source, 0.0) + len(audio) / RATE
    return np.concatenate(parts).astype(np.float32), seconds
