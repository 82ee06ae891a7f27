"""The Wyoming adapter's model-free parts: audio conversion from any client format, and streamed text
released clause by clause. Fast; the services themselves are tested end to end in test_wyoming_server."""

from __future__ import annotations

import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart

from edge.wyoming.audio import InputStream, WyomingInputError, pcm16
from edge.wyoming.info import wake_name
from edge.wyoming.tts import TextStream
from tests.wyoming_rig import pcm


def tone(seconds: float = 1.0, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize(("rate", "width", "channels"), [(16000, 2, 1), (44100, 2, 2), (8000, 1, 1), (48000, 4, 6),
                                                         (22050, 3, 1)])
def test_any_client_format_becomes_16k_mono_float_with_the_same_signal(rate, width, channels):
    signal = tone()
    if width == 3:  # 24-bit: build it from 32-bit by dropping the low byte of each sample
        data = np.frombuffer(pcm(signal, rate, 4, channels), np.uint8).reshape(-1, 4)[:, 1:].tobytes()
    else:
        data = pcm(signal, rate, width, channels)
    stream = InputStream(AudioStart(rate=rate, width=width, channels=channels))
    step = width * channels * (rate // 50)  # 20 ms chunks
    frames = [stream.convert(AudioChunk(rate=rate, width=width, channels=channels, audio=data[i:i + step]))
              for i in range(0, len(data), step)]
    tail = stream.finish()
    out = np.concatenate([f.samples for f in frames] + ([tail.samples] if tail is not None else []))
    assert all(f.sample_rate == 16000 for f in frames) and out.dtype == np.float32
    assert abs(len(out) - len(signal)) <= 16 and stream.samples == len(out)
    middle = slice(1600, 14400)  # resampler edges aside
    tolerance = 0.02 if width == 1 else 0.002
    assert np.max(np.abs(out[middle] - signal[middle])) < tolerance
    assert [round(f.timestamp, 4) for f in frames[:2]] == [0.0, round(len(frames[0].samples) / 16000, 4)]


@pytest.mark.parametrize(("rate", "width", "channels", "words"), [
    (0, 2, 1, "sample rate 0 Hz"), (16000, 5, 1, "sample width 5"), (16000, 2, 0, "0 channels"),
    ("16000", 2, 1, "must be an integer"), (10**9, 2, 1, "not supported")])
def test_an_impossible_format_is_refused_at_audio_start(rate, width, channels, words):
    with pytest.raises(WyomingInputError, match=words):
        InputStream(AudioStart(rate=rate, width=width, channels=channels))


def test_bad_chunks_are_refused_and_the_stream_goes_on():
    stream = InputStream(AudioStart(rate=16000, width=2, channels=1))
    good = pcm16(tone(0.1))
    cases = [(AudioChunk(rate=8000, width=2, channels=1, audio=good), "audio-format-changed"),
             (AudioChunk(rate=16000, width=2, channels=1, audio=good + b"\x00"), "bad-audio-chunk"),
             (AudioChunk(rate=16000, width=2, channels=1, audio=bytes(11 * 2**20)), "chunk-too-large")]
    for chunk, code in cases:
        with pytest.raises(WyomingInputError) as refused:
            stream.convert(chunk)
        assert refused.value.code == code
    assert stream.samples == 0  # nothing was consumed from the refused chunks
    frame = stream.convert(AudioChunk(rate=16000, width=2, channels=1, audio=good))
    assert len(frame.samples) == 1600 and frame.timestamp == 0.0


def test_streamed_text_is_released_at_each_clause_or_sentence_end():
    stream = TextStream()
    assert stream.add("Sure,") == ""  # a comma is a break once the next word's space has come
    assert stream.add(" I added two bags") == "Sure,"
    assert stream.add(" of coffee") == ""
    assert stream.add(" to your cart. Anything") == "I added two bags of coffee to your cart."
    assert stream.add(" else for $4.99 or $1,000?") == ""  # no break inside a price
    assert stream.finish() == "Anything else for $4.99 or $1,000?"
    assert stream.finish() == ""


def test_streamed_text_without_any_clause_end_is_capped():
    stream = TextStream()
    with pytest.raises(WyomingInputError, match="without a clause end"):
        for _ in range(3000):
            stream.add("word word ")
    assert stream.add("fresh start. ") == "fresh start."


def test_wake_model_names_are_slugs_of_the_phrase():
    assert wake_name("hey shop") == "hey_shop" and wake_name("  Hey, Shop!  ") == "hey_shop"
    assert wake_name("Hello, Shopkeeper") == "hello_shopkeeper"



def test_cli_refuses_a_bad_uri_and_a_missing_catalog_with_the_fix(cli, tmp_path):
    bad = cli("edge", "wyoming", "--uri", "http://0.0.0.0:10700")
    assert bad.returncode == 2 and "use tcp://HOST:PORT or unix://PATH" in bad.stderr and bad.stdout == ""
    missing = cli("edge", "wyoming", "--uri", "tcp://127.0.0.1:10700", "--db", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stdout == "" and "Traceback" not in missing.stderr
    assert "No catalog at" in missing.stderr and "python -m edge wyoming --db" in missing.stderr
