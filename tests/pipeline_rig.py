"""Building blocks for the device-loop tests: real bundles, the demo catalog, the simulated user's voice.

Everything is real: the wake, vad, asr, nlu and tts bundles (built through `python -m export` by the
`bundle` fixture), the demo catalog as a device gets it (edge.simulation.world, cached), the user's
lines synthesized by edge.simulation.voice (cached WAVs), and the simulated MCU on a pty.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from edge.audio import write_wav
from edge.config import Settings, load_settings
from edge.simulation.scenario import UserVoice
from edge.simulation.voice import UserSpeaker
from tests.conftest import MODELS_DIR, run_cli

BUNDLES = ("wake", "vad", "asr", "nlu", "tts")
RATE = 16000


def settings_for(profile: str = "speaker", **device: Any) -> Settings:
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)})
    return dataclasses.replace(settings, device=dataclasses.replace(settings.device, profile=profile, **device))


def speaker() -> UserSpeaker:
    return UserSpeaker(settings_for(), UserVoice())


def with_silence(*clips: np.ndarray, gap: float = 1.5, lead: float = 0.5) -> np.ndarray:
    """Clips separated by gap seconds of silence, after lead seconds of it, ending with a gap."""
    parts = [np.zeros(int(lead * RATE), dtype=np.float32)]
    for clip in clips:
        parts += [clip, np.zeros(int(gap * RATE), dtype=np.float32)]
    return np.concatenate(parts)


def write(path: Path, audio: np.ndarray) -> Path:
    return write_wav(path, audio, RATE)


def edge_run(wav: Path, data: Path, *args: str) -> tuple[list[dict[str, Any]], Any]:
    """`python -m edge run --wav ... --json` -> (records, completed process)."""
    result = run_cli("edge", "run", "--wav", str(wav), "--db", str(data), "--json", *args,
                     env={"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "VOICESHOP_BROKER__URL": ""}, timeout=600)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return records, result
