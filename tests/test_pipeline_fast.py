"""The device loop's state machine on small fakes (tests/loop_fakes.py): seconds, no model bundles.

Every state transition; a barge-in (wake word, tap, push-to-talk) and the mute switch in every
state; each stage failing; the timeouts; push-to-talk and the DSP wake trigger; the LED at each
step; and the typed events the loop reports, with the one JSON shape they print as. The real
models drive the same loop end to end in test_pipeline_loop.py.
"""

from __future__ import annotations

import json

import pytest

from edge.controls import Press, button_action
from edge.events import BargeIn, Reply, StageFailed, State, StateChanged, TurnFinished
from edge.records import to_record
from firmware_bridge.events import ButtonPressed, DspWake
from tests.loop_fakes import ENDPOINT_FRAMES, SILENCE, SPEECH, WAIT, WAKE, Bench, until

QUESTION = Reply("How many bags?", expects_answer=True)
"""A reply that asks: the loop listens on without a wake word."""

TRANSITIONS = {
    ("idle", "wake"), ("wake", "listening"), ("listening", "thinking"), ("thinking", "speaking"),
    ("speaking", "idle"), ("speaking", "listening"), ("listening", "idle"), ("thinking", "idle"),
    ("thinking", "listening"), ("thinking", "wake"), ("speaking", "wake"),
}
"""Every move the loop may make; any other is a bug (checked after every test here)."""


@pytest.fixture
def bench():
    made: list[Bench] = []

    def make(*lines: str, **options) -> Bench:
        made.append(Bench(*lines, **options))
        return made[-1]

    yield make
    for b in made:
        b.close()
        assert b.transitions() <= TRANSITIONS, b.transitions() - TRANSITIONS


def press(kind: str) -> ButtonPressed:
    return ButtonPressed(kind, "talk" if kind.startswith("ptt") else "action", 0.0)


def thinking(b: Bench) -> None:
    """Hold the responder, ask, and wait until the loop is thinking about it."""
    b.responder.flowing.clear()
    b.responder.entered.clear()
    b.wake_word()
    b.say()
    assert b.responder.entered.wait(WAIT) and b.loop.state == State.THINKING


def speaking(b: Bench) -> None:
    """Hold the voice after the first word, ask, and wait until the loop is speaking."""
    b.synthesizer.flowing.clear()
    b.wake_word()
    b.say()
    assert until(lambda: b.loop.state == State.SPEAKING), b.loop.state


def listening(b: Bench) -> None:
    b.wake_word()
    assert b.loop.state == State.LISTENING


# -- the plain request, and each transition ------------------------------------------------------

def test_a_request_goes_through_every_state_and_back(bench) -> None:
    b = bench("I want to buy apples")
    b.request()
    assert b.states() == ["wake", "listening", "thinking", "speaking", "idle"]
    (turn,) = b.turns()
    assert (turn.transcript, turn.kind, turn.source, turn.reply) == ("I want to buy apples", "turn", "model",
                                                                     "You said I want to buy apples.")
    assert not turn.barged_in and turn.error is None
    assert b.sinks[1].words == 7 and b.sinks[1].closed and not b.sinks[1].stopped
    assert turn.reply_audio_seconds == pytest.approx(0.7)
    assert turn.latency_ms["nlu"] == 4.0 and turn.latency_ms["dialog"] == 10.0
    assert turn.latency_ms["endpoint"] == pytest.approx(ENDPOINT_FRAMES * 80.0)
    assert b.leds == ["idle", "wake", "listening", "thinking", "speaking", "idle"]
    assert b.responder.asked == ["I want to buy apples"]


def test_a_wake_event_carries_its_source_and_score(bench) -> None:
    b = bench("apples")
    b.request()
    wake = b.of(StateChanged)[0]
    assert (wake.state, wake.previous, wake.source, wake.score) == (State.WAKE, State.IDLE, "model", 0.9)


