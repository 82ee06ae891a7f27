"""TTS section of `python -m bench speech`: first-audio latency and RTF against piper-tts 1.8.

Both engines run the same shipped voice (piper-tts the whole graph, ours the same graph cut in
two), the same text, the same
onnxruntime thread count and the voice's own noise scales, in this process, interleaved rep by
rep so machine load hits them alike:

- ours: edge.tts's Synthesizer (normalization, clause streaming, piper-tts's espeak-ng phonemes,
  the bundle's latent graph + HiFi-GAN decoder in chunks on onnxruntime), first audio = the first
  decoder chunk ready to play;
- ours, one clause: the same engine with clause splitting off (what splitting buys);
- anchor: piper-tts's PiperVoice.synthesize (one chunk per sentence) on an onnxruntime session
  with the same threads; first audio = its first sentence.

Goals (benchmarks, not tests): first audio <= 100 ms for a 10-word reply (issue 21; 150 ms in
issue 4), RTF no worse than piper-tts's on the same voice (issue 21).

Mandarin (issue 20), when the tts-zh bundle is built: the zh voice (edge.tts.voice_zh) through the
same Synthesizer on a 10-character reply and on the seed's longer one, interleaved with the English
voice's 10-word reply as the anchor in the same run; same goal for first audio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bench import summary
from edge.config import load_settings
from edge.tts import Synthesizer, Voice, load_bundle, normalize

SHORT = "Sure, I added two bags of coffee to your cart."  # 10 words, the dialogue's usual opening comma
PLAIN = "Your order of Fuji apples is on its way now."  # 10 words, no early break
LONG = ("I found three kinds of oat milk: Oatly Barista Edition, 64 fl oz, for $4.99; Silk Oat Yeah, 64 fl oz, "
        "for $3.79; and Planet Oat Original, 52 fl oz, for $3.49. Which one would you like? I can also add "
        "a 6 pk of almond milk for $12.00 if you want.")
GOAL_FIRST_AUDIO_MS = 100.0
ZH_SHORT = "好的，苹果加入购物车了。"  # 10 characters, the dialogue's usual opening comma
ZH_LONG = "这是新鲜的苹果，3斤39元，很实惠。要几斤？您可能也喜欢香蕉和橙子，今天每盒只要25元。"


def _piper(bundle_dir: Path, threads: int) -> tuple[Any, Any]:
    """(PiperVoice, SynthesisConfig) on an onnxruntime session with our thread count."""
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


class _Run:
    """One synthesis of one text: wall and CPU time to first audio and in total, audio length."""

    def __init__(self) -> None:
        self.first = self.first_cpu = self.total = self.total_cpu = 0.0
        self.audio = 0


def _piper_stream(voice: Any, config: Any, text: str, run: _Run) -> Iterable[np.ndarray]:
    """piper-tts in this thread: CPU time is this thread's (1-thread onnxruntime runs here)."""
    cpu = time.thread_time()
    for index, chunk in enumerate(voice.synthesize(normalize(text), config)):
        if index == 0:
            run.first_cpu = time.thread_time() - cpu
        run.total_cpu = time.thread_time() - cpu
        yield chunk.audio_float_array


def _ours_stream(synth: Synthesizer, text: str, run: _Run) -> Iterable[np.ndarray]:
    """Our synthesizer: CPU time is the worker thread's, from its stats."""
    speech = synth.speak(text)
    for chunk in speech:
        yield chunk.samples
    run.first_cpu = speech.stats.first_audio_cpu_seconds or 0.0
    run.total_cpu = speech.stats.synthesis_cpu_seconds


def _timed(make: Callable[[str, _Run], Iterable[np.ndarray]], text: str) -> _Run:
    run = _Run()
    started = time.perf_counter()
    for samples in make(text, run):
        if not run.audio:
            run.first = time.perf_counter() - started
        run.audio += len(samples)
    run.total = time.perf_counter() - started
    return run


