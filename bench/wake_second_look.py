"""`bench wake --second-look`: what confirming each detection with the recognizer buys and costs.

For the custom head, at its shipped threshold and at lower first-stage thresholds, every detection
on the bench's material (held-out positive streams, ordinary synthetic speech, real recorded speech)
is checked by a second look (`edge.wake.second_look.SecondLook`, the words Whisper hears, or
`edge.wake.phrase_score.ForcedLook`, the phrase's log-probability) on the audio the device would hold (the window
ending `tail` after the detection), with the device's own Whisper recognizer. Reported: detection
overall and for the worst voice group, false accepts per hour (synthetic, real) with the second look,
and the second look's CPU as a share of one core while listening (decodes only happen on
first-stage detections, so it is the decode time over the hours listened). Verdicts are cached per
(stream, step), so each window is decoded once however many thresholds are tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edge.wake.detector import fire_steps
from edge.wake.second_look import SecondLook
from export.wake_bench_data import GROUPS
from export.wake_eval import PositiveStream, detected
from export.wake_look import Judge

SIMILARITIES = (0.75, 0.8, 1.0)
"""Similarities the word look tries: 0.75 takes "Hey, Shah" and "A shot" for "hey shop", 1.0 only the phrase's skeleton."""
LOGPROBS = (-4.0, -4.5, -5.0, -5.5, -6.0)
"""Mean log-probabilities per phrase token the forced look tries ("hello shopkeeper", training side, bench.wake_look_dev:
phrase median -2.1, ordinary speech that fires the head -8.8 to -5.2; the shipped minimum, -4.5, is chosen there)."""
MINIMUMS = {"words": SIMILARITIES, "forced": LOGPROBS}


def make_look(phrase: str, method: str) -> Any:
    """The second look as the device builds it: the configured Whisper bundle (on onnxruntime for the
    forced look) and, for the word look, espeak-ng phonemes."""
    import dataclasses

    from edge.asr import whisper_decoder
    from edge.asr.models import whisper_recognizer
    from edge.config import load_settings
    from edge.wake.phrase_score import ForcedLook

    settings = load_settings()
    window = settings.wake.second_look_window_seconds
    if method == "forced":
        settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, runtime="onnxruntime"))
        return ForcedLook(whisper_recognizer(settings, threads=1), phrase, window_seconds=window)
    from edge.catalog.correction import espeak_pronouncer

    return SecondLook(whisper_decoder(whisper_recognizer(settings, threads=1)), phrase, espeak_pronouncer(),
                      window_seconds=window)


def _confirmed(judge: Judge, kind: str, key: str, audio: np.ndarray, scores: np.ndarray, threshold: float,
               refractory: float, minimum: float) -> tuple[int, int]:
    """(first-stage fires, confirmed fires) on one piece of audio."""
    fires = fire_steps(scores, threshold, refractory)
    return len(fires), sum(judge(kind, key, audio, step) >= minimum for step in fires)


def evaluate(look: Any, tail_seconds: float, thresholds: Sequence[float], minimums: Sequence[float],
             refractory: float, streams: list[PositiveStream], pos_scores: list[np.ndarray],
             negatives: dict[str, list[tuple[np.ndarray, np.ndarray]]], judge: Judge | None = None) -> list[dict]:
    """One row per (first-stage threshold, the look's minimum score); negatives: kind -> [(audio, scores)].
    Each window's verdict stays in judge.cache under ("pos<i>" or "<kind><j>", step) for a caller that passes one."""
    judge = judge or Judge(look, tail_seconds)
    hours = {kind: sum(len(a) for a, _ in parts) / 16000 / 3600 for kind, parts in negatives.items()}
    rows = []
    for threshold, minimum in ((t, m) for t in thresholds for m in minimums):
        groups: dict[str, list[int]] = {g: [0, 0] for g in GROUPS}
        hits = 0
        for i, (stream, scores) in enumerate(zip(streams, pos_scores, strict=True)):
            fires = fire_steps(scores, threshold, refractory)
            kept = [s for s in fires if judge("positive", f"pos{i}", stream.audio, s) >= minimum]
            hit = detected(kept, stream)[0]
            hits += hit
            groups.setdefault(stream.voice, [0, 0])
            groups[stream.voice][0] += hit
            groups[stream.voice][1] += 1
        row = {"threshold": threshold, "minimum": minimum, "detection": hits / max(1, len(streams)),
               "worst_group": min(((h / max(1, t), g) for g, (h, t) in groups.items() if t), default=(0.0, "-"))}
        for kind, parts in negatives.items():
            first = kept = 0
            for j, (audio, scores) in enumerate(parts):
                f, k = _confirmed(judge, kind, f"{kind}{j}", audio, scores, threshold, refractory, minimum)
                first, kept = first + f, kept + k
            row[f"fa_{kind}_first"] = first / max(hours[kind], 1e-9)
            row[f"fa_{kind}"] = kept / max(hours[kind], 1e-9)
        listened = sum(hours.values()) * 3600
        row["cpu"] = sum(v for k, v in judge.cpu.items() if k != "positive") / max(listened, 1e-9)
        rows.append(row)
    decode_ms = [v.decode_ms for v in judge.cache.values()]
    for row in rows:
        row["decode_ms_p50"] = float(np.median(decode_ms)) if decode_ms else 0.0
    return rows


HOW = {"words": "the words Whisper hears sound like the phrase: skeleton similarity >= min",
       "forced": "the phrase's mean log-probability per token under Whisper >= min"}


def report(label: str, method: str, rows: list[dict]) -> None:
    print(f"\nSecond look, {method} ({label}; confirmed when {HOW[method]}); "
          "CPU = the look's time on negatives over the hours listened, one core")
    print(f"{'first-stage thr':>16}{'min':>6}{'detect':>9}{'worst group':>22}{'FA/h syn 1st->2nd':>20}"
          f"{'FA/h real 1st->2nd':>21}{'2nd-look CPU':>14}{'decode p50':>12}")
    for r in rows:
        worst = f"{r['worst_group'][1]} {100 * r['worst_group'][0]:.0f} %"
        print(f"{r['threshold']:>16.3f}{r['minimum']:>6.2f}{100 * r['detection']:>8.1f}%{worst:>22}"
              f"{r.get('fa_synthetic_first', 0):>10.1f} -> {r.get('fa_synthetic', 0):<6.1f}"
              f"{r.get('fa_real_first', 0):>11.1f} -> {r.get('fa_real', 0):<6.1f}"
              f"{100 * r['cpu']:>13.2f}%{r['decode_ms_p50']:>10.0f} ms")
