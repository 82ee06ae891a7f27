"""`python -m bench arm64`: the device runtime under qemu-aarch64 beside native x86_64.

Emulation speed is not ARM speed: qemu user mode translates every instruction (~25x slower than
native here), so the emulated column proves wheels, ABI and code paths on aarch64, and the
timings only bound what a real Cortex-A72 would do from above. The table says so.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench import summary
from bench.arm64_runner import audio_distance, build_env, command_wav, run_probe

ROWS = [("import_s", "imports"), ("asr_load_s", "ASR load"), ("asr_s", "ASR decode"),
        ("nlu_load_s", "NLU load"), ("nlu_s", "NLU one utterance"), ("tts_load_s", "TTS load"),
        ("tts_s", "TTS one reply")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench arm64")
    parser.add_argument("--cpu", default="cortex-a72", help="QEMU_CPU model (cortex-a72 ~ Pi 4, cortex-a76 ~ Pi 5)")
    args = parser.parse_args(argv)
    env_dir = build_env()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wav = command_wav(work)
        native = run_probe(wav, work, None)
        emulated = run_probe(wav, work, env_dir, cpu=args.cpu)
    n, e = native.result, emulated.result
    print(f"\nARM64 proof: x86_64 native vs aarch64 under qemu user mode (QEMU_CPU={args.cpu})")
    print("emulated timings are NOT ARM speed: qemu translates every instruction (~25x slower)\n")
    print(f"{'':22} {'x86_64 native':>16} {'aarch64 emulated':>18} {'ratio':>7}")
    print(f"{'machine':22} {n['machine']:>16} {e['machine']:>18}")
    for key, label in ROWS:
        a, b = n["timings"][key], e["timings"][key]
        print(f"{label + ' (s)':22} {a:16.3f} {b:18.3f} {b / a if a else float('nan'):7.1f}")
    print(f"{'whole probe wall (s)':22} {native.wall_seconds:16.1f} {emulated.wall_seconds:18.1f} "
          f"{emulated.wall_seconds / native.wall_seconds:7.1f}")
    same = n["transcript"] == e["transcript"] and n["intent"] == e["intent"] and n["slots"] == e["slots"]
    print(f"\ntranscript: {n['transcript']!r} (aarch64 {'same' if n['transcript'] == e['transcript'] else 'DIFFERS'})")
    print(f"intent/slots: {n['intent']} {n['slots']} (aarch64 {'same' if same else 'DIFFERS'})")
    summary.add("ARM64", "aarch64 (qemu) transcript, intent, slots vs x86_64", "same" if same else "DIFFER", "same",
                f"ASR decode emulated {e['timings']['asr_s']:.1f} s vs native {n['timings']['asr_s']:.2f} s "
                "(emulation, not ARM speed)")
    print(f"TTS log-mel distance native vs aarch64: {audio_distance(native.audio, emulated.audio, n['tts_rate']):.4f}")
    return 0 if same else 1