def run_tts(bundle_dir: Path, threads: int, reps: int) -> list[dict[str, object]]:
    bundle = load_bundle(bundle_dir)
    memory = load_settings().memory  # the device's arena setting (edge.memory; bench/speech.py tuned malloc)
    t = time.perf_counter()
    voice = Voice(bundle, threads=threads, arena=memory.tts_arena)
    load_ours = time.perf_counter() - t
    t = time.perf_counter()
    piper_voice, piper_config = _piper(bundle_dir, threads)
    load_piper = time.perf_counter() - t
    streaming = Synthesizer(voice, output_rate=bundle.sample_rate)
    whole = Synthesizer(voice, output_rate=bundle.sample_rate, first_clause_words=200, max_clause_words=200)
    # piper-tts gets the text normalized by us too, so both engines say the same words.
    engines: dict[str, Callable[[str, _Run], Iterable[np.ndarray]]] = {
        "ours (clauses)": lambda text, run: _ours_stream(streaming, text, run),
        "ours (one clause)": lambda text, run: _ours_stream(whole, text, run),
        "piper-tts 1.8": lambda text, run: _piper_stream(piper_voice, piper_config, text, run),
    }
    rows = []
    for label, text in (("10 words", SHORT), ("10, plain", PLAIN), (f"{len(LONG.split())} words", LONG)):
        for fn in engines.values():  # warm-up
            _timed(fn, text)
        runs: dict[str, list[_Run]] = {name: [] for name in engines}
        for _ in range(reps):
            for name, fn in engines.items():
                runs[name].append(_timed(fn, text))
        for name, results in runs.items():
            audio = [r.audio / bundle.sample_rate for r in results]
            rows.append({"text": label, "engine": name,
                         "first_ms_p50": 1000 * statistics.median(r.first for r in results),
                         "first_ms_max": 1000 * max(r.first for r in results),
                         "first_cpu_ms_p50": 1000 * statistics.median(r.first_cpu for r in results),
                         "rtf_p50": statistics.median(r.total / a for r, a in zip(results, audio, strict=True)),
                         "cpu_rtf_p50": statistics.median(r.total_cpu / a for r, a in zip(results, audio, strict=True)),
                         "audio_s": statistics.median(audio)})
    rows.append({"load_ours_s": load_ours, "load_piper_s": load_piper})
    return rows


def _zh_bundle(tts_bundle: Path) -> Path | None:
    path = tts_bundle.parent / "tts-zh"
    return path if (path / "manifest.json").is_file() else None


def run_tts_zh(bundle_dir: Path, zh_dir: Path, threads: int, reps: int) -> list[dict[str, object]]:
    """The Mandarin voice's first audio and RTF, interleaved rep by rep with the English voice as the anchor."""
    from edge.tts.voice_zh import ZhVoice, load_zh_bundle

    memory = load_settings().memory
    english = Voice(load_bundle(bundle_dir), threads=threads, arena=memory.tts_arena)
    started = time.perf_counter()
    mandarin = ZhVoice(load_zh_bundle(zh_dir), threads=threads, arena=memory.tts_arena)
    load_zh = time.perf_counter() - started
    cases = {("zh 10 chars", "zh voice"): (Synthesizer(mandarin, output_rate=mandarin.sample_rate), ZH_SHORT),
             (f"zh {len(ZH_LONG)} chars", "zh voice"): (Synthesizer(mandarin, output_rate=mandarin.sample_rate), ZH_LONG),
             ("10 words", "en voice (anchor)"): (Synthesizer(english, output_rate=english.sample_rate), SHORT)}
    runs: dict[tuple[str, str], list[_Run]] = {key: [] for key in cases}
    for rep in range(reps + 1):  # the first round warms up
        for key, (synth, text) in cases.items():
            run = _timed(lambda t, r, s=synth: _ours_stream(s, t, r), text)
            if rep:
                runs[key].append(run)
    rows: list[dict[str, object]] = []
    for (label, engine), results in runs.items():
        rate = cases[(label, engine)][0].voice.sample_rate
        audio = [r.audio / rate for r in results]
        rows.append({"text": label, "engine": engine, "first_ms_p50": 1000 * statistics.median(r.first for r in results),
                     "first_ms_max": 1000 * max(r.first for r in results),
                     "first_cpu_ms_p50": 1000 * statistics.median(r.first_cpu for r in results),
                     "rtf_p50": statistics.median(r.total / a for r, a in zip(results, audio, strict=True)),
                     "cpu_rtf_p50": statistics.median(r.total_cpu / a for r, a in zip(results, audio, strict=True)),
                     "audio_s": statistics.median(audio), "load_s": load_zh})
    return rows


def print_tts_zh(rows: list[dict[str, object]], threads: int, reps: int) -> None:
    print(f"\nTTS zh: the Mandarin voice (tts-zh, load {rows[0]['load_s']:.2f} s) vs the English voice in the same "
          f"run, {threads} thread(s), median of {reps} interleaved reps")
    print(f"{'text':<14} {'engine':<18} {'first wall':>11} {'max':>8} {'first cpu':>10} {'RTF wall':>9} "
          f"{'RTF cpu':>8} {'audio':>7}")
    for row in rows:
        print(f"{row['text']:<14} {row['engine']:<18} {row['first_ms_p50']:>8.0f} ms {row['first_ms_max']:>5.0f} ms "
              f"{row['first_cpu_ms_p50']:>7.0f} ms {row['rtf_p50']:>9.3f} {row['cpu_rtf_p50']:>8.3f} "
              f"{row['audio_s']:>6.2f}s")
    short, anchor = rows[0], rows[-1]
    verdict = "met" if short["first_ms_p50"] <= GOAL_FIRST_AUDIO_MS else "NOT met"
    summary.add("TTS", "zh first audio, 10-char reply, p50 / RTF", f"{short['first_ms_p50']:.0f} ms / "
                f"{short['rtf_p50']:.3f}", f"<= {GOAL_FIRST_AUDIO_MS:.0f} ms",
                f"en voice {anchor['first_ms_p50']:.0f} ms / {anchor['rtf_p50']:.3f}")
    print(f"goal: first audio <= {GOAL_FIRST_AUDIO_MS:.0f} ms for a 10-character reply -> {short['first_ms_p50']:.0f} ms "
          f"wall ({short['first_cpu_ms_p50']:.0f} ms CPU), {verdict}")


