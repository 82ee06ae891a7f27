"""The device loop's typed events and the one JSON shape they print as; what a button press means."""

from __future__ import annotations

import dataclasses
import json

import pytest

from edge.controls import Press, button_action
from edge.events import BargeIn, StageFailed, State, StateChanged, TurnFinished
from edge.records import to_record
from tests.loop_rig import benches


@pytest.fixture
def bench():
    with benches() as make:
        yield make


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
    answered_another = to_record(dataclasses.replace(b.turns()[0], passed_over="apple's"))
    assert list(answered_another)[-1] == "passed_over" and answered_another["passed_over"] == "apple's"
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
