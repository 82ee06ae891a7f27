"""`python -m bench.wake_look_dev [--positives N] [--hours H]`: the forced look's dev-side table, in full.

`python -m export wake-look` runs the rule (export.wake_look.RULE) on this machine's own build and
records the minimum the device uses; this prints everything behind such a choice for any amount of
material: the look's score distribution for positives, ordinary fires and confusable fires, and per
(first-stage threshold, minimum) the dev detection, false accepts per hour (synthetic, real) and
confusables confirmed (bench.wake_second_look.evaluate, the bench's own counting). TRAINING side only
(export.wake_look.material): the bench's held-out voices, sentences and recordings are never used.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bench.wake_second_look import evaluate, make_look
from edge.config import load_settings
from edge.wake import load_wake_model
from edge.wake.detector import fire_steps
from edge.wake.look_minimum import resolve
from export.wake_eval import batch_scores, detected
from export.wake_look import GRID, LOW_THRESHOLD, RULE, Judge, choose, material


def _log(message: str) -> None:
    print(f"[look dev] {message}", file=sys.stderr, flush=True)


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    v = np.array(values)
    return (f"n={len(v)}  min {v.min():.2f}  p5 {np.percentile(v, 5):.2f}  p25 {np.percentile(v, 25):.2f}  "
            f"median {np.median(v):.2f}  max {v.max():.2f}")


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
          f" -> chosen minimum {chosen:g} (the device now: {resolve(settings, model.manifest).value:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
