"""The room-taught encoder study (export/whisper_tune.py, export/tune_audio.py, export/real_transcribed.py).

Fast checks of what the study's figures rest on: the pairs are aligned and never use a voice the bench
judges with, the real pairs never read the held-out recordings, the training path computes what the
exported encoder computes, training touches the encoder only, and a tuned encoder is made once per recipe.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from export import tune_audio, whisper_tune
from export.real_transcribed import _sphinx_lines
from export.wake_real import RealClip


def test_room_keeps_the_direct_path_and_its_ratio() -> None:
    response = tune_audio.room(0.5, -10.0, np.random.default_rng(1))
    assert response[0] == 1.0
    tail = float(np.sum(response[1:].astype(np.float64) ** 2))
    # -10 dB DRR: ten times the direct energy in the decaying tail, plus 3-7 early reflections of 0.1-0.6
    assert 9.9 <= tail <= 10.0 + 7 * 0.6 ** 2 + 0.1


def test_pairs_are_aligned_and_use_training_voices_only() -> None:
    made = list(tune_audio.pairs(6, seed=3))
    assert len(made) == 6
    for pair in made:
        assert pair.heard.shape == pair.dry.shape and pair.heard.dtype == np.float32
        assert pair.voice not in tune_audio.BENCH_VOICES
        assert np.max(np.abs(pair.heard)) <= 0.99 and np.any(pair.dry)


def test_real_pairs_never_read_the_held_out_split(monkeypatch: pytest.MonkeyPatch) -> None:
    rate = tune_audio.RATE
    train = RealClip(np.full(8 * rate, 0.1, np.float32), "ami", "train", "trn01")
    held = RealClip(np.full(8 * rate, 0.7, np.float32), "ami", "heldout", "dev01")
    monkeypatch.setattr("export.wake_real.load_real", lambda: [held, train])
    for pair in tune_audio.real_pairs(5, seed=2, far_share=0.0, noise_share=0.0):
        assert pair.voice == "real" and np.array_equal(pair.heard, pair.dry)
        speech = pair.dry[np.abs(pair.dry) > 0]
        assert np.allclose(speech, speech[0])  # one constant piece: the training clip's, rescaled


@pytest.fixture(scope="module")
def whisper_model():  # -> whisper.model.Whisper
    from export.asr import model_dir
    from export.whisper_torch import load_whisper

    return load_whisper(model_dir())


def test_training_encodes_as_the_exported_encoder_does(whisper_model) -> None:
    from export.whisper_onnx import WhisperEncoder

    mel = torch.randn(1, 80, 300) * 0.3
    with torch.no_grad():
        frames = whisper_tune._encode(whisper_model, mel)
        keys, values = WhisperEncoder(whisper_model)(mel)
        ours = torch.stack([b.cross_attn.key(frames) for b in whisper_model.decoder.blocks])
    assert frames.shape == (1, 150, 384)
    assert torch.allclose(ours, keys, atol=1e-4)


def test_training_changes_the_encoder_only(whisper_model, monkeypatch: pytest.MonkeyPatch) -> None:
    import whisper.model as wm

    model = wm.Whisper(whisper_model.dims)
    model.load_state_dict(whisper_model.state_dict())
    rng = np.random.default_rng(0)

    def fake(count: int, seed: int):
        for _ in range(count):
            dry = (rng.standard_normal(16000) * 0.05).astype(np.float32)
            yield tune_audio.Pair(dry + (rng.standard_normal(16000) * 0.05).astype(np.float32), dry, "x", "near")

    monkeypatch.setattr(tune_audio, "pairs", fake)
    monkeypatch.setattr(tune_audio, "real_pairs", fake)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    figures = whisper_tune.train(model, dataclasses.replace(whisper_tune.TUNE, clips=4, batch=2, real_share=0.5,
                                                            tail_padding_frames=50))
    after = model.state_dict()
    assert figures["steps"] == 2 and figures["pairs"] == 4 and figures["real_pairs"] == 2
    assert all(torch.equal(before[k], after[k]) for k in after if k.startswith("decoder."))
    assert any(not torch.equal(before[k], after[k]) for k in after if k.startswith("encoder."))
    assert not any(p.requires_grad for p in model.parameters())


def test_a_tuned_encoder_is_made_once_per_recipe(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import whisper.model as wm

    dims = wm.ModelDimensions(n_mels=80, n_audio_ctx=8, n_audio_state=8, n_audio_head=2, n_audio_layer=1,
                              n_vocab=16, n_text_ctx=4, n_text_state=8, n_text_head=2, n_text_layer=1)
    calls = []

    def fake_train(model: wm.Whisper, spec: whisper_tune.TuneSpec) -> dict[str, float]:
        calls.append(spec)
        with torch.no_grad():
            model.encoder.ln_post.bias.fill_(0.5)
        return {"steps": 1}

    monkeypatch.setattr(whisper_tune, "CACHE", tmp_path)
    monkeypatch.setattr(whisper_tune, "train", fake_train)
    first = whisper_tune.tuned(wm.Whisper(dims), "source-a")
    again = wm.Whisper(dims)
    second = whisper_tune.tuned(again, "source-a")
    assert len(calls) == 1 and first == second
    assert torch.all(again.encoder.ln_post.bias == 0.5)
    whisper_tune.tuned(wm.Whisper(dims), "source-a", dataclasses.replace(whisper_tune.TUNE, threads=2))
    assert len(calls) == 1  # threads change speed, not the recipe
    whisper_tune.tuned(wm.Whisper(dims), "source-b")
    assert len(calls) == 2


def test_sphinx_transcriptions_parse() -> None:
    text = "<s> ten of clubs  </s> (001)\n<s> he was not an ill disposed young man </s> (sense-0880)\n"
    assert _sphinx_lines(text) == [("001", "ten of clubs"), ("sense-0880", "he was not an ill disposed young man")]


def test_the_excluded_voices_cover_every_bench_task_voice() -> None:
    from bench.task_audio import EXTRA_VOICES, VOICES
    from bench.task_dev import DEV_VOICES

    assert {v.label for v in VOICES + EXTRA_VOICES + DEV_VOICES} <= tune_audio.BENCH_VOICES


def test_a_recording_not_in_the_expected_format_is_refused_by_name() -> None:
    import io
    import wave

    from export.real_transcribed import _wav

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    with pytest.raises(ValueError, match="cards/001: expected 16 kHz mono 16-bit"):
        _wav(buffer.getvalue(), "cards/001")
