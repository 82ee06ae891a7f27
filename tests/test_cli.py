"""CLI conventions: help lists subcommands, --json is pure JSON lines, logs stay on stderr."""

from __future__ import annotations

import json

from edge.cli import SUBCOMMANDS


def test_help_lists_every_subcommand(cli):
    result = cli("edge", "--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


def test_unknown_subcommand_exits_2(cli):
    result = cli("edge", "fly")
    assert result.returncode == 2
    assert "unknown subcommand 'fly'" in result.stderr
    assert result.stdout == ""


def test_json_output_is_only_json_lines(cli):
    result = cli("edge", "config", "--json", "-vv", env={"VOICESHOP_DEVICE__PROFILE": "car"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["device"]["profile"] == "car"
    assert data["profiles"]["car"]["max_results"] == 2


def test_bad_config_exits_2_with_one_line_and_no_traceback(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[threads]\nasr = 'x'\n")
    result = cli("edge", "config", "--json", "--config", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert str(bad) in result.stderr and "threads.asr" in result.stderr


def test_every_subcommand_has_help(cli):
    for name in SUBCOMMANDS:
        result = cli("edge", name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        for flag in ("--json", "--log-json", "--config"):
            assert flag in result.stdout, (name, flag)


def test_simulate_says_what_is_missing_until_built(cli):
    from edge.simulate import missing_parts

    result = cli("edge.simulate")
    if missing_parts():
        assert result.returncode != 0
        assert "cannot run yet" in result.stderr
