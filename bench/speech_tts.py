"""TTS section of `python -m bench speech`: first-audio latency and RTF against piper-tts 1.8.

Both engines run the same bundle .onnx (the shipped voice), the same text, the same
onnxruntime thread count and the voice's own noise scales, in this process, interleaved rep by
rep so machine load hits them alike:

- ours: edge.tts's Synthesizer (normalization, clause streaming, sherpa-onnx OfflineTts with
  piper-tts's espeak-ng phonemes), first audio = the first clause ready to play;
- ours, one clause: the same engine with clause splitting off (what splitting buys);
- anchor: piper-tts's PiperVoice.synthesize (one chunk per sentence) on an onnxruntime session
  with the same threads; first audio = its first sentence.

Goal (issue 4, a benchmark not a test): first audio <= 150 ms for a 10-word reply.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from edge.tts import Synthesizer, Voice, load_bundle, normalize

SHORT = "Sure, I added two bags of coffee to your cart."  # 10 words
LONG = ("I found three kinds of oat milk: Oatly Barista Edition, 64 fl oz, for $4.99; Silk Oat Yeah, 64 fl oz, "
        "for $3.79; and Planet Oat Original, 52 fl oz, for $3.49. Which one would you like? I can also add "
        "a 6 pk of almond milk for $12.00 if you want.")
GOAL_FIRST_AUDIO_MS = 150.0


def _piper(bundle_dir: Path, threads: int):  # -> (PiperVoice, SynthesisConfig)
    import onnxruntime as ort
    from piper import PiperConfig, PiperVoice, SynthesisConfig

    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    roles = {info["role"]: name for name, info in manifest["files"].items()}
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(bundle_dir / roles["model"]), options, providers=["CPUExecutionProvider"])
    config = PiperConfig.from_dict(json.loads((bundle_dir / roles["voice_config"]).read_text()))
    # normalize_audio off: sherpa does not rescale either, so both do the same work.
    return PiperVoice(session=session, config=config), SynthesisConfig(normalize_audio=False)


def _timed(chunks: Iterable[np.ndarray], rate: int) -> tuple[float, float, float]:
    """(first audio s, total s, audio s) for a stream of chunks started just before the call."""
    started = time.perf_counter()
    first, audio = None, 0
    for samples in chunks:
        if first is None:
            first = time.perf_counter() - started
        audio += len(samples)
    total = time.perf_counter() - started
    return first or total, total, audio / rate


def run_tts(bundle_dir: Path, threads: int, reps: int) -> list[dict[str, object]]:
    bundle = load_bundle(bundle_dir)
    t = time.perf_counter()
    voice = Voice(bundle, threads=threads)
    load_ours = time.perf_counter() - t
    t = time.perf_counter()
    piper_voice, piper_config = _piper(bundle_dir, threads)
    load_piper = time.perf_counter() - t
    streaming = Synthesizer(voice, output_rate=bundle.sample_rate)
    whole = Synthesizer(voice, output_rate=bundle.sample_rate, first_clause_words=200, max_clause_words=200)
    engines: dict[str, Callable[[str], Iterable[np.ndarray]]] = {
        "ours (clauses)": lambda text: (c.samples for c in streaming.speak(text)),
        "ours (one clause)": lambda text: (c.samples for c in whole.speak(text)),
        # piper-tts gets the text normalized by us too, so both say the same words.
        "piper-tts 1.8": lambda text: (c.audio_float_array for c in
                                       piper_voice.synthesize(normalize(text), piper_config)),
    }
    rows = []
    for label, text in (("10 words", SHORT), (f"{len(LONG.split())} words", LONG)):
        for fn in engines.values():  # warm-up
            _timed(fn(text), bundle.sample_rate)
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in engines}
        for _ in range(reps):
            for name, fn in engines.items():
                runs[name].append(_timed(fn(text), bundle.sample_rate))
        for name, results in runs.items():
            firsts = [r[0] for r in results]
            rtfs = [r[1] / r[2] for r in results]
            rows.append({"text": label, "engine": name, "first_ms_p50": 1000 * statistics.median(firsts),
                         "first_ms_max": 1000 * max(firsts), "rtf_p50": statistics.median(rtfs),
                         "audio_s": statistics.median(r[2] for r in results)})
    rows.append({"load_ours_s": load_ours, "load_piper_s": load_piper})
    return rows


def print_tts(rows: list[dict[str, object]], threads: int, reps: int) -> None:
    loads = rows[-1]
    print(f"\nTTS: first audio and RTF, {threads} thread(s), median of {reps} interleaved reps "
          f"(model load: ours {loads['load_ours_s']:.2f} s, piper {loads['load_piper_s']:.2f} s; "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"{'text':<10} {'engine':<18} {'first audio p50':>16} {'max':>8} {'RTF p50':>8} {'audio':>7} "
          f"{'first vs piper':>15} {'RTF vs piper':>13}")
    body = rows[:-1]
    for row in body:
        anchor = next(r for r in body if r["text"] == row["text"] and r["engine"] == "piper-tts 1.8")
        print(f"{row['text']:<10} {row['engine']:<18} {row['first_ms_p50']:>13.0f} ms {row['first_ms_max']:>5.0f} ms "
              f"{row['rtf_p50']:>8.3f} {row['audio_s']:>6.2f}s "
              f"{row['first_ms_p50'] / anchor['first_ms_p50']:>14.2f}x {row['rtf_p50'] / anchor['rtf_p50']:>12.2f}x")
    ours = next(r for r in body if r["text"] == "10 words" and r["engine"] == "ours (clauses)")
    verdict = "met" if ours["first_ms_p50"] <= GOAL_FIRST_AUDIO_MS else "NOT met"
    print(f"goal: first audio <= {GOAL_FIRST_AUDIO_MS:.0f} ms for a 10-word reply -> "
          f"{ours['first_ms_p50']:.0f} ms, {verdict}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tts-bundle", type=Path, default=Path("~/.cache/voiceshop/models/tts").expanduser(),
                        help="the tts bundle (python -m export tts)")
    parser.add_argument("--tts-reps", type=int, default=5, help="interleaved repetitions per text and engine")


def main(args: argparse.Namespace) -> int:
    threads = getattr(args, "threads", 1) or 1
    rows = run_tts(args.tts_bundle, threads, args.tts_reps)
    print_tts(rows, threads, args.tts_reps)
    return 0
