"""The device loop's state machine on small fakes (tests/loop_fakes.py): seconds, no model bundles.

A request through every state, each transition in the table (tests/loop_rig.py), the timeouts,
each stage failing, the LED, the end of input. Barge-in, mute and push-to-talk in every state are
test_pipeline_interrupts.py; the typed events' JSON shape test_pipeline_records.py. The real models
drive the same loop end to end in test_pipeline_loop.py.
"""

from __future__ import annotations

import pytest

from edge.events import BargeIn, Reply, StageFailed, State, StateChanged
from tests.loop_fakes import ENDPOINT_FRAMES, SILENCE, SPEECH, WAIT, WAKE
from tests.loop_rig import QUESTION, TRANSITIONS, benches, listening, press, speaking, thinking


@pytest.fixture
def bench():
    with benches() as make:
        yield make


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


def test_the_recognizer_s_other_readings_reach_the_responder_without_the_wake_phrase(bench) -> None:
    heard = "Hey shop, remove the chicken's plays."
    b = bench(heard)
    b.asr.alternatives[heard] = ((heard, -0.20), ("Hey shop, remove the chips, please.", -0.25), ("Hey shop", -0.3))
    b.request()
    assert b.responder.asked == ["remove the chicken's plays."]
    assert b.responder.alternatives == [(("remove the chicken's plays.", -0.20), ("remove the chips, please.", -0.25))]


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
    b = bench("", "hey voice shop", "apples")
    listening(b)
    b.say()  # an empty final
    b.say()  # only the phrase: stripped to nothing
    assert b.loop.state == State.LISTENING and b.responder.asked == []
    b.say()
    assert b.loop.wait_quiet(WAIT)
    assert b.responder.asked == ["apples"]


def test_the_wake_phrase_in_the_transcript_is_stripped(bench) -> None:
    b = bench("Hey voice shop, I want apples")
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


