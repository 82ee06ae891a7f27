"""Where the wake word's voices and real speech come from, and that held-out parts stay held out."""

from __future__ import annotations

import random

import numpy as np
import pytest

from export import wake_real, wake_voices
from export.wake_bench_data import GROUPS

RATE = 16000


def median_pitch(audio: np.ndarray) -> float:
    import parselmouth
    from parselmouth.praat import call

    pitch = call(parselmouth.Sound(audio.astype(np.float64), RATE), "To Pitch", 0.0, 50, 600)
    return float(call(pitch, "Get quantile", 0, 0, 0.5, "Hertz"))


def test_held_out_speakers_never_train():
    # flite's and festival's "kal" and "slt" are the same people: hold out by speaker, not by engine.
    assert not set(wake_voices.FLITE_HELDOUT) & set(wake_voices.FLITE_TRAIN)
    speakers = lambda names: {n.replace("cmu_us_", "").split("_")[0].rstrip("16") for n in names}  # noqa: E731
    train = speakers(wake_voices.FLITE_TRAIN) | speakers(wake_voices.FESTIVAL_TRAIN)
    heldout = speakers(wake_voices.FLITE_HELDOUT) | speakers(wake_voices.FESTIVAL_HELDOUT)
    assert train == {"awb", "kal", "ked"} and heldout == {"slt", "rms"}
    assert {"deep-male", "child", "flite-slt", "flite-rms", "festival-slt"} <= set(GROUPS)


def test_new_engines_speak_the_phrase():
    assert all(wake_voices.engines_available().values()), wake_voices.engines_available()
    flite = wake_voices.synth_flite("hey shop", "rms", 1.0)
    festival = wake_voices.synth_festival(["hey shop", "add milk to my cart"], "kal_diphone")
    for audio in (flite, *festival):
        assert 0.3 * RATE < len(audio) < 3 * RATE and np.abs(audio).max() > 0.05
    assert len(festival[1]) > len(festival[0])


@pytest.mark.parametrize(("make", "low", "high"), [(wake_voices.deep_male, 70, 115), (wake_voices.child, 220, 360)])
def test_perturbation_reaches_a_deep_male_and_a_child(make, low, high):
    audio = wake_voices.synth_flite("hello there, add some milk to my cart please", "slt", 1.0)
    assert 150 < median_pitch(audio) < 260  # slt is a female voice to start from
    settings = make(random.Random(4))
    shifted = wake_voices.perturb(audio, settings)
    assert low < median_pitch(shifted) < high, settings
    assert abs(len(shifted) / len(audio) - settings.duration) < 0.1


def test_real_speech_splits_by_speaker_and_keeps_a_held_out_part():
    clips = wake_real.load_real()
    seconds = wake_real.seconds_by(clips)
    assert seconds["heldout/ami"] >= 120 and seconds["train/ami"] >= 240
    assert seconds["heldout/gcin"] >= 300 and seconds["train/gcin"] >= 300
    held = {c.name for c in clips if c.split == "heldout" and c.source == "ami"}
    trained = {c.name for c in clips if c.split == "train" and c.source == "ami"}
    assert held == {"dev00", "dev01", "tst00", "tst01", "sample"} and all(n.startswith("tr") for n in trained)
    assert {c.name.split("-")[0] for c in clips if c.source == "gcin" and c.split == "heldout"} == {"speaker5"}
    assert {c.name.split("-")[0] for c in clips if c.source == "gcin" and c.split == "train"} == {"speaker3"}
    for clip in clips[:5]:  # real recordings, not silence
        assert np.sqrt(np.mean(clip.audio ** 2)) > 1e-3
