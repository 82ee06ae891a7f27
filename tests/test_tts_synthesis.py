"""edge/tts on the real bundle: non-silent audio at the right rate, chunked decoding equal to the whole
graph, clause and chunk streaming, barge-in, errors, CLI."""

from __future__ import annotations

import json
import threading
import time
import wave

import numpy as np
import pytest

from edge.audio import NullSink, WavSink, read_audio
from edge.tts import Synthesizer, TtsBundleError, Voice, load_bundle, play

pytestmark = pytest.mark.slow

LONG_REPLY = ("I found three kinds of oat milk: Oatly Barista Edition, 64 fl oz, for $4.99; Silk Oat Yeah, "
              "64 fl oz, for $3.79; and Planet Oat Original, 52 fl oz, for $3.49. Which one would you like? "
              "I can also add a 6 pk of almond milk for $12.00 if you want.")


@pytest.fixture(scope="module")
def voice(bundle):
    # Noise at 0 makes every rendering identical, so tests can compare runs exactly.
    return Voice(load_bundle(bundle("tts")), threads=1, noise_scale=0.0, noise_w=0.0)


@pytest.fixture(scope="module")
def tts_whole(bundle):
    """The bundle's whole graph on plain onnxruntime at noise 0 (piper-tts's way): text -> samples."""
    import onnxruntime as ort

    from edge.tts.voice import phoneme_ids, read_tokens

    tts = load_bundle(bundle("tts"))
    session = ort.InferenceSession(str(tts.model), providers=["CPUExecutionProvider"])
    table = read_tokens(tts.tokens)

    def run(text):
        parts = []
        for phonemes in _phonemes(tts, text):
            ids = phoneme_ids(phonemes, table)
            feeds = {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
                     "scales": np.array([0.0, tts.length_scale, 0.0], dtype=np.float32)}
            parts.append(session.run(None, feeds)[0].reshape(-1))
        return np.concatenate(parts)
    return run


def _phonemes(tts, text):
    from edge.tts.voice import Phonemizer

    return Phonemizer(tts.espeak_voice).phonemes(text)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_synthesis_is_speech_at_the_voice_rate(voice):
    samples = voice.synthesize("Your order is on its way.")
    assert voice.sample_rate == 22050 and samples.dtype == np.float32
    seconds = len(samples) / 22050
    assert 1.0 < seconds < 3.5
    assert rms(samples) > 0.02 and np.abs(samples).max() <= 1.0
    again = voice.synthesize("Your order is on its way.")
    assert np.array_equal(samples, again)


@pytest.mark.parametrize("rate", [16000, 22050, 44100, 48000])
def test_reply_is_resampled_to_the_sink_rate(voice, rate):
    speech = Synthesizer(voice, output_rate=rate).speak("Two bags of coffee, $8.98.")
    chunks = list(speech)
    assert chunks and all(c.sample_rate == rate for c in chunks) and chunks[-1].is_last
    total = np.concatenate([c.samples for c in chunks])
    native = Synthesizer(voice, output_rate=22050).speak("Two bags of coffee, $8.98.").samples()
    assert abs(len(total) - len(native) * rate / 22050) <= 2 + 0.002 * len(total)
    assert rms(total) > 0.02


def test_prices_are_spoken_as_words(voice):
    synth = Synthesizer(voice)
    written = synth.speak("It costs $4.99.").samples()
    spoken = synth.speak("It costs four ninety-nine.").samples()
    assert np.array_equal(written, spoken)


def test_first_clause_arrives_before_the_reply_is_done(voice):
    synth = Synthesizer(voice, first_clause_words=4, max_clause_words=14, lookahead=2)
    speech = synth.speak(LONG_REPLY)
    assert len(speech.text_clauses) >= 6
    iterator = iter(speech)
    first = next(iterator)
    synthesized_at_first = speech.stats.clauses_synthesized
    assert len(first.text.split()) <= 4 and not first.is_last
    assert synthesized_at_first < speech.stats.clauses  # the rest was still to come
    rest = list(iterator)
    assert rest[-1].is_last and not any(c.is_last for c in rest[:-1])
    assert len(rest) + 1 >= speech.stats.clauses  # one item per decoder chunk, at least one per clause
    assert speech.stats.first_audio_seconds < speech.stats.synthesis_seconds
    texts = [c.text for c in [first, *rest]]
    assert [t for i, t in enumerate(texts) if i == 0 or texts[i - 1] != t] == speech.text_clauses


