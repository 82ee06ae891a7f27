"""edge.asr.vad_ort against sherpa-onnx's VoiceActivityDetector on the same file: the same answer to every
call the recognizer makes, frame by frame, on clean, noisy and long audio; errors named at load."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from edge.asr import AsrError, recognizer_for_settings
from edge.asr.models import vad_maker
from edge.asr.vad_ort import SileroVadOrt
from edge.events import AudioChunk, FinalTranscript
from export.speech_corpus import ESPEAK_VOICES, PIPER_JOE, SENTENCES, clip, long_recording, read_wav_16k
from export.speech_noise import NOISY, apply
from tests.conftest import MODELS_DIR
from tests.conftest import asr_settings as settings


@pytest.fixture(scope="module")
def models(bundle):
    bundle("vad")
    return MODELS_DIR


def padded(audio: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros(8000, np.float32), audio, np.zeros(16000, np.float32)])


def trace(vad, audio: np.ndarray, frame: int) -> tuple[list, list]:
    """What the recognizer sees after each frame, and the segments (start, samples) in order, flush included."""
    calls, segments = [], []

    def drain() -> None:
        while not vad.empty():
            segment = vad.front
            segments.append((segment.start, np.asarray(segment.samples, np.float32)))
            vad.pop()

    for start in range(0, len(audio), frame):
        vad.accept_waveform(audio[start:start + frame])
        speech = vad.is_speech_detected()
        current = vad.current_segment
        calls.append((speech, current.start if speech else -1, len(current.samples) if speech else 0))
        drain()
    vad.flush()
    drain()
    return calls, segments


def both(runtime_settings: dict, pause: float, max_speech: float) -> tuple:
    makers = [vad_maker(settings(vad_runtime=runtime, **runtime_settings), pause, max_speech, max_speech + 10)
              for runtime in ("sherpa", "onnxruntime")]
    return makers[0](), makers[1]()


CASES = [
    ("clean piper", lambda: padded(read_wav_16k(clip(SENTENCES[0], PIPER_JOE).path)), 1280, 0.12, 38.0),
    ("clean espeak, 512-sample frames", lambda: padded(read_wav_16k(clip(SENTENCES[1], ESPEAK_VOICES[0]).path)),
     512, 0.12, 38.0),
    ("babble 10 dB", lambda: apply(padded(read_wav_16k(clip(SENTENCES[2], ESPEAK_VOICES[1]).path)), NOISY[3], "vt"),
     1000, 0.5, 38.0),
    ("sentences 0.8 s apart", lambda: long_recording(20.0)[0], 1280, 0.12, 38.0),
    ("run-on speech past max_speech", lambda: long_recording(20.0, pause=0.05)[0], 1000, 0.5, 6.0),
]


@pytest.mark.parametrize(("audio", "frame", "pause", "max_speech"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_call_answers_as_sherpa_does(models, audio, frame, pause, max_speech):
    sherpa, ours = both({}, pause, max_speech)
    samples = audio()
    expected, got = trace(sherpa, samples, frame), trace(ours, samples, frame)
    assert got[0] == expected[0]
    assert [(start, len(s)) for start, s in got[1]] == [(start, len(s)) for start, s in expected[1]]
    assert len(expected[1]) >= 1
    for (_, want), (_, have) in zip(expected[1], got[1], strict=True):
        np.testing.assert_allclose(have, want, atol=1e-7)


def test_the_limit_cuts_run_on_speech(models):
    # max_speech 6 s on 20 s of speech without real pauses: sherpa's 0.1 s / 0.9 switch must cut it
    _sherpa, ours = both({}, 0.5, 6.0)
    _calls, segments = trace(ours, long_recording(20.0, pause=0.05)[0], 1000)
    assert len(segments) >= 3
    assert max(len(s) for _, s in segments) < 12 * 16000


def test_reset_starts_the_clock_again(models):
    _sherpa, ours = both({}, 0.12, 38.0)
    audio = padded(read_wav_16k(clip(SENTENCES[0], PIPER_JOE).path))
    first = trace(ours, audio, 1280)
    ours.accept_waveform(audio[:20000])
    ours.reset()
    assert ours.empty() and not ours.is_speech_detected() and ours.current_segment.start == -1
    assert trace(ours, audio, 1280)[0] == first[0]


def test_detectors_from_one_maker_keep_their_own_state(models):
    make = vad_maker(settings(vad_runtime="onnxruntime"), 0.12, 38.0, 48.0)
    one, two = make(), make()
    audio = padded(read_wav_16k(clip(SENTENCES[3], PIPER_JOE).path))
    alone = trace(make(), audio, 1280)
    calls_one, calls_two = [], []
    for start in range(0, len(audio), 1280):  # interleaved on the shared session
        one.accept_waveform(audio[start:start + 1280])
        two.accept_waveform(np.zeros(1280, np.float32))
        calls_one.append((one.is_speech_detected(), one.current_segment.start if one.is_speech_detected() else -1))
        calls_two.append(two.is_speech_detected())
    assert calls_one == [(speech, start) for speech, start, _n in alone[0]]
    assert not any(calls_two)


def test_the_recognizer_hears_the_same_words_on_either_vad(models, bundle):
    bundle("asr")
    audio = padded(read_wav_16k(clip(SENTENCES[0], PIPER_JOE).path))
    finals = {}
    for runtime in ("sherpa", "onnxruntime"):
        recognizer = recognizer_for_settings(settings(vad_runtime=runtime))
        events = []
        for start in range(0, len(audio), 1280):
            events += recognizer.process(AudioChunk(audio[start:start + 1280], 16000, start / 16000))
        events += recognizer.flush()
        finals[runtime] = [(e.text, e.start, e.end) for e in events if isinstance(e, FinalTranscript)]
    assert finals["onnxruntime"] == finals["sherpa"]
    assert len(finals["sherpa"]) == 1


@pytest.mark.parametrize("name", ["silero_vad_16k_sequence.onnx", "silero_vad.onnx"])
def test_a_wrong_file_is_named_at_load(models, tmp_path, name):
    vad = tmp_path / "vad"
    shutil.copytree(MODELS_DIR / "vad", vad)
    runtime = "onnxruntime" if "sequence" in name else "sherpa"
    (vad / name).write_bytes(b"not onnx")
    with pytest.raises(AsrError, match=f"{name}.*python -m export vad"):
        vad_maker(settings(tmp_path, vad_runtime=runtime), 0.12, 38.0, 48.0)
    (vad / name).unlink()
    with pytest.raises(AsrError, match="missing"):
        vad_maker(settings(tmp_path, vad_runtime=runtime), 0.12, 38.0, 48.0)


def test_the_runtime_takes_the_sequence_file_and_an_older_bundle_the_single_window_one(models, tmp_path):
    """Both Silero files give the same segments (export.vad checks the probabilities agree); a bundle built
    before the sequence file existed still runs, on the single-window file."""
    import json

    audio = long_recording(20.0)[0]
    sequence = vad_maker(settings(vad_runtime="onnxruntime"), 0.12, 38.0, 48.0)()
    assert sequence._sequence
    vad = tmp_path / "vad"
    shutil.copytree(MODELS_DIR / "vad", vad)
    manifest = json.loads((vad / "manifest.json").read_text())
    del manifest["files"]["silero_vad_16k_sequence.onnx"]
    (vad / "manifest.json").write_text(json.dumps(manifest))
    single = vad_maker(settings(tmp_path, vad_runtime="onnxruntime"), 0.12, 38.0, 48.0)()
    assert not single._sequence
    (calls_a, segments_a), (calls_b, segments_b) = trace(sequence, audio, 1280), trace(single, audio, 1280)
    assert calls_a == calls_b and len(segments_a) == len(segments_b) >= 3
    for (start_a, samples_a), (start_b, samples_b) in zip(segments_a, segments_b, strict=True):
        assert start_a == start_b and np.array_equal(samples_a, samples_b)


def test_a_graph_with_other_inputs_is_refused():
    class Session:
        def get_inputs(self):
            return [type("I", (), {"name": n})() for n in ("x", "h", "c")]

    with pytest.raises(ValueError, match="Silero v5"):
        SileroVadOrt(Session())  # the sequence file's inputs are input/h/c: x is neither file


def test_onnxruntime_is_the_default():
    assert settings().asr.vad_runtime == "onnxruntime"
    with pytest.raises(Exception, match="vad_runtime"):
        settings(vad_runtime="tflite")
