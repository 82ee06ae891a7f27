"""Scenario files and turn checks of `python -m edge.simulate`, before any model is involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.simulation.checks import check_turn
from edge.simulation.scenario import (
    DEFAULT_SCENARIO,
    SCENARIO_DIR,
    ScenarioError,
    load_scenario,
    scenario_for,
)
from edge.text.wer import word_error_rate


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.turns >= 2
    first = scenario.sessions[0].turns[0]
    assert first.wake or first.button, "a conversation starts with the wake word or a button"


def test_default_scenario_follows_the_seed() -> None:
    scenario = load_scenario()
    assert scenario.path == DEFAULT_SCENARIO and scenario.profile == "speaker"
    said = [t.say.lower() for s in scenario.sessions for t in s.turns]
    assert "i want to buy apples" in said[0]
    expects = [t.expect for s in scenario.sessions for t in s.turns]
    assert any("you may also like" in e.get("reply_has", []) for e in expects)
    assert [s.expect_after.get("cloud_orders") for s in scenario.sessions] == [1, 2]
    assert scenario.sessions[1].turns[0].expect["intent"] == "reorder"


@pytest.mark.parametrize(("text", "message"), [
    ("sessions: []", "must be a non-empty list"),
    ("sessions: [{turns: [{say: hi, wake: maybe}]}]", "wake: must be true or false"),
    ("sessions: [{turns: [{say: hi, button: horn}]}]", "button: must be ptt or tap"),
    ("sessions: [{turns: [{say: hi, expect: {intnet: search}}]}]", "unknown key(s) ['intnet']"),
    ("sessions: [{turns: [{say: '', wake: true}]}]", "a silent turn cannot wake the device"),
    ("sessions: [{turns: [{say: hi}], expect_after: {cloud_orders: -1}}]", "must be a whole number"),
    ("profile: boat\nsessions: [{turns: [{say: hi}]}]", "must be speaker or car"),
    ("user_voice: {pitch: 9}\nsessions: [{turns: [{say: hi}]}]", "between 0 and 3"),
    ("sessions: [{turns: [{say: hi}]}]\nsurprise: 1", "unknown key(s) ['surprise']"),
    ("a: [unclosed", "not valid YAML"),
])
def test_bad_scenarios_name_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_missing_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")


def test_word_error_rate() -> None:
    assert word_error_rate("Two bags, please.", "2 bags please") == 0.0   # digits and number words agree
    assert word_error_rate("I want to buy apples", "I want to buy apple") == pytest.approx(0.2)
    assert word_error_rate("add that", "") == 1.0
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("yes", "yes yes yes") == 2.0                   # insertions count


def test_the_simulator_scores_a_turn_as_the_export_scores_a_corpus() -> None:
    from export.wer import wer  # the toolchain's entry point (tests may import export/)

    pairs = [("Add twenty-four eggs.", "add 24 eggs"), ("Fuji apples, $4.99", "fuji apples four dollars ninety nine cents"),
             ("check out", "check out now"), ("ten", "10")]
    for reference, hypothesis in pairs:
        assert word_error_rate(reference, hypothesis) == wer([(reference, hypothesis)])
    assert word_error_rate("Add twenty-four eggs.", "add 24 eggs") == 0.0  # numbers past twenty too


def test_check_turn_reports_each_broken_expectation() -> None:
    record = {"transcript": "I want to buy apples.", "intent": "add_to_cart", "reply": "Fuji apples, $4.99.",
              "actions": [{"type": "results"}]}
    assert check_turn("I want to buy apples", {"intent": "add_to_cart", "reply_has": ["$"], "actions": ["results"]},
                      record, "listening", 0.25) == []
    failures = check_turn("I want to buy pears", {"intent": "search", "reply_has": ["pears"],
                                                  "actions": ["add_to_cart"], "state_after": "idle"},
                          record, "listening", 0.1)
    assert len(failures) == 5, failures
    assert check_turn("hello", {}, None, "idle", 0.25) == ["no answer to 'hello' (the device never finished a turn)"]


def test_a_profile_runs_the_scenario_written_for_it() -> None:
    car = load_scenario(scenario_for("car"))
    assert car.profile == "car" and car.path.name == "car.yaml"
    assert scenario_for("speaker") == scenario_for(None) == DEFAULT_SCENARIO  # no speaker.yaml: the default


def test_the_mandarin_scenario_is_named_by_its_language_and_varies_the_voice() -> None:
    scenario = load_scenario("zh")  # a bare name is a file in edge/scenarios
    assert scenario.path.name == "zh.yaml" and scenario.language == "zh"
    turns = [turn for session in scenario.sessions for turn in session.turns]
    assert [t.say for t in turns[:4]] == ["我想买苹果", "给我来两份吧", "我要付款", "确认下单"]
    assert turns[0].wake and turns[4].wake  # "Hey voice shop," in the English voice, then the Mandarin request
    assert len({(t.voice.get("pitch"), t.voice.get("speed")) for t in turns}) >= 3
    assert [s.expect_after["cloud_orders"] for s in scenario.sessions] == [1, 2]
    assert load_scenario().language == "en"
