"""`python -m bench.asr_memory`: Whisper's resident memory and CPU per decode under each memory setting.

Each configuration runs in a fresh process (an arena, once grown, never shows what another setting
would do) with the device's allocator settings (edge.memory.tune_allocator), loads the recognizer
exactly as the device does, then decodes a session-like sequence: short commands, one long
dictation (the segment limit, where the arena takes its largest buffers), short commands again.
It reports resident memory (anonymous: what this process alone holds) after loading, after the
first commands, at the end, and the peak; and CPU per short-command decode before and after the
long one, and for the long one. Configurations: [asr] runtime (sherpa-onnx, or edge.asr.whisper_ort
with its memory per graph) crossed with [memory] asr_arena / asr_encoder_arena, optionally with other
[asr] tail paddings. They run one after another: read the CPU figures beside the load printed on each
row (the interleaved same-process CPU comparison is `bench speech --asr-compare-runtime`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

_ORT = {"VOICESHOP_ASR__RUNTIME": "onnxruntime"}
CONFIGS = {
    "sherpa arena": {"VOICESHOP_MEMORY__ASR_ARENA": "true"},
    "sherpa no arena": {"VOICESHOP_MEMORY__ASR_ARENA": "false"},
    "ort arena": {**_ORT, "VOICESHOP_MEMORY__ASR_ARENA": "true", "VOICESHOP_MEMORY__ASR_ENCODER_ARENA": "keep"},
    "ort arena + enc shrink": {**_ORT, "VOICESHOP_MEMORY__ASR_ARENA": "true", "VOICESHOP_MEMORY__ASR_ENCODER_ARENA": "shrink"},
    "ort arena - enc arena": {**_ORT, "VOICESHOP_MEMORY__ASR_ARENA": "true", "VOICESHOP_MEMORY__ASR_ENCODER_ARENA": "off"},
    "ort no arena": {**_ORT, "VOICESHOP_MEMORY__ASR_ARENA": "false"},
}
"""[asr] runtime x [memory] settings, at the configured tail padding (--pads adds paddings)."""


def _probe() -> None:
    """Child: one configuration (from the environment); prints one JSON line."""
    from edge.asr import recognizer_for_settings
    from edge.config import load_settings
    from edge.memory import memory_mb, tune_allocator
    from export.speech_corpus import PIPER_JOE, SENTENCES, clip, long_recording, read_wav_16k

    settings = load_settings()
    tune_allocator(settings.memory)
    from bench.speech_asr import _device_transcriber

    recognizer = recognizer_for_settings(settings, partials=False, speculative=False, threads=1)
    transcribe = _device_transcriber(recognizer)
    pad = np.zeros(8000, np.float32)
    commands = [np.concatenate([pad, read_wav_16k(clip(t, PIPER_JOE).path), pad]) for t in SENTENCES[:8]]
    # 26 s of speech with 0.3 s gaps: one utterance near the 28 s segment limit
    dictation, _ = long_recording(26.0, pause=0.3)
    record = {"loaded": memory_mb()}

    def decode_all() -> float:
        cpu = time.process_time()
        for audio in commands:
            transcribe(audio)
        return (time.process_time() - cpu) / len(commands)

    record["cpu_ms_per_command"] = [round(1000 * decode_all(), 1)]
    record["after_commands"] = memory_mb()
    cpu = time.process_time()
    transcribe(dictation)
    record["cpu_ms_long"] = round(1000 * (time.process_time() - cpu), 1)
    record["after_long"] = memory_mb()
    record["cpu_ms_per_command"].append(round(1000 * decode_all(), 1))
    record["end"] = memory_mb()
    print(json.dumps(record))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.asr_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configuration names")
    parser.add_argument("--pads", default="", help="extra tail paddings to try, with and without the arena "
                                                     "(frames, comma-separated)")
    args = parser.parse_args(argv)
    if args.probe:
        _probe()
        return 0
    configs = {name: CONFIGS[name] for name in args.configs.split(",") if name}
    for pad in filter(None, args.pads.split(",")):
        for name, env in CONFIGS.items():
            configs[f"{name} pad {pad}"] = {**env, "VOICESHOP_ASR__TAIL_PADDING_FRAMES": pad}
    print(f"load {os.getloadavg()[0]:.1f}")
    print(f"{'configuration':<30} {'loaded':>7} {'commands':>9} {'after 26 s':>10} {'end':>6} {'peak':>6}  "
          f"{'anon MB: loaded/end':>20}  cpu ms/command before/after  cpu ms 26 s  load")
    for name, env in configs.items():
        result = subprocess.run([sys.executable, "-m", "bench.asr_memory", "--probe"], capture_output=True, text=True,
                                env={**os.environ, **env}, check=False)
        if result.returncode:
            print(f"{name:<30} failed: {result.stderr[-400:]}")
            continue
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{name:<30} {r['loaded']['rss_mb']:>7.0f} {r['after_commands']['rss_mb']:>9.0f} "
              f"{r['after_long']['rss_mb']:>10.0f} {r['end']['rss_mb']:>6.0f} {r['end']['peak_rss_mb']:>6.0f}  "
              f"{r['loaded'].get('anon_mb', 0):>9.0f}/{r['end'].get('anon_mb', 0):<10.0f}  "
              f"{r['cpu_ms_per_command'][0]:>14.0f}/{r['cpu_ms_per_command'][1]:<14.0f} {r['cpu_ms_long']:>9.0f}"
              f"  {os.getloadavg()[0]:4.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
