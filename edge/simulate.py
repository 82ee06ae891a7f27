"""`python -m edge.simulate`: the whole device on a laptop (broker, cloud service, device, MCU).

Built in stages as the issues land; until the full chain exists it says what is missing and exits
non-zero rather than pretending.
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


def main() -> int:
    missing = missing_parts()
    if missing:
        print("edge.simulate cannot run yet; these parts are not built:", file=sys.stderr)
        for item in missing:
            print(f"  - {item}", file=sys.stderr)
        return 1
    from edge.simulation.runner import main as run  # type: ignore[import-not-found]

    return run()


if __name__ == "__main__":
    sys.exit(main())
