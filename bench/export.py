"""`python -m bench export [--model asr] [--threads N] [--clips N]`: FP32 vs shipped, per model.

One function per model prints its table (size, single-thread time, accuracy), so each model's
helper adds theirs without touching the others. ASR compares, on the same synthesized clips and
in this process: our FP32 and INT8 files on sherpa-onnx (the device path), and the anchor,
faster-whisper int8 greedy on the CT2 weights we converted from.
Goal (issue 3, a benchmark not a test): ASR INT8 processing time <= faster-whisper int8 greedy's,
with no worse WER.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import summary
from bench.asr_anchor import (
    DEFAULT_VOICES,
    anchor_model_dir,
    clip_set,
    faster_whisper_anchor,
    run_interleaved,
    sherpa_whisper,
    voice_groups,
)
from export.bundle import DEFAULT_OUT


def _mb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


def asr_table(models: Path, threads: int, per_voice: int) -> int:
    bundle = models / "asr"
    manifest = json.loads((bundle / "manifest.json").read_text())
    roles = {info["role"]: bundle / name for name, info in manifest["files"].items()}
    fp32 = Path(manifest["extra"]["fp32_build_dir"])
    fp32_files = [fp32 / "encoder.onnx", fp32 / "decoder.onnx"]
    if not all(p.is_file() for p in fp32_files):
        print(f"ASR: FP32 files missing under {fp32}; rebuild with: python -m export asr --force")
        return 1
    tail = int(manifest["extra"].get("tail_paddings", 1000))
    systems = {
        "sherpa FP32": sherpa_whisper(fp32_files[0], fp32_files[1], roles["tokens"], threads, tail),
        "sherpa INT8 (shipped)": sherpa_whisper(roles["encoder"], roles["decoder"], roles["tokens"], threads, tail),
        "faster-whisper int8 (anchor)": faster_whisper_anchor(threads),
    }
    sizes = {"sherpa FP32": _mb(fp32_files), "sherpa INT8 (shipped)": _mb([roles["encoder"], roles["decoder"]]),
             "faster-whisper int8 (anchor)": _mb([anchor_model_dir() / "model.bin"])}
    utterances, clips = clip_set(DEFAULT_VOICES, per_voice)
    audio_seconds = sum(len(c) for c in clips) / 16000
    scores = run_interleaved(systems, clips)
    groups = voice_groups(utterances)
    refs = [u.text for u in utterances]
    anchor = scores["faster-whisper int8 (anchor)"]
    print(f"\nASR export: {len(clips)} synthesized commands ({audio_seconds:.0f} s; voices "
          f"{', '.join(v.label for v in DEFAULT_VOICES)}), {threads} thread(s), same process, interleaved")
    print("sizes: weights on disk (the anchor's model.bin is CT2 fp16; int8 is applied when loaded)")
    header = (f"{'variant':<30} {'MB':>6} {'wall s':>7} {'cpu s':>7} {'RTF cpu':>8} {'cpu/anchor':>10} "
              + " ".join(f"{'WER ' + g:>11}" for g in groups) + f" {'WER all':>8}")
    print(header)
    print("-" * len(header))
    for name, score in scores.items():
        rates = " ".join(f"{_group_wer(score.hypotheses, refs, idx):>11.3f}" for idx in groups.values())
        print(f"{name:<30} {sizes[name]:>6.1f} {score.wall_total:>7.1f} {score.cpu_total:>7.1f} "
              f"{score.cpu_total / audio_seconds:>8.3f} {score.cpu_total / anchor.cpu_total:>10.2f} "
              f"{rates} {score.wer(refs):>8.3f}")
    ours = scores["sherpa INT8 (shipped)"]
    summary.add("ASR export", "shipped INT8: CPU time / WER / size", f"{ours.cpu_total / anchor.cpu_total:.2f}x / "
                f"{ours.wer(refs):.3f} / {sizes['sherpa INT8 (shipped)']:.1f} MB", "time <= anchor, WER <= anchor",
                f"faster-whisper int8 (same weights): WER {anchor.wer(refs):.3f}")
    print(f"goal: INT8 time <= anchor ({ours.cpu_total / anchor.cpu_total:.2f}x cpu, "
          f"{ours.wall_total / anchor.wall_total:.2f}x wall) with WER <= anchor "
          f"({ours.wer(refs):.3f} vs {anchor.wer(refs):.3f})")
    return 0


def _group_wer(hyps: list[str], refs: list[str], indices: list[int]) -> float:
    from export.wer import wer

    return wer((refs[i], hyps[i]) for i in indices)


TABLES = {"asr": asr_table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench export", description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["all", *TABLES], default="all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clips", type=int, default=30, help="clips per voice")
    parser.add_argument("--models", type=Path, default=DEFAULT_OUT, help="bundle directory")
    args = parser.parse_args(argv or [])
    chosen = list(TABLES) if args.model == "all" else [args.model]
    status = 0
    for name in chosen:
        status |= TABLES[name](args.models, args.threads, args.clips)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
