"""`python -m edge transcribe` and `python -m edge listen` as a user runs them (real bundles)."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest

from export.speech_corpus import PIPER_JOE, SENTENCES, clip, read_wav_16k
from export.wer import wer
from tests.conftest import MODELS_DIR

ENV = {"VOICESHOP_MODELS__DIR": str(MODELS_DIR)}


@pytest.fixture(scope="module")
def models(bundle):
    bundle("vad")
    bundle("asr")


def write_wav(path, samples: np.ndarray, rate: int = 16000, channels: int = 1, width: int = 2):
    """A WAV in any format (the recognizer must take 8-bit stereo 44.1 kHz as well as 16 kHz mono)."""
    import soxr

    audio = soxr.resample(samples, 16000, rate).astype(np.float32) if rate != 16000 else samples
    data = np.repeat(audio[:, None], channels, axis=1)
    if width == 1:
        pcm = np.clip(data * 127 + 128, 0, 255).astype(np.uint8)
    else:
        pcm = (np.clip(data, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def test_transcribe_json_one_object_per_file(models, cli, tmp_path):
    speech = np.concatenate([np.zeros(8000, np.float32), read_wav_16k(clip(SENTENCES[0], PIPER_JOE).path),
                             np.zeros(8000, np.float32)])
    mono = write_wav(tmp_path / "mono16k.wav", speech)
    odd = write_wav(tmp_path / "stereo44k-8bit.wav", speech, rate=44100, channels=2, width=1)
    silence = write_wav(tmp_path / "silence.wav", np.zeros(32000, np.float32))
    result = cli("edge", "transcribe", str(mono), str(odd), str(silence), "--json", env=ENV, timeout=600)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(mono), str(odd), str(silence)]
    for record in records[:2]:
        assert set(record) >= {"file", "text", "segments", "audio_seconds", "processing_seconds"}
        assert wer([(SENTENCES[0], record["text"])]) <= 0.25, record
        assert record["segments"] and {"start", "end", "text"} <= set(record["segments"][0])
        assert record["audio_seconds"] == pytest.approx(len(speech) / 16000, abs=0.05)
    assert records[2]["text"] == "" and records[2]["segments"] == []


def test_transcribe_bad_file_is_named_and_others_still_run(models, cli, tmp_path):
    good = write_wav(tmp_path / "good.wav", read_wav_16k(clip(SENTENCES[3], PIPER_JOE).path))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt ")
    result = cli("edge", "transcribe", str(broken), str(good), "--json", env=ENV, timeout=600)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in records[0] and "cart" in records[1]["text"].lower()
    assert "Traceback" not in result.stderr


def test_listen_streams_events_in_order(models, cli, tmp_path):
    speech = np.concatenate([read_wav_16k(clip(t, PIPER_JOE).path) for t in SENTENCES[:2]])
    path = write_wav(tmp_path / "two.wav", np.concatenate([np.zeros(8000, np.float32), speech,
                                                           np.zeros(16000, np.float32)]))
    result = cli("edge", "listen", "--wav", str(path), "--fast", "--json", env=ENV, timeout=600)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "speech_started" and "partial" in kinds and kinds[-1] == "endpoint"
    assert kinds.index("partial") < kinds.index("final")
    final = next(e for e in events if e["event"] == "final")
    assert "coffee" in final["text"].lower()


def test_commands_without_bundles_explain_how_to_build(cli, tmp_path):
    wav = write_wav(tmp_path / "x.wav", np.zeros(16000, np.float32))
    result = cli("edge", "transcribe", str(wav), env={"VOICESHOP_MODELS__DIR": str(tmp_path)})
    assert result.returncode == 2 and "python -m export vad" in result.stderr and result.stdout == ""
    result = cli("edge", "listen", "--wav", str(tmp_path / "missing.wav"), env=ENV)
    assert result.returncode == 2 and "no such file" in result.stderr
