"""The wake word's decision rule (threshold, refractory period, re-arming) and frame checks, no models."""

from __future__ import annotations

import numpy as np
import pytest

from edge.events import AudioChunk
from edge.wake.detector import Trigger, WakeInputError, check_frame, fire_steps

STEPS_PER_SECOND = 12.5  # 80 ms steps


def test_fires_once_per_rise_above_threshold():
    scores = np.array([0.1, 0.2, 0.9, 0.95, 0.9, 0.2, 0.1])
    assert fire_steps(scores, 0.5, refractory_seconds=0.0) == [2]


def test_refractory_period_suppresses_a_second_rise_inside_it():
    scores = np.zeros(60)
    scores[[5, 20]] = 0.9  # second rise 15 steps = 1.2 s later
    assert fire_steps(scores, 0.5, refractory_seconds=2.0) == [5]
    assert fire_steps(scores, 0.5, refractory_seconds=1.0) == [5, 20]


def test_rearms_only_after_the_score_drops_even_when_refractory_is_short():
    # A score that stays high for 4 s must not fire again when the 1 s refractory period ends.
    scores = np.concatenate([np.zeros(5), np.full(50, 0.9), np.zeros(5), np.full(3, 0.9)])
    assert fire_steps(scores, 0.5, refractory_seconds=1.0) == [5, 60]


def test_refractory_is_counted_in_audio_steps():
    trigger = Trigger(0.5, refractory_seconds=2.0)
    assert trigger.refractory_steps == int(np.ceil(2.0 * STEPS_PER_SECOND))
    fired = [trigger.update(s) for s in [0.9] + [0.1] * 25 + [0.9]]
    assert fired[0] and not any(fired[1:26]) and fired[26]


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, 1.5])
def test_threshold_out_of_range_is_rejected(threshold):
    with pytest.raises(ValueError, match="between 0 and 1"):
        Trigger(threshold, 2.0)


@pytest.mark.parametrize(
    ("samples", "rate", "message"),
    [
        (np.zeros(1280, np.float32), 8000, "16000 Hz"),
        (np.zeros(0, np.float32), 16000, "empty"),
        (np.zeros((1280, 2), np.float32), 16000, "mono"),
        (np.zeros(1280, np.int16), 16000, "float samples"),
        (np.full(1280, np.nan, np.float32), 16000, "NaN"),
        (np.full(1280, 3000.0, np.float32), 16000, "int16 values"),
    ],
)
def test_bad_frames_get_a_clear_error(samples, rate, message):
    with pytest.raises(WakeInputError, match=message):
        check_frame(AudioChunk(samples=samples, sample_rate=rate, timestamp=0.0))


def test_good_frame_passes_as_float32():
    out = check_frame(AudioChunk(samples=np.zeros(640, np.float64), sample_rate=16000, timestamp=0.0))
    assert out.dtype == np.float32 and out.shape == (640,)
