"""The wake bench's arithmetic (DET points, the plot, the real-speech stream), on made-up scores."""

from __future__ import annotations

import numpy as np

from bench.wake_plot import det_points, save_det_plot, thresholds_for
from export.wake_eval import PositiveStream
from export.wake_real import RealClip
from export.wake_streams import real_stream

STEPS_PER_SECOND = 12.5


def test_det_points_trade_detection_for_false_accepts():
    rng = np.random.default_rng(0)
    # Ten positives whose peak (just after the phrase) ranges from 0.3 to 0.99.
    streams, pos = [], []
    for peak in np.linspace(0.3, 0.99, 10):
        scores = np.full(40, 0.01, np.float32)
        scores[20:23] = peak  # steps 20-22 end 1.68-1.84 s; the phrase ends at 1.6 s
        pos.append(scores)
        streams.append(PositiveStream(np.zeros(1), 0.8, 1.6, "espeak"))
    negatives = rng.uniform(0, 1, 3600 * 12).astype(np.float32) ** 8  # an hour of mostly low scores
    points = det_points(pos, streams, negatives, thresholds_for(0.5), refractory=2.0)
    thresholds = [t for t, _, _ in points]
    assert thresholds == sorted(thresholds) and 0.5 in thresholds
    fa = [f for _, f, _ in points]
    detect = [d for _, _, d in points]
    assert all(a >= b for a, b in zip(fa, fa[1:], strict=False))  # higher threshold, fewer false accepts
    assert all(a >= b for a, b in zip(detect, detect[1:], strict=False))
    assert detect[0] == 1.0 and detect[-1] == 0.0
    at_half = next(d for t, f, d in points if t == 0.5)
    assert at_half == 0.7  # the peaks 0.53 ... 0.99


def test_det_plot_is_written_as_png(tmp_path):
    curve = [(0.3, 50.0, 0.99), (0.5, 5.0, 0.95), (0.9, 0.0, 0.6)]
    path = save_det_plot(tmp_path / "det.png", {"a": {"synthetic": curve, "real": curve}}, {"a": 0.5},
                         {"synthetic": 1.0, "real": 0.2})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_real_stream_uses_only_held_out_clips():
    clips = [RealClip(np.full(16000, 0.1, np.float32), "ami", "heldout", "dev00"),
             RealClip(np.full(8000, 0.2, np.float32), "gcin", "heldout", "speaker5-0"),
             RealClip(np.full(48000, 0.3, np.float32), "ami", "train", "trn01")]
    audio, seconds = real_stream(clips)
    assert seconds["ami"] == 1.0 and 0.5 + 0.3 <= seconds["gcin"] <= 0.5 + 1.5
    assert len(audio) == int(round((seconds["ami"] + seconds["gcin"]) * 16000))
    assert not np.any(np.isclose(audio, 0.3))  # the training clip is not in it


def test_equal_detection_finds_the_highest_threshold_that_reaches_each_rate():
    from bench.wake_operating import at_detection, threshold_for

    streams, pos = [], []
    for peak in np.linspace(0.1, 0.91, 10):  # peaks 0.1, 0.19, ..., 0.91
        scores = np.full(40, 0.01, np.float32)
        scores[20:23] = peak
        pos.append(scores)
        streams.append(PositiveStream(np.zeros(1), 0.8, 1.6, "espeak"))
    negatives = np.zeros(4500, np.float32)  # six minutes of 80 ms steps
    negatives[::750] = 0.5  # one score of 0.5 a minute (refractory 2 s: each one fires)
    at_90 = threshold_for(pos, streams, 0.9, refractory=2.0)
    assert at_90 is not None and 0.18 < at_90 <= 0.19  # the second-lowest peak must still fire
    assert threshold_for(pos, streams, 1.0, refractory=2.0) <= 0.1  # the lowest peak
    rows = at_detection(pos, streams, {"synthetic": negatives, "real": negatives[:0] + 0.0}, 2.0, (0.9, 0.5))
    assert rows[0]["detection"] == 0.9 and rows[0]["fa_synthetic"] == 60.0  # 0.5 >= 0.19: every minute fires
    assert 0.54 < rows[1]["threshold"] < 0.551 and rows[1]["fa_synthetic"] == 0.0  # the fifth-highest peak is 0.55
    silent = [np.full(40, 0.01, np.float32)] * 10
    assert threshold_for(silent, streams, 0.5, refractory=2.0) is None  # never detected: says so
