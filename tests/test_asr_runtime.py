"""edge.asr on the real bundles: words from speech, none from silence or noise, long files, partials,
endpointing as configured, splits at the segment limit, and bad input handled."""

from __future__ import annotations

import numpy as np
import pytest

from edge.asr import recognizer_for_settings
from edge.events import AudioChunk, Endpoint, FinalTranscript, PartialTranscript, SpeechStarted
from export.speech_corpus import PIPER_JOE, SENTENCES, clip, long_recording, read_wav_16k
from export.wer import wer
from tests.conftest import asr_settings as settings

FRAME = 1280  # 80 ms, the device's default frame


@pytest.fixture(scope="module")
def recognizer(models):
    return recognizer_for_settings(settings())


def feed(recognizer, audio: np.ndarray, flush: bool = True) -> list:
    recognizer.reset()
    events = []
    for start in range(0, len(audio), FRAME):
        events += recognizer.process(AudioChunk(audio[start:start + FRAME], 16000, start / 16000))
    if flush:
        events += recognizer.flush()
    return events


def finals(events: list) -> list[FinalTranscript]:
    return [e for e in events if isinstance(e, FinalTranscript)]


def with_silence(audio: np.ndarray, before: float = 0.5, after: float = 1.0) -> np.ndarray:
    return np.concatenate([np.zeros(int(before * 16000), np.float32), audio,
                           np.zeros(int(after * 16000), np.float32)])


def test_synthesized_sentences_are_recognized(recognizer):
    pairs = []
    for text in SENTENCES[:6]:
        events = feed(recognizer, with_silence(read_wav_16k(clip(text, PIPER_JOE).path)))
        pairs.append((text, " ".join(f.text for f in finals(events))))
        kinds = [type(e) for e in events]
        assert kinds[0] is SpeechStarted and Endpoint in kinds
    assert wer(pairs) <= 0.10, pairs


@pytest.mark.parametrize("kind", ["silence", "white noise", "quiet hum"])
def test_no_words_from_silence_or_noise(recognizer, kind):
    rng = np.random.default_rng(7)
    seconds = 6 * 16000
    audio = {"silence": np.zeros(seconds, np.float32),
             "white noise": (0.05 * rng.standard_normal(seconds)).astype(np.float32),
             "quiet hum": (0.01 * np.sin(2 * np.pi * 60 * np.arange(seconds) / 16000)).astype(np.float32)}[kind]
    events = feed(recognizer, audio)
    assert finals(events) == [] and not [e for e in events if isinstance(e, PartialTranscript)], events


def test_sixty_second_recording_transcribes_completely(models):
    audio, text = long_recording(60)
    recognizer = recognizer_for_settings(settings(), partials=False, speculative=False)
    got = finals(feed(recognizer, audio))
    hypothesis = " ".join(f.text for f in got)
    assert len(audio) / 16000 >= 60
    assert wer([(text, hypothesis)]) <= 0.15, hypothesis
    assert got[-1].end > len(audio) / 16000 - 3.0  # the last sentence is there, nothing dropped
    assert all(a.end <= b.start + 0.01 for a, b in zip(got, got[1:], strict=False))  # in order, no overlap


def test_partials_arrive_while_speech_continues(recognizer):
    speech = np.concatenate([read_wav_16k(clip(t, PIPER_JOE).path) for t in SENTENCES[:2]])
    events = feed(recognizer, with_silence(speech, after=1.0))
    partials = [e for e in events if isinstance(e, PartialTranscript)]
    final = finals(events)[-1]
    assert len(partials) >= 3
    assert partials[0].timestamp < final.end - 1.0  # heard long before the speaker stopped
    first_words = partials[-1].text.lower().split()[:2]
    assert first_words and first_words[0] in final.text.lower()


def _two_sentences(pause: float) -> np.ndarray:
    a = read_wav_16k(clip(SENTENCES[0], PIPER_JOE).path)
    b = read_wav_16k(clip(SENTENCES[1], PIPER_JOE).path)
    return with_silence(np.concatenate([a, np.zeros(int(pause * 16000), np.float32), b]), after=2.0)


def test_endpoint_silence_is_configurable(models):
    audio = _two_sentences(pause=0.8)
    quick = feed(recognizer_for_settings(settings(min_silence_seconds=0.5), partials=False), audio, flush=False)
    relaxed = feed(recognizer_for_settings(settings(relaxed=True, relaxed_min_silence_seconds=1.2), partials=False),
                   audio, flush=False)
    assert len([e for e in quick if isinstance(e, Endpoint)]) == 2  # the 0.8 s pause ended the first request
    assert len([e for e in relaxed if isinstance(e, Endpoint)]) == 1  # a slow speaker's pause did not
    both = finals(relaxed)[0].text.lower()
    assert "coffee" in both and "price" in both
    # the endpoint comes only after the configured silence
    first_final, first_endpoint = finals(quick)[0], next(e for e in quick if isinstance(e, Endpoint))
    assert first_endpoint.timestamp - first_final.end >= 0.5


def test_long_speech_is_split_at_the_segment_limit(models):
    # sentences with 0.3 s gaps never reach the 0.5 s endpoint silence: one long utterance
    gap = np.zeros(int(0.3 * 16000), np.float32)
    parts = []
    for text in SENTENCES[:5]:
        parts += [read_wav_16k(clip(text, PIPER_JOE).path), gap]
    audio = with_silence(np.concatenate(parts))
    recognizer = recognizer_for_settings(settings(max_segment_seconds=6.0), partials=False)
    got = finals(feed(recognizer, audio))
    assert len(got) >= 2
    assert all(f.end - f.start <= 6.0 + 0.01 for f in got)
    assert wer([(" ".join(SENTENCES[:5]), " ".join(f.text for f in got))]) <= 0.2


def test_bad_frames_do_not_break_the_stream(recognizer):
    recognizer.reset()
    junk = np.full(FRAME, np.nan, np.float32)
    junk[::7] = np.inf
    assert recognizer.process(AudioChunk(junk, 16000, 0.0)) == []
    assert recognizer.process(AudioChunk(np.full(FRAME, 5.0, np.float32), 16000, 0.08)) is not None
    with pytest.raises(ValueError, match="16000 Hz"):
        recognizer.process(AudioChunk(np.zeros(441, np.float32), 44100, 0.16))
    events = feed(recognizer, with_silence(read_wav_16k(clip(SENTENCES[4], PIPER_JOE).path)))
    assert wer([(SENTENCES[4], " ".join(f.text for f in finals(events)))]) <= 0.2  # the stream still works