def test_a_question_listens_on_without_the_wake_word(bench) -> None:
    b = bench("apples", "two", replies={"apples": QUESTION})
    b.request()
    assert b.states()[-2:] == ["speaking", "listening"] and b.loop.state == State.LISTENING
    b.say()  # no wake word: the answer goes straight to the recognizer
    assert b.loop.wait_quiet(WAIT)
    assert [t.transcript for t in b.turns()] == ["apples", "two"]
    assert b.turns()[1].source == "follow-up" and b.loop.state == State.IDLE


def test_a_question_the_voice_could_not_say_still_listens_on(bench) -> None:
    b = bench("apples", replies={"apples": QUESTION})
    b.synthesizer.silent = True  # no audio and no error (a reply of only punctuation, say)
    b.request()
    assert b.states() == ["wake", "listening", "thinking", "listening"]


def test_a_reply_without_words_goes_from_thinking_to_idle(bench) -> None:
    b = bench("apples", replies={"apples": Reply("")})
    b.request()
    assert b.states() == ["wake", "listening", "thinking", "idle"] and b.synthesizer.spoken == []
    assert b.turns()[0].reply_audio_seconds == 0.0


def test_silence_after_the_wake_word_times_out_to_idle(bench) -> None:
    b = bench()
    listening(b)
    b.silence(b.seconds(b.settings.dialog.turn_timeout_seconds) + 1)
    last = b.of(StateChanged)[-1]
    assert (last.previous, last.state, last.reason) == (State.LISTENING, State.IDLE, "timeout")
    assert b.turns() == [] and b.responder.timeouts == 0


def test_a_question_nobody_answers_gets_its_timeout_reply(bench) -> None:
    b = bench("apples", replies={"apples": QUESTION})
    b.request()
    b.silence(b.seconds(b.settings.dialog.turn_timeout_seconds) + 1)
    assert b.loop.wait_quiet(WAIT)
    assert b.states()[-4:] == ["listening", "thinking", "speaking", "idle"]
    timeout = b.turns()[-1]
    assert (timeout.kind, timeout.source, timeout.reply) == ("timeout", "timeout", "I didn't hear an answer.")
    assert b.of(StateChanged)[-3].source == "timeout"


def test_a_request_that_never_ends_is_cut_at_the_longest_request(bench) -> None:
    b = bench("and so on", max_segment_seconds=2.0)
    listening(b)
    b.feed(SPEECH, b.seconds(2.0) + 2)  # talks on without a pause
    assert b.asr.flushes == 1
    assert b.loop.wait_quiet(WAIT)
    assert [t.transcript for t in b.turns()] == ["and so on"]


def test_noise_or_only_the_wake_phrase_keeps_listening(bench) -> None:
    b = bench("", "hey shop", "apples")
    listening(b)
    b.say()  # an empty final
    b.say()  # only the phrase: stripped to nothing
    assert b.loop.state == State.LISTENING and b.responder.asked == []
    b.say()
    assert b.loop.wait_quiet(WAIT)
    assert b.responder.asked == ["apples"]


def test_the_wake_phrase_in_the_transcript_is_stripped(bench) -> None:
    b = bench("Hey shop, I want apples")
    b.request()
    assert b.responder.asked == ["I want apples"]


def test_the_end_of_a_reply_is_spoken_after_its_start(bench) -> None:
    b = bench("yes", settle_words="It's sent to the store.")
    b.request()
    (turn,) = b.turns()
    assert turn.reply == "You said yes. It's sent to the store."
    assert [s.text for s in b.synthesizer.spoken] == ["You said yes.", "It's sent to the store."]
    assert b.sinks[1].words == 3 + 5  # one sink for both parts


def test_frames_reach_only_the_stage_that_listens(bench) -> None:
    b = bench("apples")
    b.request()
    counts = b.loop.counts
    assert counts["frames"] == counts["wake_in"] + counts["asr_in"] - 1  # the pre-roll is one extra chunk
    assert b.asr.frames == counts["asr_in"] and b.wake.frames == counts["wake_in"]
    assert b.asr.resets == 1


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


# -- a failing stage -----------------------------------------------------------------------------

