"""A quick run of the soak benchmark: a few randomized fault trials and a small offline backlog.

The full run (`python -m bench soak_orders`, 100 trials and 10,000 orders) is a benchmark; this only
checks that the harness works and that its own verdict (0 lost, 0 duplicated) holds on a short run.
Speed is not asserted here.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.broker


def test_quick_soak_loses_and_duplicates_nothing(cli):
    result = cli("bench", "soak_orders", "--trials", "4", "--flush", "300", "--rounds", "1", "--seed", "7",
                 "--json", timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["trials"] == 4 and summary["settled"] == 4
    assert summary["lost"] == 0 and summary["duplicated"] == 0 and summary["unexpected"] == 0
    assert summary["flush"]["orders"] == 300 and summary["flush"]["lost"] == 0 and summary["flush"]["duplicated"] == 0
    assert "orders/s" in result.stdout and "raw paho QoS 1" in result.stdout
