"""Building blocks for the Wyoming tests: `python -m edge wyoming` in a subprocess, and a client.

The server runs exactly as a user starts it (the CLI, real bundles, a demo-catalog device dir); the
client is the `wyoming` package's AsyncTcpClient, the library Home Assistant uses. Audio helpers
turn 16 kHz float clips into the PCM a client would send in any rate, width and channel count.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import soxr
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from tests.conftest import MODELS_DIR, REPO

READY_SECONDS = 600.0
EVENT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WyomingServer:
    """`python -m edge wyoming` on a free port; stderr goes to a log file the tests can read."""

    def __init__(self, data_dir: Path, log_path: Path, *, broker: str = "", env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log_path = log_path
        command = [sys.executable, "-m", "edge", "wyoming", "--uri", f"tcp://127.0.0.1:{self.port}",
                   "--db", str(data_dir), "--json", "--broker", broker]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_")}
        full_env.update({"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "PYTHONUNBUFFERED": "1", **(env or {})})
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     env=full_env)
        self.ready = self._wait_ready()

    def _wait_ready(self) -> dict[str, Any]:
        ready: dict[str, Any] = {}

        def first_line() -> None:
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if line:
                ready.update(json.loads(line))

        reader = threading.Thread(target=first_line, daemon=True)
        reader.start()
        reader.join(READY_SECONDS)
        if ready.get("event") != "ready":
            self.stop()
            raise AssertionError(f"the server did not start:\n{self.log()[-3000:]}")
        return ready

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


def pcm(audio16k: np.ndarray, rate: int = 16000, width: int = 2, channels: int = 1) -> bytes:
    """A 16 kHz float clip as interleaved PCM in the given format (8-bit unsigned, 16/32-bit signed)."""
    audio = soxr.resample(audio16k, 16000, rate).astype(np.float32) if rate != 16000 else audio16k
    frames = np.repeat(np.clip(audio, -1, 1)[:, None], channels, axis=1)
    if width == 1:
        return np.round(frames * 127 + 128).astype(np.uint8).tobytes()
    scale = float(2 ** (8 * width - 1) - 1)
    return np.round(frames.astype(np.float64) * scale).astype({2: "<i2", 4: "<i4"}[width]).tobytes()


def audio_events(data: bytes, rate: int, width: int, channels: int, chunk_seconds: float = 0.064) -> list[Event]:
    """audio-start, the chunks, audio-stop for one recording."""
    step = max(1, int(rate * chunk_seconds)) * width * channels
    chunks = [AudioChunk(rate=rate, width=width, channels=channels, audio=data[i:i + step]).event()
              for i in range(0, len(data), step)]
    return [AudioStart(rate=rate, width=width, channels=channels).event(), *chunks, AudioStop().event()]


async def exchange(port: int, events: Iterable[Event], until: Callable[[Event], bool], *,
                   pace: float = 0.0) -> list[Event]:
    """Send events (audio-chunks `pace` seconds apart) while reading replies until `until` is true."""
    received: list[Event] = []
    async with AsyncTcpClient("127.0.0.1", port) as client:
        async def read() -> None:
            while True:
                event = await asyncio.wait_for(client.read_event(), EVENT_SECONDS)
                if event is None:
                    return
                received.append(event)
                if until(event):
                    return

        reader = asyncio.create_task(read())
        for event in events:
            await client.write_event(event)
            if pace and event.type == "audio-chunk":
                await asyncio.sleep(pace)
        await reader
    return received


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.type == kind]