def test_a_failing_wake_word_is_reported_and_the_loop_goes_on(bench) -> None:
    b = bench("apples")
    b.wake.fail = RuntimeError("wake model crashed")
    b.silence(3)
    assert b.failures() == ["wake"] * 3 and b.leds[-1] == "error" and b.loop.counts["errors"] == 3
    b.wake.fail = None
    b.request()
    assert b.responder.asked == ["apples"] and b.leds[-1] == "idle"


def test_a_failing_recognizer_drops_the_request(bench) -> None:
    b = bench("apples")
    listening(b)
    b.asr.fail = RuntimeError("decoder crashed")
    b.feed(SPEECH)
    assert b.failures() == ["asr"] and b.loop.state == State.IDLE
    b.asr.fail = None
    b.request()
    assert b.responder.asked == ["apples"]


def test_a_failing_dialogue_returns_to_idle(bench) -> None:
    b = bench("apples", "bananas")
    b.responder.fail = RuntimeError("dialogue crashed")
    b.request()
    assert b.failures() == ["respond"] and b.states()[-2:] == ["thinking", "idle"]
    assert b.of(StageFailed)[0].message == "dialogue crashed"
    b.responder.fail = None
    b.request()
    assert [t.transcript for t in b.turns()] == ["bananas"]


def test_a_voice_failing_mid_reply_ends_it_with_the_error(bench) -> None:
    b = bench("apples", replies={"apples": QUESTION})
    b.synthesizer.fail_at_word = 2
    b.request()
    (turn,) = b.turns()
    assert turn.error == "the voice failed" and b.failures() == ["tts"]
    assert b.sinks[1].words == 1 and b.sinks[1].closed
    assert b.loop.state == State.IDLE  # a question that was not heard opens no follow-up


def test_a_missing_speaker_is_a_tts_failure(bench) -> None:
    b = bench("apples")
    b.sink_fails = True
    b.request()
    assert b.turns()[0].error == "no speaker" and b.failures() == ["tts"] and b.loop.state == State.IDLE


def test_a_failing_led_never_stops_the_loop(bench) -> None:
    b = bench("apples")
    b.led_fails = True
    b.request()
    assert b.states() == ["wake", "listening", "thinking", "speaking", "idle"] and b.failures() == []


# -- the LED, the end of input, closing ----------------------------------------------------------

def test_an_unreachable_broker_shows_offline_only_while_idle(bench) -> None:
    b = bench("apples", online=False)
    b.request()
    assert b.leds == ["offline", "wake", "listening", "thinking", "speaking", "offline"]
    b.online = True
    b.silence()
    assert b.leds[-1] == "idle"


def test_finish_answers_a_request_still_open_at_the_end_of_input(bench) -> None:
    b = bench("apples")
    b.wake_word()
    b.feed(SPEECH, 3)  # the input ends before the endpoint's silence
    b.loop.finish(WAIT)
    assert [t.transcript for t in b.turns()] == ["apples"] and b.loop.state == State.IDLE


def test_run_feeds_a_source_and_waits_for_each_answer(bench) -> None:
    b = bench("apples", "bananas")
    request = [SILENCE] * 2 + [WAKE] + [SPEECH] * 4 + [SILENCE] * (ENDPOINT_FRAMES + 1)
    b.loop.run(b.chunks(request * 2), pause_while_busy=True)
    assert [t.transcript for t in b.turns()] == ["apples", "bananas"]
    assert b.of(BargeIn) == []  # the source waited for the first answer before its second wake word


def test_close_stops_a_reply_in_progress_without_a_barge_in_record(bench) -> None:
    b = bench("apples")
    speaking(b)
    b.loop.close()
    assert b.synthesizer.spoken[0].cancelled.is_set() and b.of(BargeIn) == []
    b.gate.set_muted(True)  # a reused gate still calls the closed loop's listener: it stays quiet
    b.loop.on_mcu_event(press("short"))


