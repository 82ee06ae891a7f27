"""The wake bench's building blocks: which models run, their scores on long audio, their test streams.

Scores for accuracy are computed in batches (the bench runs hours of audio through up to six
models on a shared 2-core box), with exactly the windows the streaming detector sees: for our head
`embed_clip` + the head, for a packaged head the last 1.5 s before every 80 ms step, zero-padded
at the start as a fresh stream is. `check_streaming` proves the equality on a real stream per
model each run, and CPU is measured through the live `WakeDetector.process` path only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.events import AudioChunk
from edge.wake import PackagedModel, WakeDetector, WakeModel, load_wake_model
from edge.wake.features import SAMPLE_RATE, STEP_SAMPLES
from edge.wake.packaged import load_packaged as _load_packaged
from edge.wake.packaged import packaged_names
from export.wake_eval import batch_scores


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
