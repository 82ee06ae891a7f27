"""`python -m edge nlu`: JSON conventions, stdin mode, input order, and a clear error without a bundle."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def _records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_one_object_per_text_in_order(bundle, cli):
    models = bundle("nlu").parent
    texts = ["add two bags of fuji apples", "where is my order", "yes", "how much is oat milk"]
    result = cli("edge", "nlu", "--json", *texts, env={"VOICESHOP_MODELS__DIR": str(models)})
    assert result.returncode == 0, result.stderr
    records = _records(result.stdout)
    assert [r["text"] for r in records] == texts
    assert all(set(r) == {"text", "intent", "confidence", "slots"} for r in records)
    assert [r["intent"] for r in records] == ["add_to_cart", "order_status", "confirm", "price_query"]
    assert records[0]["slots"] == {"quantity": 2, "unit": "bag", "product": "fuji apples"}
    assert records[1]["slots"] == {}


def test_stdin_lines_blank_and_undecodable_included(bundle, cli):
    models = bundle("nlu").parent
    stdin = "add 3 cans of soup\n\ncancel my order\n"
    result = cli("edge", "nlu", "--json", "-", stdin=stdin, env={"VOICESHOP_MODELS__DIR": str(models)})
    assert result.returncode == 0, result.stderr
    records = _records(result.stdout)
    assert [r["text"] for r in records] == ["add 3 cans of soup", "", "cancel my order"]
    assert records[0]["slots"]["quantity"] == 3 and records[1]["intent"] == "other"
    assert records[2]["intent"] == "cancel_order"


def test_bad_bytes_on_stdin_are_replaced_not_fatal(bundle, tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    models = bundle("nlu").parent
    proc = subprocess.run([sys.executable, "-m", "edge", "nlu", "--json", "-"], cwd=REPO,
                          input=b"add milk \xff\xfe please\n", capture_output=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "VOICESHOP_MODELS__DIR": str(models)})
    assert proc.returncode == 0, proc.stderr
    (record,) = _records(proc.stdout.decode())
    assert record["text"].startswith("add milk") and record["intent"] == "add_to_cart"


def test_missing_bundle_is_a_one_line_error(cli, tmp_path):
    result = cli("edge", "nlu", "--json", "hello", env={"VOICESHOP_MODELS__DIR": str(tmp_path)})
    assert result.returncode == 2 and result.stdout == ""
    assert "python -m export nlu" in result.stderr and "Traceback" not in result.stderr
