"""The catalog CLIs end to end, as a user runs them: cloud generate/keygen/recs/publish, edge apply/search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _json_lines(stdout: str) -> list[dict]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must be JSON: nothing else on stdout


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("catalog_cli")
    master, keys, out = root / "master.db", root / "keys", root / "out"
    steps = [
        ("cloud", "catalog", "generate", "--products", "1500", "--seed", "9", "--out", str(master)),
        ("cloud", "catalog", "keygen", "--out", str(keys)),
        ("cloud", "recs", "train", "--catalog", str(master), "--users", "300", "--factors", "16"),
        ("cloud", "catalog", "publish", "--catalog", str(master), "--key", str(keys), "--out", str(out),
         "--no-embeddings"),
        ("cloud", "catalog", "change", "--catalog", str(master), "--prices", "30", "--stock", "10", "--new", "5"),
        ("cloud", "catalog", "delta", "--catalog", str(master), "--key", str(keys), "--out", str(out / "d2.vscat"),
         "--no-embeddings"),
    ]
    records = []
    for step in steps:
        result = run_cli(*step)
        assert result.returncode == 0, f"{step}: {result.stderr}"
        records.append(_json_lines(result.stdout)[0])
    env = {"VOICESHOP_DEVICE__DATA_DIR": str(root / "device"),
           "VOICESHOP_CATALOG__PUBLIC_KEY_FILE": str(keys / "catalog_signing.pub")}
    return root, records, env


def test_cloud_steps_report_json(published):
    _root, records, _env = published
    generated, _keys, recs, v1, change, v2 = records
    assert generated["products"] == 1500
    assert recs["als"]["precision@10"] > 0 and "popular" in recs
    for model in ("popular", "als", "blend"):
        assert {"precision@10", "recall@10", "cart_family_share", "coverage"} <= set(recs[model])
    assert recs["blend"]["cart_family_share"] == 0 and recs["complement_pairs"] > 0
    assert v1["version"] == 1 and Path(v1["snapshot"]).is_file()
    assert change["prices"] == 30 and change["pending_version"] == 2
    assert v2["version"] == 2 and v2["delta_changes"] == 45 and v2["delta"].endswith("d2.vscat")


def test_edge_apply_search_recommend_stats(published, cli):
    root, records, env = published
    snapshot, delta = records[3]["snapshot"], records[5]["delta"]
    result = cli("edge", "catalog", "apply", snapshot, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert _json_lines(result.stdout)[0]["status"] == "applied"
    result = cli("edge", "catalog", "apply", delta, "--json", env=env)
    applied = _json_lines(result.stdout)[0]
    assert result.returncode == 0 and applied["status"] == "applied" and applied["version"] == 2

    result = cli("edge", "catalog", "search", "fugi apples", "--max-price", "20", "--limit", "3", "--json", env=env)
    hits = _json_lines(result.stdout)
    assert result.returncode == 0 and len(hits) == 3
    assert hits[0]["name"] == "Fuji apples" and "phonetic" in hits[0]["why"] and hits[0]["price_cents"] <= 2000

    result = cli("edge", "catalog", "recommend", "--user", "user-00001", "--with", "spaghetti", "--json", env=env)
    recs = _json_lines(result.stdout)
    assert result.returncode == 0 and len(recs) >= 5 and all(r["in_stock"] for r in recs)
    assert any(r["reason"].startswith("often bought with") for r in recs)
    assert not any(r["name"] in ("spaghetti", "penne pasta") for r in recs)  # not another pasta

    result = cli("edge", "catalog", "recommend", "--user", "user-00001", "--like", "Fuji apples", "--cheaper",
                 "-k", "3", "--json", env=env)
    cheaper = _json_lines(result.stdout)
    assert result.returncode == 0 and cheaper and all(r["reason"] == "cheaper than Fuji apples" for r in cheaper)
    assert all(r["name"].endswith("apples") for r in cheaper)

    result = cli("edge", "catalog", "stats", "--json", env=env)
    stats = _json_lines(result.stdout)[0]
    assert stats["version"] == 2 and stats["products"] == 1505 and stats["item_factors"] > 0
    assert Path(stats["path"]) == root / "device" / "catalog.db"


def test_edge_rejects_bad_files_without_traceback(published, cli, tmp_path):
    _root, records, env = published
    env = {**env, "VOICESHOP_DEVICE__DATA_DIR": str(tmp_path)}
    bad = tmp_path / "bad.vscat"
    data = bytearray(Path(records[3]["snapshot"]).read_bytes())
    data[-10] ^= 0xFF
    bad.write_bytes(bytes(data))
    result = cli("edge", "catalog", "apply", str(bad), "--json", env=env)
    assert result.returncode == 1 and _json_lines(result.stdout)[0]["status"] == "rejected"
    assert "rejected" in result.stderr and "Traceback" not in result.stderr
    result = cli("edge", "catalog", "apply", str(tmp_path / "missing.vscat"), env=env)
    assert result.returncode == 2 and "no such file" in result.stderr
    result = cli("edge", "catalog", "search", "milk", "--limit", "0", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = cli("cloud", "catalog", "publish", "--catalog", str(tmp_path / "none.db"), "--key", "x", "--out", "y")
    assert result.returncode == 2 and "no master catalog" in result.stderr


def test_a_fresh_data_dir_says_how_to_load_a_catalog(cli, tmp_path):
    for action in (("search", "fugi apples"), ("stats",), ("recommend", "--user", "u1")):
        result = cli("edge", "catalog", "--db", str(tmp_path), *action)
        assert result.returncode == 2 and result.stdout == "", result
        assert f"No catalog at {tmp_path / 'catalog.db'}" in result.stderr and "Traceback" not in result.stderr
        assert "--demo-catalog" in result.stderr and "catalog --db" in result.stderr  # the two ways to load one
    result = cli("edge", "catalog", "search", "milk", env={"VOICESHOP_DEVICE__DATA_DIR": str(tmp_path / "d")})
    assert result.returncode == 2 and "No catalog at" in result.stderr
    assert list(tmp_path.iterdir()) == []  # reading created no empty catalog.db


def test_db_is_the_device_data_dir_with_the_catalog_and_its_key(published, cli, tmp_path):
    root, records, _env = published
    device = tmp_path / "device"
    device.mkdir()
    (device / "catalog_signing.pub").write_bytes((root / "keys" / "catalog_signing.pub").read_bytes())
    env = {"VOICESHOP_DEVICE__DATA_DIR": str(tmp_path / "elsewhere")}
    result = cli("edge", "catalog", "--db", str(device), "apply", records[3]["snapshot"], "--json", env=env)
    assert result.returncode == 0 and _json_lines(result.stdout)[0]["status"] == "applied", result.stderr
    result = cli("edge", "catalog", "search", "fugi apples", "--db", str(device), "--json", env=env)
    assert result.returncode == 0 and _json_lines(result.stdout)[0]["name"] == "Fuji apples"
    stats = _json_lines(cli("edge", "catalog", "--db", str(device), "stats", "--json", env=env).stdout)[0]
    assert Path(stats["path"]) == device / "catalog.db" and not (tmp_path / "elsewhere").exists()
