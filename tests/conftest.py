"""Shared fixtures: the repo root and a helper that runs our CLIs as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m ...` in a subprocess from the repo root, capturing stdout and stderr apart."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, input=stdin, capture_output=True, text=True,
        env=full_env, timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli
