"""`python -m bench.wake_look_dev [--positives N] [--hours H]`: the forced second look's minimum, tuned on the dev side.

`[wake] second_look_min_logprob` must be chosen without the bench's held-out voices, sentences and
recordings (`bench wake --second-look` reports them once, afterwards). This measures the forced look
(edge.wake.phrase_score.ForcedLook, built as the device builds it: bench.wake_second_look.make_look)
on the TRAINING side of the wake corpus only:

- positives: training renderings of the phrase (espeak training variants, Piper joe in its training
  pitch band) in streams [other speech or quiet] + phrase + [a request], with the training
  augmentation (AugSpec.train), scored by the shipped head; a stream counts as detected as in the
  bench (export.wake_eval.detected);
- ordinary negatives that fire the first stage: training sentences, noise and music in the training
  augmentation (export.wake_augment.negative_stream, no confusables), and the training half of the
  real recordings (AMI trn*, gcin speaker 3: export.wake_real);
- confusables: the corpus' training renderings of the phrase's neighbours, plus near-phrases rendered
  here with training voices (NEAR), each alone in a training room.

Every first-stage fire (at the shipped threshold and at LOW_THRESHOLD) is judged once; printed: the
look's score distribution for positives and for ordinary / confusable fires, and per minimum in GRID
detection, false accepts per hour (synthetic, real) and confusables confirmed.

The rule, fixed before any measurement (RULE): the loosest minimum of GRID that keeps every ordinary
(synthetic and real) dev negative at least MARGIN nats below it, counting the fires at LOW_THRESHOLD (a
superset of the shipped threshold's). Confusables are reported but do not set it: near-phrases are the
first stage's to refuse, and a look strict enough to refuse "hello chopkeeper" refuses the phrase too.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np

from bench.wake_models import confusable_clips, positive_streams, real_stream
from bench.wake_second_look import Judge, evaluate, make_look
from edge.config import load_settings
from edge.wake import load_wake_model
from edge.wake.detector import fire_steps
from export.wake_augment import AugSpec, negative_stream
from export.wake_bench_data import Rendering
from export.wake_data import _render, espeak_variants, load_corpus, split_variants, trim
from export.wake_eval import batch_scores, detected
from export.wake_real import load_real

GRID = tuple(-4.0 - 0.5 * k for k in range(11))
"""Minimums tried: -4.0, -4.5, ..., -9.0."""
MARGIN = 0.5
LOW_THRESHOLD = 0.25
RULE = (f"the loosest minimum in {GRID[0]:g}..{GRID[-1]:g} (0.5 steps) with every ordinary dev negative (synthetic "
        f"and real, first-stage fires at {LOW_THRESHOLD}) at least {MARGIN} nats below it")
NEAR = ("hello shoppers", "hello sugar", "hello shopper", "hello shipper")
"""Near-phrases the training corpus lacks, rendered here with training voices (NEAR_VOICES each)."""
NEAR_VOICES = 9
PIECE_SECONDS = 600.0


def _log(message: str) -> None:
    print(f"[look dev] {message}", file=sys.stderr, flush=True)


def _near_renderings(seed: int = 17) -> list[Rendering]:
    """NEAR in training voices, as export.wake_data renders its confusables (every third by Piper)."""
    from export.wake_data import PiperSynth

    rng, piper = random.Random(seed), PiperSynth()
    train_voices = split_variants(espeak_variants())[0]
    out = []
    for text in NEAR:
        for k in range(NEAR_VOICES):
            audio, voice, _ = _render(rng, text, "train", piper, train_voices, k % 3 == 0)
            out.append(Rendering(trim(audio), text, voice.split(":")[0], "confusable"))
    return out


def material(phrase: str, positives: int, hours: float) -> dict:
    """Training-side audio only: positive streams, ordinary negatives (synthetic, real), confusable clips."""
    corpus = [u for u in load_corpus(phrase) if u.split == "train"]
    sentences = [u for u in corpus if u.kind == "sentence"]
    phrases = random.Random(7).sample([u for u in corpus if u.kind == "phrase"], positives)
    renderings = [Rendering(u.audio, u.text, u.voice.split(":")[0], u.kind) for u in phrases]
    streams = positive_streams(renderings, sentences, 1, seed=3031, spec=AugSpec.train())
    pieces = max(1, int(np.ceil(hours * 3600 / PIECE_SECONDS)))
    synthetic = [negative_stream(20_000 + i, sentences, [], hours * 3600 / pieces, AugSpec.train(), 0.0)
                 for i in range(pieces)]
    real = [real_stream([c for c in load_real() if c.source == s], split="train")[0] for s in ("ami", "gcin")]
    conf = [Rendering(u.audio, u.text, u.voice.split(":")[0], u.kind) for u in corpus if u.kind == "confusable"]
    clips = confusable_clips(conf + _near_renderings(), sentences, seed=3032, spec=AugSpec.train())
    return {"positives": streams, "synthetic": synthetic, "real": real, "confusables": clips}


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    v = np.array(values)
    return (f"n={len(v)}  min {v.min():.2f}  p5 {np.percentile(v, 5):.2f}  p25 {np.percentile(v, 25):.2f}  "
            f"median {np.median(v):.2f}  max {v.max():.2f}")


def choose(negative_scores: list[float]) -> float:
    """RULE: the loosest GRID minimum that is at least MARGIN above every ordinary dev negative's score."""
    top = max(negative_scores, default=-np.inf)
    allowed = [m for m in GRID if m - MARGIN >= top]
    return min(allowed) if allowed else max(GRID)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wake_look_dev", description=__doc__.split("\n")[0])
    parser.add_argument("--positives", type=int, default=200, help="training phrase renderings (default 200)")
    parser.add_argument("--hours", type=float, default=0.5, help="synthetic training-side negatives (default 0.5)")
    args = parser.parse_args(argv)
    settings = load_settings()
    model = load_wake_model(settings.models.path / "wake", threads=1)
    phrase, shipped = model.phrase, float(model.manifest.get("extra", {}).get("threshold", 0.5))
    refractory, tail = settings.wake.refractory_seconds, settings.wake.second_look_tail_seconds
    started = time.monotonic()
    m = material(phrase, args.positives, args.hours)
    _log(f"material in {time.monotonic() - started:.0f} s; scoring with the head")
    pos = [batch_scores(model, s.audio) for s in m["positives"]]
    negatives = {kind: [(a, batch_scores(model, a)) for a in m[kind]] for kind in ("synthetic", "real")}
    conf = [(audio, text, batch_scores(model, audio)) for audio, text in m["confusables"]]
    look = make_look(phrase, "forced")
    judge = Judge(look, tail)
    _log(f"judging every first-stage fire with the forced look ({time.monotonic() - started:.0f} s so far)")
    rows = evaluate(look, tail, [shipped, LOW_THRESHOLD], GRID, refractory, m["positives"], pos, negatives, judge)
    conf_scores = {t: [(text, judge("confusable", f"conf{j}", a, s)) for j, (a, text, sc) in enumerate(conf)
                       for s in fire_steps(sc, t, refractory)] for t in (shipped, LOW_THRESHOLD)}
    pos_best = []
    for i, (stream, sc) in enumerate(zip(m["positives"], pos, strict=True)):
        hits = [s for s in fire_steps(sc, LOW_THRESHOLD, refractory) if detected([s], stream)[0]]
        if hits:
            pos_best.append(max(judge("positive", f"pos{i}", stream.audio, s) for s in hits))
    ordinary = [(key, v) for (key, _), v in judge.cache.items() if not key.startswith(("pos", "conf"))]
    hours = {k: sum(len(a) for a, _ in v) / 16000 / 3600 for k, v in negatives.items()}
    print(f"\nForced second look on the TRAINING side, phrase {phrase!r}, head threshold {shipped:g}; "
          f"{len(m['positives'])} positive streams, {hours['synthetic']:.2f} h synthetic + "
          f"{60 * hours['real']:.1f} min real ordinary speech, {len(conf)} confusable clips; "
          f"window {settings.wake.second_look_window_seconds:g} s, tail {tail:g} s; "
          f"{time.monotonic() - started:.0f} s")
    print(f"look score, positives (best in-window fire at {LOW_THRESHOLD}): {_quantiles(pos_best)}")
    print(f"look score, ordinary fires at {LOW_THRESHOLD}: {_quantiles([v.score for _, v in ordinary])}")
    for key, v in sorted(ordinary, key=lambda kv: -kv[1].score)[:6]:
        print(f"    {v.score:7.2f}  {key:<12} heard {v.heard!r}")
    print(f"look score, confusable fires at {LOW_THRESHOLD}: {_quantiles([v for _, v in conf_scores[LOW_THRESHOLD]])}")
    by_text: dict[str, list[float]] = {}
    for text, v in conf_scores[LOW_THRESHOLD]:
        by_text.setdefault(text, []).append(v)
    print("    " + "; ".join(f"{t!r} {len(v)} fires, median {np.median(v):.2f}" for t, v in sorted(by_text.items())))
    print(f"\n{'first-stage thr':>16}{'min':>7}{'detect':>9}{'FA/h syn 1st->2nd':>20}{'FA/h real 1st->2nd':>21}"
          f"{'confusables confirmed':>24}")
    for r in rows:
        c = conf_scores[r["threshold"]]
        print(f"{r['threshold']:>16.3f}{r['minimum']:>7.2f}{100 * r['detection']:>8.1f}%"
              f"{r['fa_synthetic_first']:>10.1f} -> {r['fa_synthetic']:<6.1f}{r['fa_real_first']:>11.1f} -> "
              f"{r['fa_real']:<6.1f}{sum(v >= r['minimum'] for _, v in c):>15}/{len(c)} fires")
    chosen = choose([v.score for _, v in ordinary])
    print(f"\nRule: {RULE}.\nHighest ordinary dev negative {max((v.score for _, v in ordinary), default=-np.inf):.2f}"
          f" -> chosen minimum {chosen:g} (configured now: {settings.wake.second_look_min_logprob:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
