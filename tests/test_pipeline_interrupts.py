"""Barge-in, the mute switch and push-to-talk in every state of the device loop, on small fakes.

A wake word or a button while the device idles, listens, thinks or speaks; the switch thrown in each
state; the car's push-to-talk and the MCU's DSP wake trigger (tests/loop_rig.py, no model bundles).
"""

from __future__ import annotations

import pytest

from edge.events import BargeIn, State, StateChanged
from firmware_bridge.events import DspWake
from tests.loop_fakes import SPEECH, WAIT, WAKE, until
from tests.loop_rig import QUESTION, benches, listening, press, speaking, thinking


@pytest.fixture
def bench():
    with benches() as make:
        yield make


# -- barge-in in each state ----------------------------------------------------------------------

def test_the_wake_word_while_speaking_stops_the_reply_and_listens(bench) -> None:
    b = bench("apples", "what's in my cart")
    speaking(b)
    b.feed(WAKE)
    assert b.loop.state == State.LISTENING
    assert b.synthesizer.spoken[0].cancelled.is_set() and b.sinks[1].stopped and b.sinks[1].words <= 1
    assert len(b.of(BargeIn)) == 1 and b.loop.counts["barge_ins"] == 1
    b.synthesizer.flowing.set()
    b.say()
    assert b.loop.wait_quiet(WAIT)
    first, second = b.turns()
    assert first.barged_in and first.transcript == "apples"
    assert not second.barged_in and second.transcript == "what's in my cart"
    assert ("speaking", "wake") in b.transitions()


def test_the_wake_word_while_thinking_drops_the_answer_unspoken(bench) -> None:
    b = bench("apples", "bananas")
    thinking(b)
    b.feed(WAKE)
    assert b.loop.state == State.LISTENING and len(b.of(BargeIn)) == 1
    b.responder.flowing.set()
    b.say()
    assert b.loop.wait_quiet(WAIT)
    first, second = b.turns()
    assert first.barged_in and first.reply_audio_seconds == 0.0
    assert [s.text for s in b.synthesizer.spoken] == ["You said bananas."]  # the first answer never spoken
    assert ("thinking", "wake") in b.transitions()


def test_the_wake_word_while_listening_is_only_audio(bench) -> None:
    b = bench("apples")
    listening(b)
    b.feed(WAKE)
    assert b.of(BargeIn) == [] and b.loop.state == State.LISTENING
    assert b.wake.frames == 3  # the wake word heard nothing after it fired


def test_the_wake_word_when_idle_is_no_barge_in(bench) -> None:
    b = bench()
    b.wake_word()
    assert b.of(BargeIn) == [] and b.loop.counts["barge_ins"] == 0


@pytest.mark.parametrize("kind", ["short", "ptt_down"])
def test_a_button_while_speaking_stops_the_reply_at_once(bench, kind: str) -> None:
    b = bench("apples", profile="car")
    speaking(b)
    b.loop.on_mcu_event(press(kind))  # the bridge thread: no frame needed to stop the voice
    assert b.synthesizer.spoken[0].cancelled.is_set() and len(b.of(BargeIn)) == 1
    assert until(lambda: b.sinks[1].stopped)
    b.silence()  # the audio thread then opens the microphone
    assert b.loop.state == State.LISTENING and b.of(StateChanged)[-2].source == "button"


def test_a_tap_while_thinking_on_the_speaker_barges_in_and_listens(bench) -> None:
    b = bench("apples")
    thinking(b)
    b.loop.on_mcu_event(press("short"))
    b.responder.flowing.set()
    b.silence()
    assert b.loop.state == State.LISTENING and len(b.of(BargeIn)) == 1
    assert until(lambda: len(b.turns()) == 1) and b.turns()[0].barged_in
    assert b.synthesizer.spoken == []


def test_a_tap_when_idle_on_the_speaker_does_nothing(bench) -> None:
    b = bench()
    b.loop.on_mcu_event(press("short"))
    b.silence(2)
    assert b.states() == [] and b.of(BargeIn) == []


def test_push_to_talk_on_a_speaker_without_it_neither_stops_nor_strands_a_reply(bench) -> None:
    b = bench("apples")
    speaking(b)
    b.loop.on_mcu_event(press("ptt_down"))
    b.silence()
    assert b.of(BargeIn) == [] and not b.synthesizer.spoken[0].cancelled.is_set()
    b.synthesizer.flowing.set()
    assert b.loop.wait_quiet(WAIT) and b.loop.state == State.IDLE


# -- mute in each state --------------------------------------------------------------------------

def test_muted_when_idle_no_frame_reaches_a_stage(bench) -> None:
    b = bench("apples", muted=True)
    b.wake_word()
    b.say()
    counts = b.loop.counts
    assert counts["blocked"] == counts["frames"] > 5 and counts["wake_in"] == counts["asr_in"] == 0
    assert b.states() == [] and b.leds == ["muted"]
    b.gate.set_muted(False)
    assert b.leds == ["muted", "idle"]
    b.request()
    assert b.responder.asked == ["apples"]


