"""The forced second look: the phrase's log-probability under the device's Whisper decides a wake."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge.wake.phrase_score import ForcedLook, phrase_spellings

RATE = 16000


def _window(text: str) -> np.ndarray:
    """What the look decodes for a short line in Piper's voice: its first 1.6 s between 0.25 s of silence."""
    from export.speech_corpus import PIPER_JOE, clip, read_wav_16k

    pad = np.zeros(4000, np.float32)
    return np.concatenate([pad, read_wav_16k(clip(text, PIPER_JOE).path)[:int(1.6 * RATE)], pad])


def test_spellings_cover_whispers_casing_and_punctuation() -> None:
    forms = phrase_spellings("hey shop")
    assert " Hey shop" in forms and " Hey, shop" in forms and " hey shop" in forms and " Hey Shop" in forms
    assert len(forms) == len(set(forms)) and all(f.startswith(" ") for f in forms)
    assert phrase_spellings("computer") == [" Computer", " computer", " Computer."]
    with pytest.raises(ValueError, match="empty"):
        phrase_spellings("  ")


def test_the_forced_look_refuses_a_recognizer_it_cannot_score_with() -> None:
    with pytest.raises(ValueError, match="onnxruntime"):
        ForcedLook(object(), "hey shop")


def test_the_setting_chooses_the_forced_look_and_says_what_it_needs() -> None:
    from edge.config import load_settings
    from edge.wake import confirmed_detector

    settings = load_settings(environ={"VOICESHOP_WAKE__SECOND_LOOK": "true"})
    assert settings.wake.second_look_method == "forced"

    class _Detector:
        phrase = "hey shop"

    def decode(audio: np.ndarray) -> str:  # a sherpa-style decode: no recognizer to score with
        return ""

    with pytest.raises(ValueError, match="onnxruntime"):
        confirmed_detector(settings, _Detector(), decode)


@pytest.fixture(scope="module")
def whisper(bundle):
    from edge.asr.models import whisper_recognizer
    from edge.config import load_settings

    bundle("vad")
    settings = load_settings(environ={})
    settings = dataclasses.replace(settings, models=dataclasses.replace(settings.models, dir=str(bundle("asr").parent)),
                                   asr=dataclasses.replace(settings.asr, runtime="onnxruntime"))
    return whisper_recognizer(settings, threads=1)


@pytest.mark.slow
def test_teacher_forcing_agrees_with_the_recognizers_own_score(whisper) -> None:
    """Each sequence is scored alone, the same every time, and as the recognizer's score() scores it."""
    from export.speech_corpus import PIPER_JOE, clip, read_wav_16k

    audio = read_wav_16k(clip("hey shop add two apples", PIPER_JOE).path)
    cross, _ = whisper.encode(audio)
    begin = whisper.initial()
    sequences = [begin + whisper.encode_text(t) for t in (" Hey shop", " Hey, shop, add two apples.", " A")]
    together = whisper.continuation_logprobs(cross, sequences)
    alone = [whisper.continuation_logprobs(cross, [s])[0] for s in reversed(sequences)][::-1]
    for a, b, sequence in zip(together, alone, sequences, strict=True):
        assert len(a) == len(sequence) - 1 and np.all(a <= 0)
        np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="forced sequence"):
        whisper.continuation_logprobs(cross, [begin[:1]])
    # the forced score of a whole sequence agrees with the recognizer's own score()
    spoken = whisper.encode_text(" Hey, shop, add two apples.")
    total = whisper.score(audio, spoken, end=False)
    assert abs(total - float(together[1][len(begin) - 1:].sum())) < 1e-2


@pytest.mark.slow
def test_the_phrase_scores_high_and_ordinary_speech_low(whisper) -> None:
    """Piper's voice: the phrase (alone, after other words, before a request) passes at the default
    threshold; ordinary speech does not; a neighbour scores well below the phrase said alone."""
    from edge.wake.look_minimum import FALLBACK

    look = ForcedLook(whisper, "hey shop", min_logprob=FALLBACK)  # no calibration is for "hey shop": the fallback
    phrase = [look.check(_window(t)) for t in ("hey shop", "okay hey shop", "hey shop add two apples")]
    ordinary = [look.check(_window(t)) for t in ("the weather is nice today", "put the kettle on please")]
    neighbour = look.check(_window("hey stop"))
    assert all(v.accepted for v in phrase), phrase
    assert not any(v.accepted for v in ordinary), ordinary
    # the neighbour against the phrase said alone: "hey shop" cut before its request at 1.6 s is heard "A-Shop add
    # two apples" at -4.0 to -4.6 by CPU, a near tie with "Hey, stop." (-4.3 to -4.5) that INT8 rounding tips
    assert neighbour.score < phrase[0].score - 1.0, (neighbour, phrase)


@pytest.mark.slow
def test_the_default_phrase_scores_above_ordinary_speech_and_its_neighbours(whisper) -> None:
    """The device's own phrase in Piper's voice passes the look at the fallback minimum; ordinary speech, even with
    one of the phrase's words in it, scores far below; whole-word neighbours score below the phrase said alone, by
    less (on one build "hey voice stop" -3.89, "hey boys stop" -4.24, the phrase -1.53: the first stage refuses
    those, tests/test_wake_detector.py)."""
    from edge.config import WakeSettings
    from edge.wake.look_minimum import FALLBACK

    phrase = WakeSettings.phrase
    look = ForcedLook(whisper, phrase, min_logprob=FALLBACK)
    said = [look.check(_window(t)) for t in (phrase, f"okay {phrase}", f"{phrase} add two apples")]
    ordinary = [look.check(_window(t)) for t in ("the weather is nice today", "his voice is lovely",
                                                "a nice little coffee shop")]
    neighbours = [look.check(_window(t))
                  for t in ("hey voice stop", "hey boys stop", "hey joyce the shop is closed")]
    assert all(v.accepted for v in said), said
    assert not any(v.accepted for v in ordinary) and max(v.score for v in ordinary) < said[0].score - 3.0, ordinary
    assert all(v.score < said[0].score - 1.0 for v in neighbours), (neighbours, said[0])
