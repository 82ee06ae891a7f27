"""`python -m edge.simulate --scenario zh` end to end: the seed's own conversation in Mandarin, through the
real chain (wake word -> VAD + Whisper base zh -> Chinese NLU -> Mandarin dialogue -> Chinese catalog ->
zh voice), with the cloud.

Held to the English run's criteria (tests/test_simulate_run.py): every transcript within the scenario's
character error rate, every intent right, the Chinese replies in the seed's style, and the two orders
stored exactly once in the cloud's database, checked again through the cloud's CLI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import MODELS_DIR, run_cli

pytestmark = pytest.mark.slow

ENV = {"VOICESHOP_MODELS__DIR": str(MODELS_DIR)}
ZH_BUNDLES = ("wake", "vad", "asr-base", "nlu-zh", "tts-zh", "tts")
"""tts: the English voice says the English wake phrase ("Hey voice shop,") before each Mandarin request."""


@pytest.fixture(scope="module")
def built(bundle) -> None:
    for name in ZH_BUNDLES:
        bundle(name)


def test_the_mandarin_scenario_passes_end_to_end(built, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli("edge.simulate", "--scenario", "zh", "--json", "--out", str(out), env=ENV, timeout=1800)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    turns = [r for r in records if r["event"] == "turn"]
    summary = [r for r in records if r["event"] == "summary"]
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert len(turns) == 6 and all(t["ok"] for t in turns), turns
    assert [t["intent"] for t in turns] == ["add_to_cart", "add_to_cart", "checkout", "confirm", "reorder", "confirm"]
    first, added, read_back = turns[0]["reply"], turns[1]["reply"], turns[2]["reply"]
    assert re.search(r"这是新鲜的.*苹果，\d+斤\d+(\.\d+)?元", first), first  # the seed's "这是新鲜的苹果，3斤39元"
    assert "您可能也喜欢" in added and re.search(r"一共.+件，\d+(\.\d+)?元，确认下单吗？", read_back), (added, read_back)
    assert not re.search(r"[A-Za-z$]", "".join(t["reply"] for t in turns)), [t["reply"] for t in turns]
    assert all(re.search(r"[\u4e00-\u9fff]", t["transcript"] or "") for t in turns)  # Chinese characters heard
    assert summary and summary[0]["passed"] and summary[0]["cloud_orders"] == 2
    stored = run_cli("cloud", "orders", "list", "--db", str(out / "cloud.sqlite"), "--json")
    orders = [json.loads(line) for line in stored.stdout.splitlines()]
    assert len(orders) == 2 and len({o["key"] for o in orders}) == 2, orders
    assert all(o["currency"] == "CNY" and o["status"] == "accepted" for o in orders), orders
