"""Packaged wake words (bundle wake-packaged, from the wakeforge wheel) as `[wake] model` choices."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from bench.wake_models import Candidate, batch_scores
from edge.config import Settings, WakeSettings
from edge.events import AudioChunk
from edge.wake import PackagedModel, WakeBundleError, WakeDetector, detector_for_settings, load_for_settings
from edge.wake.packaged import load_packaged, packaged_names
from export import wake_packaged
from export.bundle import Manifest
from export.wake_data import PiperSynth, trim

RATE = 16000


@pytest.fixture(scope="module")
def packaged_dir(bundle):
    return bundle("wake-packaged")


@pytest.fixture(scope="module")
def piper():
    return PiperSynth()


def say(piper: PiperSynth, text: str) -> np.ndarray:
    audio = trim(piper(text, length_scale=1.0, noise_scale=0.0, noise_w=0.0))
    quiet = (np.random.default_rng(3).standard_normal(RATE) * 0.002).astype(np.float32)
    return np.concatenate([quiet, audio / np.abs(audio).max() * 0.4, quiet]).astype(np.float32)


def settings_for(packaged_dir, **wake) -> Settings:
    base = Settings()
    return dataclasses.replace(base, models=dataclasses.replace(base.models, dir=str(packaged_dir.parent)),
                               wake=dataclasses.replace(WakeSettings(), **wake))


def test_manifest_lists_every_model_with_its_calibrated_threshold_and_licence(packaged_dir):
    manifest = json.loads((packaged_dir / "manifest.json").read_text())
    models = manifest["extra"]["models"]
    assert set(models) == {"hey_mycroft", "hey_mycroft_synthetic", "alexa", "wake_up"}
    assert {m["phrase"] for m in models.values()} == {"hey mycroft", "alexa", "wake up"}
    assert all(0.9 < m["threshold"] < 1.0 for m in models.values())
    assert models["hey_mycroft"]["training_data"] == "human recordings"
    assert "Apache-2.0" in manifest["source"]["licence"]
    assert "Apache License" in (packaged_dir / "LICENSE.wakeforge").read_text()
    assert packaged_names(packaged_dir) == sorted(models)


def test_each_model_fires_on_its_phrase_and_not_on_another(packaged_dir, piper):
    for name, text in (("hey_mycroft", "Hey Mycroft."), ("alexa", "Alexa."), ("wake_up", "Wake up.")):
        model = load_packaged(packaged_dir, name)
        assert WakeDetector(model, model.threshold, 2.0).scores(say(piper, text)).max() >= model.threshold, name
        for other in ("Hey shop.", "Add two bags of rice to my cart."):
            assert WakeDetector(model, model.threshold, 2.0).scores(say(piper, other)).max() < model.threshold, \
                (name, other)


def test_streaming_equals_batch_and_frame_size_does_not_matter(packaged_dir, piper):
    model = load_packaged(packaged_dir, "alexa")
    audio = say(piper, "Alexa, what's in my cart?")
    streamed = WakeDetector(model, model.threshold, 2.0).scores(audio)
    assert np.abs(streamed - batch_scores(model, audio)).max() < 1e-4
    for frame in (480, 1600):
        detector = WakeDetector(model, model.threshold, 2.0)
        scores = []
        for offset in range(0, len(audio), frame):
            detector.process(AudioChunk(audio[offset: offset + frame], RATE, offset / RATE))
            scores.append(detector.last_score)
        assert scores[-1] == pytest.approx(float(streamed[len(audio) // 1280 - 1]), abs=1e-5)


def test_settings_choose_a_packaged_model_and_its_threshold(packaged_dir):
    settings = settings_for(packaged_dir, model="hey_mycroft", phrase="hey mycroft")
    model = load_for_settings(settings)
    assert isinstance(model, PackagedModel) and model.phrase == "hey mycroft"
    assert detector_for_settings(settings, model).threshold == pytest.approx(model.threshold)
    override = settings_for(packaged_dir, model="hey_mycroft", phrase="hey mycroft", packaged_threshold=0.8)
    assert detector_for_settings(override, model).threshold == pytest.approx(0.8)


def test_a_phrase_mismatch_or_unknown_model_is_refused_with_the_fix(packaged_dir):
    with pytest.raises(WakeBundleError, match='phrase = "hey mycroft"'):
        load_for_settings(settings_for(packaged_dir, model="hey_mycroft", phrase="hey shop"))
    with pytest.raises(WakeBundleError, match="hey_mycroft"):
        load_for_settings(settings_for(packaged_dir, model="hey_jarvis", phrase="hey jarvis"))


def test_cli_runs_the_chosen_packaged_model(cli, packaged_dir, piper, tmp_path):
    import wave

    audio = np.concatenate([say(piper, "Wake up."), say(piper, "Add milk to my cart.")])
    path = tmp_path / "wake_up.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    result = cli("edge", "wake", "--wav", str(path), "--json",
                 env={"VOICESHOP_MODELS__DIR": str(packaged_dir.parent), "VOICESHOP_WAKE__MODEL": "wake_up",
                      "VOICESHOP_WAKE__PHRASE": "wake up"})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["phrase"] for r in records if r["event"] == "wake"] == ["wake up"]
    assert records[-1]["event"] == "summary" and records[-1]["threshold"] > 0.9


def test_parity_check_catches_a_changed_head(packaged_dir, tmp_path):
    copy = tmp_path / "wake-packaged"
    shutil.copytree(packaged_dir, copy)
    assert wake_packaged.check_parity(copy, Manifest.load(copy)) == []
    probes = dict(np.load(copy / "parity.npz"))
    probes["alexa.scores"] = probes["alexa.scores"] * 0.5
    np.savez(copy / "parity.npz", **probes)
    assert any("alexa" in p for p in wake_packaged.check_parity(copy, Manifest.load(copy)))


def test_bench_candidate_carries_the_calibrated_threshold(packaged_dir):
    from bench.wake_models import candidates

    found = {c.label: c for c in candidates(packaged_dir.parent, [], None)}
    assert set(found) >= {"hey_mycroft", "alexa"}
    assert isinstance(found["alexa"], Candidate) and found["alexa"].threshold == pytest.approx(0.99)
