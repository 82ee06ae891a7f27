"""The device runtime's speech-to-reply path, run identically on x86_64 and under qemu-aarch64.

Prints one JSON object: the machine, the transcript of a WAV, the NLU result on that transcript,
a deterministic synthesis (noise scales 0) of a short reply, and per-step timings. The arm64 test
runs this twice (native and emulated) and compares. Only device code and its runtime wheels are
used: nothing here may need torch or the export toolchain.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np


def main() -> int:
    wav, reply, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    timings: dict[str, float] = {}
    started = time.perf_counter()
    from edge.asr import recognizer_for_settings
    from edge.asr.files import transcribe_file
    from edge.config import load_settings
    from edge.nlu import Understander
    from edge.tts import load_bundle
    from edge.tts.voice import Voice

    settings = load_settings()
    timings["import_s"] = time.perf_counter() - started

    t = time.perf_counter()
    recognizer = recognizer_for_settings(settings, partials=False, speculative=False)
    timings["asr_load_s"] = time.perf_counter() - t
    transcript = transcribe_file(wav, recognizer)
    timings["asr_s"] = transcript.processing_seconds

    t = time.perf_counter()
    nlu = Understander.from_settings(settings)
    timings["nlu_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    understanding = nlu.understand(transcript.text)
    timings["nlu_s"] = time.perf_counter() - t

    t = time.perf_counter()
    voice = Voice(load_bundle(settings.models.path / "tts"), threads=settings.threads.tts,
                  noise_scale=0.0, noise_w=0.0)
    timings["tts_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    samples = voice.synthesize(reply)
    timings["tts_s"] = time.perf_counter() - t
    np.save(out, samples)
    print(json.dumps({
        "machine": platform.machine(),
        "transcript": transcript.text,
        "intent": understanding.intent,
        "slots": understanding.slots,
        "tts_samples": int(samples.size),
        "tts_rate": voice.sample_rate,
        "audio_seconds": transcript.audio_seconds,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