def print_tts(rows: list[dict[str, object]], threads: int, reps: int) -> None:
    loads = rows[-1]
    print(f"\nTTS: first audio and RTF, {threads} thread(s), median of {reps} interleaved reps "
          f"(model load: ours {loads['load_ours_s']:.2f} s, piper {loads['load_piper_s']:.2f} s; "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print("wall = what a listener waits; cpu = the synthesizing thread's CPU time (machine load left out)")
    memory = load_settings().memory
    print(f"ours: onnxruntime arena {'on' if memory.tts_arena else 'off'}, malloc mmap threshold "
          f"{memory.mmap_threshold_kb or 'glibc default'} KiB ([memory], edge/memory.py)")
    print(f"{'text':<10} {'engine':<18} {'first wall':>11} {'max':>8} {'first cpu':>10} {'RTF wall':>9} "
          f"{'RTF cpu':>8} {'audio':>7} {'first vs piper':>15} {'RTF vs piper':>13}")
    body = rows[:-1]
    for row in body:
        anchor = next(r for r in body if r["text"] == row["text"] and r["engine"] == "piper-tts 1.8")
        print(f"{row['text']:<10} {row['engine']:<18} {row['first_ms_p50']:>8.0f} ms {row['first_ms_max']:>5.0f} ms "
              f"{row['first_cpu_ms_p50']:>7.0f} ms {row['rtf_p50']:>9.3f} {row['cpu_rtf_p50']:>8.3f} "
              f"{row['audio_s']:>6.2f}s {row['first_ms_p50'] / anchor['first_ms_p50']:>14.2f}x "
              f"{row['rtf_p50'] / anchor['rtf_p50']:>12.2f}x")
    ours = next(r for r in body if r["text"] == "10 words" and r["engine"] == "ours (clauses)")
    verdict = "met" if ours["first_ms_p50"] <= GOAL_FIRST_AUDIO_MS else "NOT met"
    piper = next(r for r in body if r["text"] == "10 words" and r["engine"] == "piper-tts 1.8")
    summary.add("TTS", "first audio, 10-word reply, p50 / RTF", f"{ours['first_ms_p50']:.0f} ms / {ours['rtf_p50']:.3f}",
                f"<= {GOAL_FIRST_AUDIO_MS:.0f} ms", f"piper-tts {piper['first_ms_p50']:.0f} ms / {piper['rtf_p50']:.3f}")
    print(f"goal: first audio <= {GOAL_FIRST_AUDIO_MS:.0f} ms for a 10-word reply -> {ours['first_ms_p50']:.0f} ms "
          f"wall ({ours['first_cpu_ms_p50']:.0f} ms CPU), {verdict}")
    long_label = body[-1]["text"]
    for engine in ("ours (clauses)", "ours (one clause)"):
        mine = next(r for r in body if r["text"] == long_label and r["engine"] == engine)
        anchor = next(r for r in body if r["text"] == long_label and r["engine"] == "piper-tts 1.8")
        met = "met" if mine["cpu_rtf_p50"] <= anchor["cpu_rtf_p50"] else "NOT met"
        print(f"goal: RTF <= piper-tts's, {long_label}, {engine}: CPU {mine['cpu_rtf_p50']:.3f} vs "
              f"{anchor['cpu_rtf_p50']:.3f}, wall {mine['rtf_p50']:.3f} vs {anchor['rtf_p50']:.3f} -> {met} (on CPU time)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tts-bundle", type=Path, default=Path("~/.cache/voiceshop/models/tts").expanduser(),
                        help="the tts bundle (python -m export tts)")
    parser.add_argument("--tts-reps", type=int, default=5, help="interleaved repetitions per text and engine")


def main(args: argparse.Namespace) -> int:
    threads = getattr(args, "threads", 1) or 1
    rows = run_tts(args.tts_bundle, threads, args.tts_reps)
    print_tts(rows, threads, args.tts_reps)
    zh_dir = _zh_bundle(args.tts_bundle)
    if zh_dir is None:
        print("\nTTS zh: skipped (no tts-zh bundle next to the tts bundle: python -m export tts-zh)")
    else:
        print_tts_zh(run_tts_zh(args.tts_bundle, zh_dir, threads, args.tts_reps), threads, args.tts_reps)
    return 0