def test_barge_in_stops_within_100_ms(voice, tmp_path):
    synth = Synthesizer(voice, first_clause_words=4, max_clause_words=14, lookahead=2)
    sink = WavSink(tmp_path / "reply.wav", 22050)
    speech = synth.speak(LONG_REPLY)
    received: list[float] = []
    finished = threading.Event()
    original_write = sink.write

    def write(samples):
        received.append(time.perf_counter())
        original_write(samples)

    sink.write = write  # record when audio reaches the sink; the sink itself is the real WAV writer

    def listen():
        play(speech, sink)
        finished.set()

    listener = threading.Thread(target=listen)
    listener.start()
    deadline = time.monotonic() + 60
    while not received and time.monotonic() < deadline:
        time.sleep(0.005)
    assert received, "no audio within 60 s"
    cancelled_at = time.perf_counter()
    speech.cancel()
    assert finished.wait(1.0)
    stopped_after = time.perf_counter() - cancelled_at
    listener.join()
    sink.close()
    assert stopped_after < 0.1, f"barge-in took {stopped_after * 1000:.0f} ms"
    assert all(t <= cancelled_at for t in received)  # nothing reached the sink after the cancel
    assert sink.stopped
    assert speech.wait(timeout=30)  # the clause in flight finishes in the background, then nothing more
    assert speech.stats.cancelled and speech.stats.clauses_synthesized < speech.stats.clauses
    with wave.open(str(tmp_path / "reply.wav")) as fh:  # what was said before the barge-in is kept
        assert fh.getnframes() > 0


def test_walking_away_from_a_reply_frees_the_worker(voice):
    speech = Synthesizer(voice).speak(LONG_REPLY)
    for _chunk in speech:
        break
    assert speech.cancelled and speech.wait(timeout=30)


def test_chunked_decoding_is_the_whole_graph(voice, tts_whole):
    # The device runs latent + decoder windows; the bundle's model.onnx is the same voice in one graph.
    text = "Organic whole milk, one gallon, costs three forty-nine, and the eggs are four dollars a dozen."
    chunks = list(voice.chunks(text))
    plan = voice.bundle.plan
    assert len(chunks) >= 3 and [last for _a, last in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[0][0].size == plan.first_frames * plan.hop  # the first window is the short one
    ours = np.concatenate([a for a, _last in chunks])
    whole = tts_whole(text)
    assert ours.size == whole.size
    assert np.max(np.abs(ours - whole)) < 1e-3  # float rounding; a seam without context is ~1e-1


def test_a_stop_lands_between_chunks_of_one_clause(voice):
    text = "I found three kinds of oat milk, and the barista edition is four ninety-nine for sixty-four ounces."
    full = list(voice.chunks(text))
    taken: list[np.ndarray] = []
    for audio, last in voice.chunks(text, should_stop=lambda: len(taken) >= 1):
        taken.append(audio)
        assert not last
    assert len(taken) == 1 < len(full)
    assert np.array_equal(taken[0], full[0][0])


def test_unspeakable_reply_yields_nothing(voice):
    speech = Synthesizer(voice).speak(" ... !? ")
    assert speech.text_clauses == [] and list(speech) == []


def test_bundle_errors_name_the_fix(tmp_path):
    with pytest.raises(TtsBundleError, match="python -m export tts"):
        load_bundle(tmp_path / "nothing-here")
    (tmp_path / "manifest.json").write_text(json.dumps({"bundle": "asr", "files": {}}))
    with pytest.raises(TtsBundleError, match="not 'tts'"):
        load_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"bundle": "tts", "files": {}}))
    with pytest.raises(TtsBundleError, match="no 'model' file"):
        load_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(TtsBundleError, match="unreadable"):
        load_bundle(tmp_path)


def test_null_sink_receives_the_whole_reply(voice):
    sink = NullSink(16000)
    stats = play(Synthesizer(voice, output_rate=16000).speak("Anything else?"), sink)
    assert sink.seconds == pytest.approx(stats.audio_seconds) and sink.seconds > 0.4


def test_say_command_writes_wav_and_json(cli, bundle, tmp_path):
    models = bundle("tts").parent
    out = tmp_path / "say.wav"
    env = {"VOICESHOP_MODELS__DIR": str(models), "VOICESHOP_AUDIO__OUTPUT_RATE": "16000"}
    result = cli("edge", "say", "Sure, I added 2 bags of coffee for $12.00.", "-o", str(out), "--json", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert {"audio_seconds", "first_audio_ms", "processing_seconds", "sample_rate"} <= set(record)
    assert record["sample_rate"] == 16000 and record["first_audio_ms"] > 0 and record["processing_seconds"] > 0
    with wave.open(str(out)) as fh:
        assert fh.getframerate() == 16000
        assert fh.getnframes() / 16000 == pytest.approx(record["audio_seconds"], abs=0.01)
    assert rms(read_audio(out)) > 0.02


def test_say_command_bad_input_exits_2(cli, bundle):
    env = {"VOICESHOP_MODELS__DIR": str(bundle("tts").parent)}
    empty = cli("edge", "say", "   ", "--json", env=env)
    assert empty.returncode == 2 and empty.stdout == "" and "nothing to say" in empty.stderr
    missing = cli("edge", "say", "hello", "--null", "--json", env={"VOICESHOP_MODELS__DIR": "/nonexistent"})
    assert missing.returncode == 2 and "python -m export tts" in missing.stderr and "Traceback" not in missing.stderr
