"""Held-out evaluation sets for the wake word, and the rule that scores a detector on them.

Positives are streams a user might say: other speech or room noise, the phrase, then a request
("..., add two bags of rice"), rendered with espeak variants and Piper pitch bands training never
used, in rooms and noises training never used (AugSpec.heldout). A positive counts as detected
when the detector fires between 30 % into the phrase and 1 s after its end. Negatives are a long
stream of held-out sentences, confusable phrases, music and noise; every firing in it is a false
accept. The export step records these figures in the manifest; bench/wake.py re-measures them
through the live streaming detector with at least an hour of negative audio.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from edge.wake.detector import fire_steps
from edge.wake.features import HEAD_WINDOW, SAMPLE_RATE, STEP_SAMPLES, embed_clip
from edge.wake.model import WakeModel
from edge.wake.packaged import PackagedModel
from export.wake_augment import AugSpec, finish, negative_stream
from export.wake_data import RATE, Utterance

STEP_SECONDS = STEP_SAMPLES / SAMPLE_RATE
CONFUSABLE_SHARE = 0.1
"""Share of utterances in the negative stream that are confusable phrases (the rest: sentences)."""


@dataclass
class PositiveStream:
    audio: np.ndarray
    phrase_start: float
    phrase_end: float
    voice: str


def heldout_positive_streams(corpus: list[Utterance], copies: int = 2, seed: int = 99) -> list[PositiveStream]:
    """copies streams per held-out phrase utterance: [speech/noise] + phrase + request + 1 s."""
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    spec = AugSpec.heldout()
    phrases = [u for u in corpus if u.split == "heldout" and u.kind == "phrase"]
    requests = [u for u in corpus if u.split == "heldout" and u.kind == "sentence"]
    out = []
    for u in phrases:
        for _ in range(copies):
            lead_seconds = rng.uniform(0.5, 2.5)
            if rng.random() < 0.5:
                lead = rng.choice(requests).audio[-int(lead_seconds * RATE):]
            else:
                lead = np.zeros(int(lead_seconds * RATE), np.float32)
            gap = np.zeros(int(rng.uniform(0.2, 0.6) * RATE), np.float32)
            pause = np.zeros(int(rng.uniform(0.1, 0.5) * RATE), np.float32)
            dry = np.concatenate([lead, gap, u.audio, pause, rng.choice(requests).audio, np.zeros(RATE, np.float32)])
            start = (len(lead) + len(gap)) / RATE
            out.append(PositiveStream(finish(nrng, dry, spec, requests), start, start + len(u.audio) / RATE, u.voice))
    return out


def heldout_negative_audio(corpus: list[Utterance], seconds: float, seed: int = 4242,
                           segments: list[tuple[float, float, str]] | None = None) -> np.ndarray:
    """seconds of held-out everyday audio without the phrase: ~3/4 speech, 1 utterance in 10 a confusable."""
    sentences = [u for u in corpus if u.split == "heldout" and u.kind == "sentence"]
    confusables = [u for u in corpus if u.split == "heldout" and u.kind == "confusable"]
    return negative_stream(seed, sentences, confusables, seconds, AugSpec.heldout(), CONFUSABLE_SHARE,
                           segments=segments)


def heldout_confusable_clips(corpus: list[Utterance], seed: int = 77) -> list[tuple[np.ndarray, str]]:
    """Each held-out confusable rendering alone in a held-out room: (audio, text)."""
    nrng = np.random.default_rng(seed)
    spec = AugSpec.heldout()
    pool = [u for u in corpus if u.split == "heldout" and u.kind == "sentence"]
    out = []
    for u in corpus:
        if u.split == "heldout" and u.kind == "confusable":
            dry = np.concatenate([np.zeros(RATE, np.float32), u.audio, np.zeros(int(1.5 * RATE), np.float32)])
            out.append((finish(nrng, dry, spec, pool), u.text))
    return out


def confusable_report(fired: list[bool], texts: list[str]) -> dict[str, object]:
    """Share of held-out confusable renderings that fired, and which phrases fired most."""
    counts: dict[str, list[int]] = {}
    for hit, text in zip(fired, texts, strict=True):
        counts.setdefault(text, [0, 0])
        counts[text][0] += int(hit)
        counts[text][1] += 1
    worst = sorted(((v[0] / v[1], t) for t, v in counts.items() if v[0]), reverse=True)[:8]
    return {"renderings": len(texts), "fire_rate": round(sum(fired) / max(1, len(texts)), 4),
            "worst": {t: round(r, 2) for r, t in worst}}


def detected(fires: list[int], stream: PositiveStream) -> tuple[bool, float]:
    """(hit, latency after phrase end in seconds) for the fires (step indices) on one stream."""
    earliest = stream.phrase_start + 0.3 * (stream.phrase_end - stream.phrase_start)
    for step in fires:
        end = (step + 1) * STEP_SECONDS
        if earliest <= end <= stream.phrase_end + 1.0:
            return True, end - stream.phrase_end
    return False, float("nan")


def summarize(positive_scores: list[np.ndarray], streams: list[PositiveStream], negative_scores: np.ndarray,
              threshold: float, refractory_seconds: float) -> dict[str, float]:
    """FRR on positives, false accepts per hour on the negative stream, median latency."""
    hits, latencies, extra = 0, [], 0
    for scores, stream in zip(positive_scores, streams, strict=True):
        fires = fire_steps(scores, threshold, refractory_seconds)
        hit, latency = detected(fires, stream)
        hits += hit
        extra += len(fires) - int(hit)
        if hit:
            latencies.append(latency)
    hours = len(negative_scores) * STEP_SECONDS / 3600
    false_accepts = len(fire_steps(negative_scores, threshold, refractory_seconds))
    return {
        "threshold": threshold,
        "positives": len(streams),
        "false_reject_rate": round(1 - hits / max(1, len(streams)), 4),
        "stray_fires_in_positive_streams": extra,
        "median_latency_s": round(float(np.median(latencies)), 3) if latencies else float("nan"),
        "negative_hours": round(hours, 3),
        "false_accepts": false_accepts,
        "false_accepts_per_hour": round(false_accepts / hours, 3) if hours else float("nan"),
    }


def batch_scores(model: WakeModel | PackagedModel, audio: np.ndarray, batch: int = 128) -> np.ndarray:
    """The score after every whole 80 ms step of audio, as a fresh streaming detector would give."""
    audio = np.asarray(audio, dtype=np.float32)
    steps = len(audio) // STEP_SAMPLES
    if isinstance(model, WakeModel):
        bank = embed_clip(model.front_end, audio)
        idx = np.arange(steps)[:, None] + np.arange(HEAD_WINDOW)
        parts = [model.score(bank[idx[i: i + 4096]]) for i in range(0, steps, 4096)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    size = model.window_samples
    padded = np.concatenate([np.zeros(size, np.float32), audio[: steps * STEP_SAMPLES]])
    out = np.empty(steps, np.float32)
    for start in range(0, steps, batch):
        ends = (np.arange(start, min(steps, start + batch)) + 1) * STEP_SAMPLES
        windows = np.stack([padded[e: e + size] for e in ends])
        out[start: start + len(ends)] = model.score_audio(windows)
    return out
