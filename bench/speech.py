"""`python -m bench speech [--section asr|tts] [--threads N]`: speech recognition and synthesis benchmarks.

One section per engine, each in its own module with ``add_arguments(parser)`` and
``main(args) -> int`` that prints its own table against its anchor (run in this process, same
threads): ASR against faster-whisper on the same Whisper weights, TTS against piper-tts on the
same voice. SECTIONS lists them in the order `--section all` runs them; a section's helper adds
its line here.
"""

from __future__ import annotations

import argparse
import importlib

SECTIONS: dict[str, str] = {
    "asr": "bench.speech_asr",
    "models": "bench.speech_asr_models",  # tiny.en vs base ([asr] model), each against faster-whisper
    "tts": "bench.speech_tts",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench speech", description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=["all", *SECTIONS], default="all", help="which section to run")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads for every engine")
    modules = {name: importlib.import_module(path) for name, path in SECTIONS.items()}
    for module in modules.values():
        module.add_arguments(parser)
    args = parser.parse_args(argv or [])
    # The device's malloc settings (edge.memory), as `python -m edge run` applies them before loading models.
    from edge.config import load_settings
    from edge.memory import tune_allocator

    tune_allocator(load_settings().memory)
    chosen = list(SECTIONS) if args.section == "all" else [args.section]
    status = 0
    for name in chosen:
        status |= int(modules[name].main(args) or 0)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
