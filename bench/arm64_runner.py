"""Run bench/arm64_probe.py natively and as a real aarch64 program under qemu user-mode emulation.

Shared by the arm64 test and bench/arm64.py. The emulated environment (Debian arm64 Python 3.11 +
aarch64 wheels from PyPI) is built and cached by scripts/arm64_env.sh.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "bench" / "arm64_probe.py"
REPLY = "Fuji apples, three pound bag, four ninety-nine. Shall I add them?"
COMMAND = "I want to buy two bags of Fuji apples"


class Arm64EnvError(RuntimeError):
    """The emulated environment could not be built."""


@dataclass
class ProbeRun:
    result: dict
    audio: np.ndarray
    wall_seconds: float


def build_env() -> Path:
    """Build (or reuse) the emulated environment; raise Arm64EnvError with the script's output."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "arm64_env.sh")], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, "HOSTPY": sys.executable}, timeout=1800)
    if proc.returncode != 0:
        raise Arm64EnvError(f"scripts/arm64_env.sh failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def command_wav(work: Path) -> Path:
    """A short spoken command, synthesized natively with the shipped voice (noise on, default speed)."""
    from edge.audio import WavSink  # noqa: F401  (ensures edge.audio is importable before we write)
    from edge.config import load_settings
    from edge.tts import load_bundle
    from edge.tts.voice import Voice

    path = work / "command.wav"
    if not path.exists():
        import wave

        settings = load_settings()
        voice = Voice(load_bundle(settings.models.path / "tts"), noise_scale=0.0, noise_w=0.0)
        samples = voice.synthesize(COMMAND, speed=0.95)
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        with wave.open(str(path), "wb") as fh:
            fh.setnchannels(1)
            fh.setsampwidth(2)
            fh.setframerate(voice.sample_rate)
            fh.writeframes(pcm.tobytes())
    return path


def run_probe(wav: Path, work: Path, env_dir: Path | None, cpu: str = "cortex-a72") -> ProbeRun:
    """Run the probe natively (env_dir None) or under qemu-aarch64 with the cached environment."""
    import time

    tag = "arm64" if env_dir else "native"
    out = work / f"tts-{tag}.npy"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_") or k == "VOICESHOP_MODELS_DIR"}
    if "VOICESHOP_MODELS_DIR" in env:  # the bundles the tests built (conftest) are the ones the probe's settings load
        env["VOICESHOP_MODELS__DIR"] = env["VOICESHOP_MODELS_DIR"]
    if env_dir is None:
        cmd = [sys.executable, str(PROBE), str(wav), REPLY, str(out)]
        env["PYTHONPATH"] = str(REPO)
    else:
        rootfs = env_dir / "rootfs"
        cmd = ["qemu-aarch64-static", "-L", str(rootfs), str(rootfs / "usr/bin/python3.11"), str(PROBE),
               str(wav), REPLY, str(out)]
        env.update(PYTHONPATH=f"{env_dir / 'site'}:{REPO}", QEMU_CPU=cpu, PYTHONNOUSERSITE="1")
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{tag} probe failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return ProbeRun(json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out), wall)


def log_mel(samples: np.ndarray, rate: int, n_mels: int = 40) -> np.ndarray:
    """A small log-mel spectrogram (numpy only) for comparing two renderings of the same text."""
    n_fft, hop = 1024, 256
    if samples.size < n_fft:
        samples = np.pad(samples, (0, n_fft - samples.size))
    frames = np.lib.stride_tricks.sliding_window_view(samples, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    edges = np.linspace(mel(0), mel(rate / 2), n_mels + 2)
    hz = 700 * (10 ** (edges / 2595) - 1)
    bins = np.floor((n_fft + 1) * hz / rate).astype(int)
    fb = np.zeros((n_mels, power.shape[1]))
    for i in range(n_mels):
        lo, mid, hi = bins[i], bins[i + 1], bins[i + 2]
        fb[i, lo:mid] = np.linspace(0, 1, max(mid - lo, 1), endpoint=False)[: mid - lo]
        fb[i, mid:hi] = np.linspace(1, 0, max(hi - mid, 1), endpoint=False)[: hi - mid]
    return np.log(power @ fb.T + 1e-6)


def audio_distance(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """Mean absolute log-mel difference over the common length (0 = identical)."""
    n = min(a.size, b.size)
    return float(np.mean(np.abs(log_mel(a[:n], rate) - log_mel(b[:n], rate))))
