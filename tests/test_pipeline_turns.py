"""The device loop's small rules: wake-phrase trimming, the LED rule, and how latencies are added up."""

from __future__ import annotations

import pytest

from edge.turns import Job, latencies, led_for, strip_wake_phrase


@pytest.mark.parametrize(("heard", "wanted"), [
    ("Hey shop, I want to buy apples.", "I want to buy apples."),
    ("hey shop i want to buy apples", "i want to buy apples"),
    ("Shop. I want to buy apples", "I want to buy apples"),          # the pre-roll caught only the tail
    ("Hey, Chop! Add two bags of rice", "Add two bags of rice"),      # a near miss of the phrase
    ("I want to buy apples", "I want to buy apples"),                 # the phrase was not in the audio
    ("Shopping list please", "Shopping list please"),                 # a word that merely starts alike
    ("Hey shop", ""),                                                 # only the phrase: nothing to answer
    ("", ""),
])
def test_strip_wake_phrase(heard: str, wanted: str) -> None:
    assert strip_wake_phrase(heard, "hey shop") == wanted


def test_strip_wake_phrase_drops_only_a_leading_phrase() -> None:
    assert strip_wake_phrase("I said hey shop twice", "hey shop") == "I said hey shop twice"
    assert strip_wake_phrase("Computer, what's in my cart", "computer") == "what's in my cart"


@pytest.mark.parametrize(("state", "muted", "online", "led"), [
    ("idle", False, None, "idle"),          # no broker configured: no offline indicator
    ("idle", False, True, "idle"),
    ("idle", False, False, "offline"),      # broker unreachable: orders queue, the LED says so
    ("listening", False, False, "listening"),
    ("speaking", True, True, "muted"),      # the privacy switch shows above everything
    ("idle", True, False, "muted"),
])
def test_led_rule(state: str, muted: bool, online: bool | None, led: str) -> None:
    assert led_for(state, muted, online) == led


def test_end_of_speech_to_first_audio_adds_the_audio_wait_and_the_compute() -> None:
    job = Job("turn", 0, "x", "wake", speech_end=10.0, endpoint_at=10.56, endpoint_wall=100.0, asr_ms=120.0)
    lat = latencies(job, nlu_s=0.004, dialog_s=0.010, tts_first_s=0.180, first_audio_wall=100.35)
    assert lat["endpoint"] == pytest.approx(560.0)
    assert lat["eos_to_first_audio"] == pytest.approx(560.0 + 350.0)
    assert lat["endpoint_to_first_audio"] == pytest.approx(350.0)
    assert (lat["asr"], lat["nlu"], lat["dialog"], lat["tts_first_audio"]) == (120.0, 4.0, 10.0, 180.0)


def test_latencies_without_audio_are_absent_not_zero() -> None:
    lat = latencies(Job("timeout", 0), None, None, None, None)
    assert set(lat.values()) == {None}