def test_every_transition_in_the_table_happens(bench) -> None:
    """The table above is not wishful: a run of the scenarios above makes every move in it."""
    seen: set[tuple[str, str]] = set()
    b = bench("apples", "two", replies={"apples": QUESTION})
    b.request()
    b.say()
    assert b.loop.wait_quiet(WAIT)
    seen |= b.transitions()
    b = bench("x")
    listening(b)
    b.silence(b.seconds(b.settings.dialog.turn_timeout_seconds) + 1)
    seen |= b.transitions()
    b = bench("x")
    b.responder.fail = RuntimeError("no")
    b.request()
    seen |= b.transitions()
    b = bench("x", "y")
    thinking(b)
    b.feed(WAKE)
    b.responder.flowing.set()
    b.silence()
    seen |= b.transitions()
    b = bench("x", "y")
    speaking(b)
    b.feed(WAKE)
    seen |= b.transitions()
    b = bench("x", replies={"x": QUESTION})
    b.synthesizer.silent = True
    b.request()
    seen |= b.transitions()
    assert seen == TRANSITIONS, TRANSITIONS - seen


# -- the typed events and their one JSON shape ---------------------------------------------------

def test_state_records_keep_the_json_shape_and_drop_absent_details() -> None:
    event = StateChanged(State.WAKE, State.IDLE, 1.23456, source="model", score=0.91)
    assert to_record(event) == {"event": "state", "state": "wake", "previous": "idle", "at": 1.235,
                                "source": "model", "score": 0.91}
    assert list(to_record(StateChanged(State.IDLE, State.LISTENING, 2.0, reason="timeout"))) == [
        "event", "state", "previous", "at", "reason"]


def test_turn_barge_in_and_error_records(bench) -> None:
    b = bench("apples")
    b.request()
    record = to_record(b.turns()[0])
    assert list(record) == ["event", "turn", "kind", "source", "transcript", "intent", "confidence", "slots",
                            "reply", "actions", "expects_answer", "latency_ms", "speech_end", "endpoint_at",
                            "wake_score", "first_audio_wall", "reply_audio_seconds", "barged_in", "error"]
    assert record["event"] == "turn" and record["transcript"] == "apples" and record["reply_audio_seconds"] == 0.3
    json.dumps(record)  # plain JSON types only
    record["latency_ms"]["true_eos_to_first_audio"] = 1.0  # a reader's addition stays out of the event
    assert "true_eos_to_first_audio" not in b.turns()[0].latency_ms
    assert to_record(BargeIn(3.14159)) == {"event": "barge_in", "at": 3.142}
    assert to_record(StageFailed("asr", "boom")) == {"event": "error", "stage": "asr", "message": "boom"}
    with pytest.raises(TypeError):
        to_record({"event": "state"})  # type: ignore[arg-type]


def test_the_state_enum_compares_and_prints_as_its_name() -> None:
    assert State.LISTENING == "listening" and f"{State.SPEAKING}" == "speaking"
    assert [s.value for s in State] == ["idle", "wake", "listening", "thinking", "speaking"]


@pytest.mark.parametrize(("kind", "ptt", "state", "listening", "held", "action"), [
    ("ptt_down", True, State.IDLE, False, False, Press.OPEN_HELD),
    ("ptt_down", True, State.LISTENING, True, False, Press.HOLD),
    ("ptt_down", False, State.SPEAKING, False, False, None),
    ("ptt_up", True, State.LISTENING, True, True, Press.RELEASE),
    ("ptt_up", True, State.LISTENING, True, False, None),
    ("short", False, State.IDLE, False, False, None),
    ("short", False, State.SPEAKING, False, False, Press.OPEN),
    ("short", True, State.IDLE, False, False, Press.OPEN),
    ("short", True, State.LISTENING, True, False, None),
    ("long", True, State.IDLE, False, False, None),
])
def test_what_a_button_means(kind: str, ptt: bool, state: State, listening: bool, held: bool,
                             action: Press | None) -> None:
    assert button_action(kind, push_to_talk=ptt, state=state, listening=listening, held=held) is action


def test_a_turn_record_event_is_frozen() -> None:
    event = TurnFinished(1, "turn", "model", "a", None, None, {}, "", [], False, {}, None, None, None, None, 0.0,
                         False)
    with pytest.raises(AttributeError):
        event.turn = 2  # type: ignore[misc]
