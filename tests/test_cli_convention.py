"""The one CLI convention of `python -m edge` and `python -m cloud`, tested in process (no subprocess).

voiceshop_common.cli holds emit_json, fail and the dispatcher; these tests drive it with a small
command module made here, then the real edge and cloud fronts, and check nothing else defines its own.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import sys
import types

import pytest

import cloud.cli
import edge.cli
from tests.conftest import REPO
from voiceshop_common import cli as common
from voiceshop_common.cli import BAD_INPUT, INTERRUPTED, WORLD_FAILED, CliFailure, Program, emit_json, fail


@pytest.fixture(autouse=True)
def keep_root_logger():
    """edge.cli routes the root logger to the (captured) stderr; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _command(behaviour):
    """A command module whose run does behaviour(args); registered as tests._fake_command."""
    module = types.ModuleType("tests._fake_command")

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n", type=int, default=0)
        sub = parser.add_subparsers(dest="action")
        sub.add_parser("go")

    module.add_arguments = add_arguments
    module.run = behaviour
    return module


@pytest.fixture
def program(monkeypatch):
    def make(behaviour) -> Program:
        monkeypatch.setitem(sys.modules, "tests._fake_command", _command(behaviour))
        return Program("python -m demo", "a demo program", {"thing": ("tests._fake_command", "does a thing")})
    return make


def _run(program: Program, *argv: str) -> int:
    return program.main(list(argv), lambda module, args: module.run(args))


def test_emit_json_is_one_flushed_line_and_keeps_non_ascii(capsys):
    emit_json({"name": "crème fraîche", "n": 1})
    emit_json({"path": REPO})  # not JSON-native: printed as its str
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0]) == {"name": "crème fraîche", "n": 1} and "crème" in lines[0]
    assert json.loads(lines[1]) == {"path": str(REPO)}


def test_fail_raises_with_bad_input_by_default():
    with pytest.raises(CliFailure) as info:
        fail("no such file")
    assert info.value.code == BAD_INPUT == 2 and info.value.message == "no such file"
    with pytest.raises(CliFailure) as info:
        fail("port vanished", WORLD_FAILED)
    assert info.value.code == WORLD_FAILED == 1


def test_dispatcher_runs_the_command_and_returns_its_code(program, capsys):
    def behaviour(args):
        emit_json({"n": args.n})
        return 3
    assert _run(program(behaviour), "thing", "--n", "7") == 3
    assert capsys.readouterr().out == '{"n": 7}\n'


def test_a_failing_command_prints_one_line_naming_program_and_action(program, capsys):
    assert _run(program(lambda args: fail("bad --n")), "thing") == BAD_INPUT
    out, err = capsys.readouterr()
    assert out == "" and err == "python -m demo thing: bad --n\n"
    assert _run(program(lambda args: fail("disk full", WORLD_FAILED)), "thing", "go") == WORLD_FAILED
    assert capsys.readouterr().err == "python -m demo thing go: disk full\n"


def test_ctrl_c_exits_130(program):
    def interrupted(args):
        raise KeyboardInterrupt
    assert _run(program(interrupted), "thing") == INTERRUPTED == 130


def test_unknown_command_exits_2_and_help_exits_0(program, capsys):
    demo = program(lambda args: 0)
    assert _run(demo, "fly") == BAD_INPUT
    out, err = capsys.readouterr()
    assert out == "" and "python -m demo: unknown subcommand 'fly'" in err
    assert _run(demo, "--help") == 0 and "does a thing" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:  # argparse's own bad input: exit 2 as well
        _run(demo, "thing", "--n", "many")
    assert info.value.code == BAD_INPUT


def test_edge_config_with_a_bad_section_is_bad_input(capsys, monkeypatch):
    monkeypatch.delenv("VOICESHOP_CONFIG", raising=False)
    assert edge.cli.main(["config", "--section", "bogus"]) == BAD_INPUT
    out, err = capsys.readouterr()
    assert out == "" and "unknown section 'bogus'" in err and err.count("\n") == 1
    assert edge.cli.main(["config", "--json", "--section", "broker"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == ["broker"]


def test_edge_bad_config_file_is_bad_input(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[threads]\nasr = 'x'\n")
    assert edge.cli.main(["config", "--config", str(bad)]) == BAD_INPUT
    out, err = capsys.readouterr()
    assert out == "" and "config error" in err and str(bad) in err and "Traceback" not in err


def test_cloud_unknown_group_is_bad_input(capsys):
    assert cloud.cli.main(["fly"]) == BAD_INPUT
    assert "python -m cloud: unknown group 'fly'" in capsys.readouterr().err


def test_edge_and_cloud_share_one_emit_json_and_one_fail():
    assert edge.cli.emit_json is cloud.cli.emit_json is common.emit_json
    assert edge.cli.fail is cloud.cli.fail is common.fail
    defined = []
    for package in ("edge", "cloud"):
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef) and node.name in ("emit_json", "_fail", "fail", "_bad_input"):
                    defined.append(f"{path.relative_to(REPO)}:{node.name}")
    assert defined == [], "define CLI output and failure once, in voiceshop_common.cli"
