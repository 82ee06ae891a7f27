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


MODELS_DIR = Path(os.environ.get("VOICESHOP_MODELS_DIR", "~/.cache/voiceshop/models")).expanduser()


def asr_settings(models: Path = MODELS_DIR, **asr: object):
    """Settings over a models dir with [asr] keys given as VOICESHOP_ASR__* (booleans as TOML writes them):
    the recognizer tests' one way to ask for a runtime, padding or endpointing setting."""
    from edge.config import load_settings

    environ = {"VOICESHOP_MODELS__DIR": str(models)}
    environ.update({f"VOICESHOP_ASR__{key.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
                    for key, value in asr.items()})
    return load_settings(environ=environ)


def ensure_bundle(name: str) -> Path:
    """Build (or reuse, when up to date) a model bundle through export/, as a user would."""
    result = run_cli("export", name, "--out", str(MODELS_DIR), timeout=3600)
    assert result.returncode == 0, f"python -m export {name} failed:\n{result.stderr[-4000:]}"
    path = MODELS_DIR / name
    assert (path / "manifest.json").is_file(), f"{path} has no manifest.json"
    return path


@pytest.fixture(scope="session")
def bundle():
    """bundle('asr') -> Path of the built bundle; built on first use, cached outside the repo."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = ensure_bundle(name)
        return built[name]

    return get


@pytest.fixture(scope="module")
def models(bundle):
    """The models dir with the recognizer's bundles (VAD, tiny.en) built; a test module may define its own."""
    bundle("vad")
    bundle("asr")
    return MODELS_DIR
