"""The device loop's small rules: the wake phrase's hand-over, the LED rule, how latencies are added up, and a
reply spoken in parts (the real voice)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.audio import NullSink
from edge.events import AudioChunk
from edge.latency import latencies
from edge.leds import led_for
from edge.playback import Ending, speak_reply
from edge.turns import Job
from edge.wake_handover import request_preroll, strip_wake_phrase


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


@pytest.mark.parametrize(("heard", "wanted"), [
    ("Hello shopkeeper, I want to buy apples.", "I want to buy apples."),
    ("Hello, shop keeper. I want to buy apples", "I want to buy apples"),  # the compound heard as two words
    ("Shopkeeper, what's in my cart?", "what's in my cart?"),
    ("Shop keeper I want apples", "I want apples"),
    ("Keeper. Add two bags of rice", "Add two bags of rice"),            # the pre-roll caught only the tail
    ("Keep her, add two bags of rice", "add two bags of rice"),          # the tail misheard as two words
    ("Keep the apples in my cart", "Keep the apples in my cart"),        # a word that merely sounds alike
    ("Shop for apples", "Shop for apples"),                              # half a compound is not the phrase
    ("Shopkeeper I want", "I want"),                                     # "I" is not taken for part of the phrase
    ("Hello shopkeeper", ""),
])
def test_strip_wake_phrase_compound(heard: str, wanted: str) -> None:
    assert strip_wake_phrase(heard, "hello shopkeeper") == wanted


@pytest.mark.parametrize(("heard", "wanted"), [
    ("Hey voice shop, I want to buy apples.", "I want to buy apples."),
    ("Hey, Voiceshop. Add two bags of rice", "Add two bags of rice"),     # two phrase words heard as one
    ("Hey Voice Shop I want apples", "I want apples"),
    ("A voice shop, what's in my cart?", "what's in my cart?"),         # "hey" misheard as a short word
    ("Voice shop, add milk", "add milk"),                                # the pre-roll caught only the tail
    ("Shop. Add milk", "Add milk"),
    ("Voice your order", "Voice your order"),                            # a phrase word, not the phrase's tail
    ("Shopping list please", "Shopping list please"),
    ("Hey voice shop", ""),
])
def test_strip_wake_phrase_three_words(heard: str, wanted: str) -> None:
    assert strip_wake_phrase(heard, "hey voice shop") == wanted


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


def _frames(audio: np.ndarray, rate: int = 16000, frame: int = 1280) -> list[AudioChunk]:
    return [AudioChunk(audio[i:i + frame], rate, i / rate) for i in range(0, len(audio), frame)]


def test_the_request_preroll_starts_in_the_gap_after_the_wake_phrase() -> None:
    rate, rng = 16000, np.random.default_rng(7)

    def sound(seconds: float) -> np.ndarray:
        return (0.3 * rng.standard_normal(int(seconds * rate))).astype(np.float32)

    # ...the phrase's tail until 0.50 s, a 0.15 s gap, the request from 0.65 s; fired at 0.72 s
    audio = np.concatenate([sound(0.5), np.zeros(int(0.15 * rate), np.float32), sound(0.15)])
    chunk = request_preroll(_frames(audio), since=0.72 - 0.3)
    assert chunk is not None
    assert 0.5 <= chunk.timestamp < 0.65  # after the phrase's tail, before the request's first sound
    assert len(chunk.samples) == len(audio) - round(chunk.timestamp * rate)
    assert request_preroll(_frames(audio), since=10.0) is None  # nothing heard since then


@pytest.fixture(scope="module")
def synthesizer(bundle):
    bundle("tts")
    from edge.config import load_settings
    from edge.tts import synthesizer_for_settings
    from tests.conftest import MODELS_DIR

    return synthesizer_for_settings(load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)}))


def test_a_reply_in_parts_asks_for_its_end_only_after_the_start_has_played(synthesizer) -> None:
    sink = NullSink(synthesizer.output_rate)
    heard_before_end: list[int] = []
    firsts: list[bool] = []

    def end() -> str:
        heard_before_end.append(sink.samples_written)
        return "It's sent to the store."

    played = speak_reply((lambda: "Done. Order number one is placed.", end), synthesizer.speak, lambda s: True,
                         lambda: sink, lambda: firsts.append(True))
    assert played.error is None and firsts == [True]
    assert heard_before_end and heard_before_end[0] > 0.5 * synthesizer.output_rate  # the start was spoken first
    assert sink.samples_written > heard_before_end[0]                                 # then the end
    assert abs(played.audio_seconds - sink.seconds) < 0.01


def test_a_barged_in_reply_speaks_no_more_parts(synthesizer) -> None:
    sink = NullSink(synthesizer.output_rate)
    asked: list[str] = []
    claims = iter([True, False])  # the barge-in comes while the first part plays

    played = speak_reply((lambda: "Done.", lambda: asked.append("end") or "It's sent to the store."),
                         synthesizer.speak, lambda s: next(claims) or s.cancel() or False, lambda: sink, lambda: None)
    assert asked == ["end"] and played.error is None
    assert sink.seconds < 1.0  # only "Done." was spoken


def test_ending_settles_once_and_keeps_the_added_words() -> None:
    from edge.dialog.session import Turn
    from edge.events import Reply

    calls: list[str] = []

    def settle(turn: Turn) -> Turn:  # what ShopSession.settle does to the text, without the network
        calls.append(turn.reply.text)
        return Turn(turn.user, turn.intent, turn.confidence, turn.slots, Reply(f"{turn.reply.text} It's sent to the store."))

    placed = Turn("yes", "confirm", 0.99, {}, Reply("Done."))
    ending = Ending(placed, settle)
    assert ending.words() == "It's sent to the store."
    assert ending.settled().reply.text == "Done. It's sent to the store." and calls == ["Done."]
    assert Ending(placed, settle).settled().reply.text == "Done. It's sent to the store."  # never spoken: still settled
