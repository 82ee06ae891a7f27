"""`python -m edge.simulate` end to end: the seed's conversation through the real chain, with the cloud.

The default scenario must pass (every transcript within the WER tolerance, every intent right, the
orders stored exactly once in the cloud's database, checked here again through the cloud's CLI),
and leave its report folder behind; a scenario expecting the wrong intent must exit non-zero.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import MODELS_DIR, run_cli
from tests.pipeline_rig import BUNDLES

pytestmark = pytest.mark.slow

ENV = {"VOICESHOP_MODELS__DIR": str(MODELS_DIR)}


@pytest.fixture(scope="module")
def built(bundle) -> None:
    for name in BUNDLES:
        bundle(name)


def _simulate(out: Path, *args: str):
    result = run_cli("edge.simulate", "--json", "--out", str(out), *args, env=ENV, timeout=900)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return result, [r for r in records if r["event"] == "turn"], [r for r in records if r["event"] == "summary"]


def test_default_scenario_passes_end_to_end(built, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result, turns, summary = _simulate(out)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert len(turns) == 6 and all(t["ok"] for t in turns), turns
    assert [t["intent"] for t in turns] == ["add_to_cart", "add_to_cart", "checkout", "confirm", "reorder", "confirm"]
    assert "you may also like" in turns[1]["reply"].lower()
    assert all(t["latency_ms"]["eos_to_first_audio"] for t in turns)
    assert summary and summary[0]["passed"] and summary[0]["cloud_orders"] == 2
    stored = run_cli("cloud", "orders", "list", "--db", str(out / "cloud.sqlite"), "--json")
    orders = [json.loads(line) for line in stored.stdout.splitlines()]
    assert len(orders) == 2 and len({o["key"] for o in orders}) == 2, orders
    for name in ("report.html", "latency.png", "run.jsonl", "conversation.wav", "turn-01-user.wav", "reply-01.wav"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert str(out) in result.stderr  # the folder is named at the end


def test_a_broken_expectation_fails_the_run(built, tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text("name: wrong intent\nsessions:\n  - turns:\n"
                        "      - say: I want to buy apples\n        expect: {intent: cancel_order}\n")
    result, turns, summary = _simulate(tmp_path / "run", "--scenario", str(scenario))
    assert result.returncode == 1, result.stderr[-3000:]
    assert len(turns) == 1 and not turns[0]["ok"]
    assert any("expected 'cancel_order'" in f for f in turns[0]["failures"])
    assert summary and not summary[0]["passed"]


def test_a_bad_scenario_stops_before_anything_loads(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("sessions: [{turns: [{say: hi, button: horn}]}]\n")
    result = run_cli("edge.simulate", "--scenario", str(scenario), env=ENV, timeout=60)
    assert result.returncode == 2
    assert "button: must be ptt or tap" in result.stderr and "Traceback" not in result.stderr
