"""Building blocks for the dialogue tests: `python -m edge chat --json` run on a script of lines, and
the device's orders through its CLI.

The demo catalog and the fresh device dir per test come from `edge.simulation.world` (`demo_catalog`,
`device_dir`): the simulator, the tests and the benchmarks build and cache one catalog the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import MODELS_DIR, run_cli


def chat(data_dir: Path, lines: list[str], *, profile: str | None = None, env: dict[str, str] | None = None,
         args: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run `python -m edge chat --json` on the lines; one record per turn, in order."""
    command = ["edge", "chat", "--json", "--db", str(data_dir), *args]
    if profile:
        command += ["--profile", profile]
    full_env = {"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "VOICESHOP_BROKER__URL": "", **(env or {})}
    result = run_cli(*command, stdin="".join(f"{line}\n" for line in lines), env=full_env, timeout=300)
    assert result.returncode == 0, f"chat failed ({result.returncode}):\n{result.stderr[-3000:]}"
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(lines), (len(records), len(lines), result.stderr[-2000:])
    return records


def orders(data_dir: Path) -> list[dict[str, Any]]:
    """The device outbox's orders, newest first, through the orders CLI."""
    result = run_cli("edge", "orders", "list", "--json", env={"VOICESHOP_DEVICE__DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def action_types(record: dict[str, Any]) -> list[str]:
    return [action["type"] for action in record["actions"]]
