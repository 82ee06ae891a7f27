"""Audio streams the wake benches and the look's calibration score: phrases in context, confusables alone, real speech.

Shared by `python -m bench wake` (held-out material) and `python -m export wake-look` (the training side),
so both judge the same kind of stream: the phrase after other speech or quiet and before a request, in a
room with noise, as a person says it to a speaker.
"""

from __future__ import annotations

import random

import numpy as np

from export.wake_augment import AugSpec, finish
from export.wake_bench_data import Rendering
from export.wake_data import RATE, Utterance
from export.wake_eval import PositiveStream
from export.wake_real import RealClip


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
