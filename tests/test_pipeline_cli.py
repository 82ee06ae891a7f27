"""`python -m edge run` on bad input: a one-line message and exit 2, before any model is loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.audio import write_wav
from edge.simulation.world import REPO


def _run(cli, *args: str, models: Path | None = None):
    env = {"VOICESHOP_MODELS__DIR": str(models)} if models else None
    return cli("edge", "run", "--json", *args, env=env, timeout=120)


def test_missing_wav(cli, tmp_path: Path) -> None:
    result = _run(cli, "--wav", str(tmp_path / "nope.wav"))
    assert result.returncode == 2 and result.stdout == ""
    assert "nope.wav: no such file" in result.stderr and "Traceback" not in result.stderr


def test_not_a_wav(cli) -> None:
    result = _run(cli, "--wav", str(REPO / "pyproject.toml"))
    assert result.returncode == 2 and "not a WAV file" in result.stderr and "Traceback" not in result.stderr


def test_missing_bundles_name_the_command_that_builds_them(cli, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "silence.wav", np.zeros(16000, "float32"), 16000)
    result = _run(cli, "--wav", str(wav), "--output", "null", models=tmp_path / "no-models")
    assert result.returncode == 2 and result.stdout == ""
    assert "python -m export" in result.stderr and "Traceback" not in result.stderr


def test_a_source_is_required(cli) -> None:
    result = _run(cli)
    assert result.returncode == 2 and "--wav" in result.stderr


def test_bad_output_folder(cli, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "silence.wav", np.zeros(16000, "float32"), 16000)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _run(cli, "--wav", str(wav), "--output", str(blocker / "replies"), models=tmp_path / "no-models")
    assert result.returncode == 2 and "cannot create the reply folder" in result.stderr, result.stderr


def test_demo_catalog_into_a_data_dir_that_is_a_file(cli, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "silence.wav", np.zeros(16000, "float32"), 16000)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _run(cli, "--wav", str(wav), "--output", "null", "--db", str(blocker), "--demo-catalog",
                  models=tmp_path / "no-models")
    assert result.returncode == 2 and result.stdout == ""
    assert f"cannot build the demo catalog in {blocker}" in result.stderr and "Traceback" not in result.stderr
