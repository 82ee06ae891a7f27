"""The wake bench's DET plot: detection rate against false accepts per hour, one curve per model.

Each curve sweeps the threshold over the model's own score range (packaged heads are calibrated
near 1, ours near 0.5), so models are compared at equal false-accept rates rather than at
equal thresholds; a dot marks the threshold each model ships with. Two panels: ordinary synthetic
speech and real recorded speech, because the two disagree (issue 17).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.wake.detector import fire_steps
from export.wake_eval import STEP_SECONDS, PositiveStream, detected


def thresholds_for(operating: float) -> np.ndarray:
    """A grid even in logit space from 0.02 to 0.9999, plus the shipped threshold."""
    grid = 1 / (1 + np.exp(-np.linspace(-4, 9.2, 36)))
    return np.unique(np.append(grid, operating))


def detection_rate(scores: list[np.ndarray], streams: list[PositiveStream], threshold: float,
                   refractory: float) -> float:
    hits = sum(detected(fire_steps(s, threshold, refractory), st)[0] for s, st in zip(scores, streams, strict=True))
    return hits / max(1, len(streams))


def fa_per_hour(scores: np.ndarray, threshold: float, refractory: float) -> float:
    hours = len(scores) * STEP_SECONDS / 3600
    return len(fire_steps(scores, threshold, refractory)) / hours if hours else float("nan")


def det_points(pos_scores: list[np.ndarray], streams: list[PositiveStream], neg_scores: np.ndarray,
               thresholds: np.ndarray, refractory: float) -> list[tuple[float, float, float]]:
    """(threshold, false accepts per hour, detection rate) for each threshold."""
    return [(float(t), fa_per_hour(neg_scores, t, refractory), detection_rate(pos_scores, streams, t, refractory))
            for t in thresholds]


def save_det_plot(path: Path, curves: dict[str, dict[str, list[tuple[float, float, float]]]],
                  operating: dict[str, float], hours: dict[str, float]) -> Path:
    """curves[model][panel] = det_points(...); panels "synthetic" and "real"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, panel in zip(axes, ("synthetic", "real"), strict=True):
        floor = 0.5 / hours[panel]  # zero false accepts plotted at half of one per measured time
        for label, panels in curves.items():
            points = panels[panel]
            x = [max(fa, floor) for _, fa, _ in points]
            y = [100 * d for _, _, d in points]
            line, = ax.plot(x, y, marker=".", label=label)
            at = min(points, key=lambda p: abs(p[0] - operating[label]))
            ax.plot(max(at[1], floor), 100 * at[2], "o", ms=9, color=line.get_color(), mfc="none", mew=2)
        ax.axvline(0.1, color="grey", ls="--", lw=1)
        ax.axhline(97, color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel(f"false accepts per hour ({panel} speech, {hours[panel]:.2f} h; "
                      f"zero drawn at {floor:.2g})")
        ax.set_title(f"{'ordinary synthetic speech' if panel == 'synthetic' else 'real recorded speech'}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("detection of the model's own phrase, held-out voices (%)")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle("Wake word DET: circles = shipped threshold; goal: >= 97 % at <= 0.1 /h (dashed)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
