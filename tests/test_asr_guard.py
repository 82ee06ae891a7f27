"""The hallucination guard, the online engine's event translation, and engine selection errors."""

from __future__ import annotations

import numpy as np
import pytest

from edge.asr import AsrError, OnlineEvents, endpointing_for, recognizer_for_settings
from edge.asr.guard import accept, cut_repetition, cut_restart, level_dbfs, strip_annotations
from edge.asr.models import online_recognizer
from edge.asr.stream import quietest_point
from edge.config import load_settings
from edge.events import Endpoint, FinalTranscript, PartialTranscript, SpeechStarted
from export.speech_corpus import SENTENCES

LOUD = (0.2 * np.sin(np.arange(16000) / 5)).astype(np.float32)  # about -17 dBFS
QUIET = (0.002 * np.sin(np.arange(16000) / 5)).astype(np.float32)  # about -57 dBFS


def test_annotations_and_loops_are_removed():
    assert strip_annotations("[Music] add milk (coughs) ♪") == "add milk"
    assert cut_repetition("the the the the the cart") == "the cart"
    assert cut_repetition("add milk add milk add milk add milk please") == "add milk please"
    assert cut_repetition("no no no") == "no no no"  # a real triple stays


def test_a_loop_inside_a_hyphenated_word_is_cut():
    # an INT8 build's greedy decode of "add a dozen bananas please" (the parity set, espeak en-gb)
    assert cut_repetition("A-dah-dah-dah-dah-dah-dah-dah-da") == "A-dah-da"
    assert cut_repetition("Dah-dah-DAH-dah stop") == "Dah stop"
    assert cut_repetition("bye-bye, a well-to-do x-ray") == "bye-bye, a well-to-do x-ray"
    assert cut_repetition("dah-dah-dah stop") == "dah-dah-dah stop"  # three copies: as for words, a real triple stays


def test_a_restarted_phrase_keeps_one_copy():
    # sherpa's token cap stops a restart loop mid-word: the cut-off copy goes
    assert cut_restart("Add a loaf of sourdough bread Add a loaf of sourd") == "Add a loaf of sourdough bread"
    assert cut_restart("Remove the towels from my cart. Remove the towels from my cart. Remove the") == \
        "Remove the towels from my cart."
    assert cut_restart("I want the I want the red one") == "I want the red one"
    # after a finished sentence, one or two of its first words again, left open, are a restart (the simulator's
    # wake turns: the endpoint waited the full hold for "...last time. Order the" to go on)
    assert cut_restart("Order the same as last time. Order the") == "Order the same as last time."
    assert cut_restart("I want to buy apples. I") == "I want to buy apples."
    assert cut_restart("Add two apples. Add milk") == "Add two apples. Add milk"  # a new request
    assert cut_restart("Add milk. Add") == "Add milk. Add"  # too short a phrase to call a loop
    # what people do say twice, and sentences that merely share words, stay
    assert cut_restart("add milk add milk") == "add milk add milk"
    assert cut_restart("no no no") == "no no no"
    assert cut_restart("add milk and eggs add milk.") == "add milk and eggs add milk."
    for sentence in SENTENCES:
        assert cut_restart(sentence) == sentence
    assert accept("Add a loaf of sourdough bread Add a loaf of sourd", LOUD, 2.5) == "Add a loaf of sourdough bread"


def test_known_hallucinations_need_evidence():
    assert accept("Thank you.", QUIET, speech_seconds=2.0) == ""  # quiet: noise, not a shopper
    assert accept("Thank you.", LOUD, speech_seconds=0.3) == ""  # too little speech to be real
    assert accept("Thank you.", LOUD, speech_seconds=0.9) == "Thank you."  # said to the device
    assert accept("add the milk", QUIET, speech_seconds=0.4) == "add the milk"  # only known phrases are doubted
    assert accept("[BLANK_AUDIO]", LOUD, 2.0) == ""
    too_many = " ".join(SENTENCES[:6])  # ~40 words cannot come out of one second of speech
    assert accept(too_many, LOUD, speech_seconds=1.0) == ""
    assert accept(too_many, LOUD, speech_seconds=12.0) == too_many


def test_level_and_split_point():
    assert level_dbfs(np.zeros(100, np.float32)) == pytest.approx(-120.0)
    assert -18 < level_dbfs(LOUD) < -16
    audio = LOUD.copy()
    audio[9600:10080] = 0.0  # a silent 30 ms window
    assert 9600 <= quietest_point(audio) < 10080


def test_online_events_translate_running_text():
    tracker = OnlineEvents()
    assert tracker.update("", False, 0.1) == []
    first = tracker.update("add", False, 0.5)
    assert [type(e) for e in first] == [SpeechStarted, PartialTranscript]
    assert tracker.update("add", False, 0.6) == []  # unchanged text: no new partial
    assert tracker.update("add milk", False, 0.9) == [PartialTranscript("add milk", 0.9)]
    end = tracker.update("add milk", True, 1.8)
    assert end == [FinalTranscript("add milk", 0.5, 1.8), Endpoint(1.8)]
    assert tracker.finish(2.0) == []  # nothing open any more


def test_online_engine_needs_a_model_directory(tmp_path):
    settings = load_settings(environ={"VOICESHOP_ASR__ENGINE": "online"})
    with pytest.raises(AsrError, match="online_model_dir"):
        recognizer_for_settings(settings)
    with pytest.raises(AsrError, match="does not exist"):
        online_recognizer(settings, tmp_path / "nowhere")
    (tmp_path / "tokens.txt").write_text("a 0\n")
    with pytest.raises(AsrError, match="no encoder"):
        online_recognizer(settings, tmp_path)


def test_endpointing_follows_settings():
    normal = endpointing_for(load_settings(environ={}))
    relaxed = endpointing_for(load_settings(environ={"VOICESHOP_ASR__RELAXED": "true"}))
    assert (normal.silence, relaxed.silence) == (0.5, 1.0)
    assert normal.pause < normal.silence and normal.partial_interval == 0.5
    short = endpointing_for(load_settings(environ={"VOICESHOP_ASR__MIN_SILENCE_SECONDS": "0.2"}))
    assert short.pause < short.silence  # a pause is always shorter than the endpoint silence


def test_missing_bundles_are_named(tmp_path):
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(tmp_path)})
    with pytest.raises(AsrError, match="python -m export vad"):
        recognizer_for_settings(settings)