def test_mute_while_listening_drops_the_request(bench) -> None:
    b = bench("apples")
    listening(b)
    b.feed(SPEECH, 2)
    b.gate.set_muted(True)
    assert b.leds[-1] == "muted"  # at once, from the switch's thread
    b.say()
    assert b.loop.state == State.IDLE and b.responder.asked == []
    assert b.asr.frames == 3  # the pre-roll and the two frames before the switch
    assert ("listening", "idle") in b.transitions()


def test_mute_while_thinking_lets_the_answer_finish_but_opens_no_follow_up(bench) -> None:
    b = bench("apples", replies={"apples": QUESTION})
    thinking(b)
    b.gate.set_muted(True)
    b.responder.flowing.set()
    b.silence()
    assert b.loop.wait_quiet(WAIT)
    assert b.turns()[0].reply == "How many bags?" and b.sinks[1].words == 3
    assert b.loop.state == State.IDLE and b.leds[-1] == "muted"


def test_mute_while_speaking_keeps_the_voice_and_blocks_the_microphone(bench) -> None:
    b = bench("apples", replies={"apples": QUESTION})
    speaking(b)
    b.gate.set_muted(True)
    before = dict(b.loop.counts)
    b.feed(WAKE)  # would be a barge-in, but the gate stops it
    assert b.of(BargeIn) == [] and b.loop.counts["wake_in"] == before["wake_in"]
    b.synthesizer.flowing.set()
    assert b.loop.wait_quiet(WAIT) and b.loop.state == State.IDLE
    assert b.sinks[1].words == 3 and not b.sinks[1].stopped


def test_muted_buttons_and_dsp_wake_open_nothing(bench) -> None:
    b = bench(profile="car", muted=True)
    b.loop.on_mcu_event(press("ptt_down"))
    b.loop.on_mcu_event(DspWake(0.8, 1, 0.0))
    b.silence(2)
    assert b.states() == []


# -- push-to-talk and the DSP trigger ------------------------------------------------------------

def test_push_to_talk_holds_the_request_until_release(bench) -> None:
    b = bench("apples", profile="car")
    b.loop.on_mcu_event(press("ptt_down"))
    b.silence()
    assert b.loop.state == State.LISTENING and b.of(StateChanged)[0].source == "button"
    b.say()
    b.silence(10)  # a pause is not the end while the button is held
    assert b.loop.state == State.LISTENING
    b.loop.on_mcu_event(press("ptt_up"))
    b.silence()
    assert b.loop.wait_quiet(WAIT)
    (turn,) = b.turns()
    assert (turn.transcript, turn.source) == ("apples", "button") and b.asr.flushes == 1
    assert b.wake.frames < b.loop.counts["frames"]


def test_push_to_talk_during_a_follow_up_makes_the_release_end_it(bench) -> None:
    b = bench("apples", "two", profile="car", replies={"apples": QUESTION})
    b.request()
    assert b.loop.state == State.LISTENING
    b.loop.on_mcu_event(press("ptt_down"))
    b.say()
    b.silence(5)
    assert b.loop.state == State.LISTENING
    b.loop.on_mcu_event(press("ptt_up"))
    b.silence()
    assert b.loop.wait_quiet(WAIT) and [t.transcript for t in b.turns()] == ["apples", "two"]


def test_a_release_with_nothing_heard_is_a_timeout(bench) -> None:
    b = bench(profile="car")
    b.loop.on_mcu_event(press("ptt_down"))
    b.silence()
    b.loop.on_mcu_event(press("ptt_up"))
    b.silence()
    assert b.loop.state == State.IDLE and b.of(StateChanged)[-1].reason == "timeout"


def test_a_tap_on_the_car_opens_a_request_that_ends_on_silence(bench) -> None:
    b = bench("apples", profile="car")
    b.loop.on_mcu_event(press("short"))
    b.silence()
    b.say()
    assert b.loop.wait_quiet(WAIT) and b.turns()[0].source == "button"


def test_the_dsp_wake_trigger_opens_the_microphone_when_idle(bench) -> None:
    b = bench("apples")
    b.loop.on_mcu_event(DspWake(0.75, 1, 0.0))
    b.silence()
    first = b.of(StateChanged)[0]
    assert (first.source, first.score) == ("dsp", 0.75)
    b.say()
    assert b.loop.wait_quiet(WAIT) and b.turns()[0].source == "dsp"


def test_the_dsp_wake_trigger_while_speaking_is_ignored(bench) -> None:
    b = bench("apples")
    speaking(b)
    b.loop.on_mcu_event(DspWake(0.75, 1, 0.0))
    b.silence()
    assert b.loop.state == State.SPEAKING and b.of(BargeIn) == []


