"""The wake word's second stage: Whisper confirms the phrase, confusables stay asleep.

The matching rule is tested on transcripts; the whole two-stage detector on Piper speech through
the real wake bundle and the real Whisper bundle, fed in 80 ms frames the way the device loop does.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge.config import load_settings
from edge.events import AudioChunk
from edge.wake import VerifiedWakeWord, WakeDetector, detector_for_settings, load_wake_model, phrase_heard
from tests.conftest import MODELS_DIR
from tests.test_wake_detector import RATE, feed, room, say


@pytest.mark.parametrize("text", ["Hey shop.", "Hey, shop! Add two bags of rice.", "hay shop", "Heyshop",
                                  "Rice please. Hey Shop, I want apples.", "HEY SHOP"])
def test_transcripts_with_the_phrase_match(text):
    assert phrase_heard(text, "hey shop")


@pytest.mark.parametrize("text", ["Hey, stop.", "workshop", "Hey Sean.", "I went to the shop.", "Hey shot.",
                                  "shopping list", "hey", "", "  ", "Thank you.", "Hey chop.",
                                  "They shop.", "Pay shop.", "Okay, shop."])
def test_confusable_transcripts_do_not_match(text):
    assert not phrase_heard(text, "hey shop")


def test_other_phrases_match_by_sound():
    assert phrase_heard("Okay, computer. Lights on.", "okay computer")
    assert not phrase_heard("Okay, commuter.", "okay computer")
    assert phrase_heard("Hey Voice Shop", "hey voiceshop")  # one phrase word, two transcript words


@pytest.fixture(scope="module")
def settings(bundle):
    for name in ("wake", "vad", "asr"):
        bundle(name)
    return load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)})


@pytest.fixture(scope="module")
def model(settings):
    return load_wake_model(settings.models.path / "wake")


@pytest.fixture(scope="module")
def transcribe(settings):
    from edge.asr import recognizer_for_settings

    return recognizer_for_settings(settings, partials=False).transcribe


@pytest.fixture(scope="module")
def piper():
    from export.wake_data import PiperSynth

    return PiperSynth()


def utterance(piper, *parts: str) -> np.ndarray:
    pieces = [room(1.0, 1)]
    for i, text in enumerate(parts):
        spoken = say(piper, text)
        pieces += [spoken + room(len(spoken) / RATE, 10 + i), room(0.3, 20 + i)]
    return np.concatenate(pieces + [room(1.5, 3)])


def test_settings_build_the_two_stage_detector(settings, model, transcribe):
    verified = detector_for_settings(settings, model, decode=transcribe)
    assert isinstance(verified, VerifiedWakeWord)
    off = dataclasses.replace(settings, wake=dataclasses.replace(settings.wake, verify=False))
    assert isinstance(detector_for_settings(off, model, decode=transcribe), WakeDetector)
    assert isinstance(detector_for_settings(settings, model), WakeDetector)  # no Whisper: the head alone


def test_the_phrase_wakes_once_with_what_whisper_heard(model, transcribe, piper):
    verified = VerifiedWakeWord(WakeDetector(model, 0.5, 2.0), transcribe)
    events = feed(verified, utterance(piper, "Hey shop,", "add two bottles of milk to my cart."))
    assert len(events) == 1, verified.stats
    assert phrase_heard(events[0].transcript, "hey shop")
    assert verified.stats.accepted == 1


@pytest.mark.parametrize("text", ["Hey stop,", "Hey Shawn,", "Workshop,", "Hey shot,"])
def test_confusables_never_wake_even_when_the_head_fires(model, transcribe, piper, text):
    # a low first-stage threshold so the head proposes as often as it can: the second stage decides
    head = WakeDetector(model, 0.1, 2.0)
    verified = VerifiedWakeWord(WakeDetector(model, 0.1, 2.0), transcribe)
    audio = utterance(piper, text, "add two bottles of milk to my cart.")
    proposals = feed(head, audio)
    assert feed(verified, audio) == [], (text, verified.stats.rejected_texts)
    assert verified.stats.proposals >= len(proposals) and verified.stats.accepted == 0


def test_a_rejected_proposal_rearms_the_head(model, transcribe, piper):
    """A confusable straight before the phrase must not hide the phrase behind a refractory period."""
    verified = VerifiedWakeWord(WakeDetector(model, 0.1, 5.0), transcribe)
    audio = utterance(piper, "Hey stop.", "Hey shop,", "add rice.")
    events = feed(verified, audio)
    assert len(events) == 1 and verified.stats.rejected >= 1, verified.stats


def test_a_failing_recognizer_does_not_make_the_device_deaf(model, piper):
    def broken(samples: np.ndarray) -> str:
        raise RuntimeError("decoder crashed")

    verified = VerifiedWakeWord(WakeDetector(model, 0.5, 2.0), broken)
    assert len(feed(verified, utterance(piper, "Hey shop,", "add rice."))) == 1


def test_bad_frames_are_refused_before_anything_is_kept(model, transcribe):
    from edge.wake import WakeInputError

    verified = VerifiedWakeWord(WakeDetector(model, 0.5, 2.0), transcribe)
    with pytest.raises(WakeInputError):
        verified.process(AudioChunk(samples=np.zeros(1280, np.float32), sample_rate=8000, timestamp=0.0))
    assert verified.process(AudioChunk(samples=np.zeros(1280, np.float32), sample_rate=RATE, timestamp=0.0)) == []
