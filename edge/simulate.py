"""`python -m edge.simulate`: the whole product on a laptop: broker, cloud service, one device with its MCU.

A scripted conversation (edge/scenarios/default.yaml, or --scenario FILE) is spoken in a simulated
user's voice through the real chain: wake word -> VAD/ASR -> NLU -> dialogue -> TTS -> WAV (and the
speaker with --speaker), with a live timeline in the terminal and a report folder at the end. The
work is in edge/simulation/ (runner, scenario, voice, driver, world, checks, timeline, report).
If a part of the chain is not installed it says which and exits non-zero rather than pretending.
"""

from __future__ import annotations

import importlib.util
import sys

# The parts the simulation drives, in pipeline order: module -> what it provides.
REQUIRED = {
    "edge.audio": "audio sources and sinks",
    "edge.wake": "wake word",
    "edge.asr": "VAD + recognition",
    "edge.nlu": "intent and slots",
    "edge.dialog": "shopping dialogue",
    "edge.tts": "speech synthesis",
    "edge.catalog": "device catalog",
    "edge.orders": "order outbox",
    "edge.sync": "MQTT sync",
    "cloud.serve": "cloud reference service",
    "firmware_bridge.sim": "simulated MCU",
    "edge.pipeline": "the device loop",
}


def missing_parts() -> list[str]:
    return [f"{mod} ({what})" for mod, what in REQUIRED.items() if importlib.util.find_spec(mod) is None]


def main(argv: list[str] | None = None) -> int:
    missing = missing_parts()
    if missing:
        print("edge.simulate cannot run yet; these parts are not built:", file=sys.stderr)
        for item in missing:
            print(f"  - {item}", file=sys.stderr)
        return 1
    from edge.simulation.runner import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
