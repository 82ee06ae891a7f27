"""ASR section of `python -m bench speech`: the device's recognizer against faster-whisper.

1. Accuracy and processing time on synthesized shopping commands (Piper at three speaking rates,
   two espeak-ng voices; known text): edge.asr's recognizer exactly as `transcribe` runs it (Silero
   VAD segments, Whisper INT8 on sherpa-onnx, the guard) against the anchor, faster-whisper int8
   greedy on the same CT2 weights, same threads, same clips, interleaved in this process.
   No real recorded speech ships inside any installed package (we looked), so all of it is synthetic.
   Three rows on the same commands: clean, noisy (pink noise 10/5 dB, babble of other synthetic
   voices 15/10 dB) and reverberant (synthetic rooms, RT60 0.4-0.8 s), from export.speech_noise.
2. Long-form: recordings of 10-60 s built from sentences in several voices with pauses of
   0.3-1.6 s (several VAD segments each; every other one noisy), whole files as `transcribe` runs them,
   against faster-whisper's long-form defaults (timestamps, previous text, fallback), its VAD filter and
   the command setting.
3. Mandarin (zh mode): CER of the device's recognizer on synthesized Mandarin against faster-whisper
   base, and catalog search on the heard text (bench/speech_asr_zh.py).
4. Endpoint -> final transcript latency for 2-5 s commands, fed in real time (80 ms frames paced
   by the wall clock, as a microphone delivers them): the time from the moment the endpoint's
   frame arrived to the moment the final transcript was returned, p50/p95, with speculative
   decoding on (the device default) and off (decode only once the endpoint is confirmed).

`--asr-compare-runtime` adds, to rows 1 and 2, the device's recognizer with Whisper on the other
`[asr] runtime` (sherpa-onnx vs edge.asr.whisper_ort on onnxruntime), same VAD, guard and clips.

Goals (issues 4, 18, 21; benchmarks not tests): in every row WER no worse than the anchor and
processing time <= 0.8x the anchor's; endpoint -> final <= 250 ms p95 for commands <= 5 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench import summary
from bench.asr_anchor import (
    DEFAULT_VOICES,
    LONG_FORM_OPTIONS,
    clip_set,
    device_beam,
    faster_whisper_anchor,
    faster_whisper_anchors,
    median,
    percentile,
    run_interleaved,
    voice_groups,
)
from edge.asr import recognizer_for_settings
from edge.asr.files import final_transcripts
from edge.config import load_settings, whisper_runtime
from edge.events import AudioChunk, Endpoint, FinalTranscript
from export import speech_noise
from export.speech_corpus import PIPER_VOICES
from export.speech_noise import NOISY, REVERBERANT, noisy_clips
from export.wer import wer

GOAL_TIME_RATIO = 0.8
GOAL_ENDPOINT_P95_MS = 250.0
FRAME = 1280
PAD = np.zeros(8000, np.float32)


def _device_transcriber(recognizer: Any):
    def transcribe(audio: np.ndarray) -> str:
        return " ".join(e.text for e in final_transcripts(recognizer, audio, FRAME))

    return transcribe


DEVICE = "edge.asr (VAD + Whisper INT8)"
ANCHOR = "faster-whisper int8 (anchor)"


def _systems(threads: int, compare_runtime: bool = False, pack: bool = False) -> dict[str, Any]:
    """The device's recognizer and the anchor; compare_runtime adds the device's recognizer with Whisper on
    the other [asr] runtime (sherpa-onnx vs edge.asr.whisper_ort), same VAD and guard. pack: as `edge
    transcribe` reads a file (utterances in windows of [asr] pack_seconds, edge.asr.packing)."""
    settings = load_settings()
    systems = {DEVICE: _device_transcriber(recognizer_for_settings(settings, partials=False, speculative=False,
                                                                   threads=threads, pack=pack))}
    if compare_runtime:
        other = "onnxruntime" if whisper_runtime(settings.asr) == "sherpa" else "sherpa"
        changed = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, runtime=other))
        systems[f"edge.asr, Whisper on {other}"] = _device_transcriber(
            recognizer_for_settings(changed, partials=False, speculative=False, threads=threads, pack=pack))
    systems[ANCHOR] = faster_whisper_anchor(threads, device_beam(settings))
    return systems


def _table(title: str, systems: dict[str, Any], utterances: list[Any], clips: list[np.ndarray],
           anchor_name: str = ANCHOR) -> tuple[Any, Any, list[str]]:
    """Run the systems interleaved on clips and print WER per voice engine, CPU and time ratio to anchor_name's."""
    audio_seconds = sum(len(c) for c in clips) / 16000
    scores = run_interleaved(systems, clips)
    refs = [u.text for u in utterances]
    groups = voice_groups(utterances)
    anchor = scores[anchor_name]
    print(f"\n{title} ({audio_seconds:.0f} s of audio)")
    header = (f"{'engine':<42} {'wall s':>7} {'cpu s':>7} {'RTF cpu':>8} {'cpu/anchor':>10} "
              + " ".join(f"{'WER ' + g:>11}" for g in groups) + f" {'WER all':>8}")
    print(header)
    print("-" * len(header))
    for name, score in scores.items():
        rates = " ".join(f"{wer((refs[i], score.hypotheses[i]) for i in idx):>11.3f}" for idx in groups.values())
        print(f"{name:<42} {score.wall_total:>7.1f} {score.cpu_total:>7.1f} {score.cpu_total / audio_seconds:>8.3f} "
              f"{score.cpu_total / anchor.cpu_total:>10.2f} {rates} {score.wer(refs):>8.3f}")
    return scores[DEVICE], anchor, refs


def accuracy_and_time(threads: int, per_voice: int, noisy: bool = True, compare_runtime: bool = False) -> None:
    systems = _systems(threads, compare_runtime)
    utterances, clean = clip_set(DEFAULT_VOICES, per_voice)
    keys = [u.path.stem for u in utterances]
    sets = [("clean", [np.concatenate([PAD, c, PAD]) for c in clean], "0.5 s pads")]
    if noisy:
        for label, conditions in (("noisy", NOISY), ("reverberant", REVERBERANT)):
            clips, _ = noisy_clips(clean, conditions, keys)
            sets.append((label, clips, "; ".join(c.label for c in conditions)))
    for label, clips, how in sets:
        ours, anchor, refs = _table(f"ASR, {label}: {len(clips)} synthesized commands ({how}), {threads} thread(s)",
                                    systems, utterances, clips)
        ratio = ours.cpu_total / anchor.cpu_total
        measure = "CPU time / WER, Whisper tiny.en INT8 (sherpa)" + ("" if label == "clean" else f", {label}")
        summary.add("ASR", measure, f"{ratio:.2f}x the anchor / {ours.wer(refs):.3f}",
                    f"<= {GOAL_TIME_RATIO}x, WER no worse", f"faster-whisper int8: WER {anchor.wer(refs):.3f}")
        print(f"goal: time <= {GOAL_TIME_RATIO}x anchor -> {ratio:.2f}x cpu "
              f"({ours.wall_total / anchor.wall_total:.2f}x wall); "
              f"WER no worse -> {ours.wer(refs):.3f} vs {anchor.wer(refs):.3f}")


LONG_ANCHOR = "faster-whisper int8, long-form defaults"


def long_form(threads: int, recordings: int, compare_runtime: bool = False) -> None:
    """Real-length recordings (10-60 s, several voices, pauses of 0.3-1.6 s, every other one noisy), read as
    `edge transcribe` reads a file.

    The anchor is faster-whisper as it transcribes a long recording by default (asr_anchor.LONG_FORM_OPTIONS:
    timestamps, previous text, temperature fallback; greedy like ours); the command anchor (no timestamps:
    one sentence of many a window, far cheaper for it) and faster-whisper with its own VAD filter are
    printed beside it."""
    systems = _systems(threads, compare_runtime, pack=True)
    for mode, transcribe in faster_whisper_anchors(threads, LONG_FORM_OPTIONS).items():
        systems[f"faster-whisper int8, {mode}"] = transcribe
    lengths = [10.0 + 50.0 * i / max(1, recordings - 1) for i in range(recordings)]
    made = [speech_noise.long_form(seconds, i, condition=NOISY[i % len(NOISY)] if i % 2 else speech_noise.Condition())
            for i, seconds in enumerate(lengths)]
    clips = [audio for audio, _ in made]
    utterances = [SimpleNamespace(text=text, voice=SimpleNamespace(engine="mixed")) for _, text in made]
    ours, anchor, refs = _table(f"ASR, long-form: {len(clips)} recordings of {lengths[0]:.0f}-{lengths[-1]:.0f} s "
                                f"(Piper + espeak-ng voices, half noisy), {threads} thread(s)", systems, utterances, clips,
                                LONG_ANCHOR)
    ratio = ours.cpu_total / anchor.cpu_total
    summary.add("ASR", "CPU time / WER, long-form 10-60 s", f"{ratio:.2f}x the anchor / {ours.wer(refs):.3f}",
                f"<= {GOAL_TIME_RATIO}x, WER no worse",
                f"faster-whisper int8 (long-form defaults, greedy): WER {anchor.wer(refs):.3f}")
    print(f"goal: time <= {GOAL_TIME_RATIO}x anchor -> {ratio:.2f}x cpu; WER no worse -> "
          f"{ours.wer(refs):.3f} vs {anchor.wer(refs):.3f}")


def _realtime(recognizer: Any, audio: np.ndarray) -> tuple[float | None, float | None, str]:
    """Feed audio paced by the wall clock; (endpoint->final ms, speech end->final ms, text) of its first request."""
    recognizer.reset()
    began = time.perf_counter()
    for start in range(0, len(audio), FRAME):
        arrival = began + (start + FRAME) / 16000
        delay = arrival - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        events = recognizer.process(AudioChunk(audio[start:start + FRAME], 16000, start / 16000))
        returned = time.perf_counter()
        final = next((e for e in events if isinstance(e, FinalTranscript)), None)
        endpoint = next((e for e in events if isinstance(e, Endpoint)), None)
        if final is not None and endpoint is not None:
            return (1000 * (returned - (began + endpoint.timestamp)), 1000 * (returned - (began + final.end)),
                    final.text)
    recognizer.flush()
    return None, None, ""


def endpoint_latency(threads: int, per_voice: int) -> None:
    settings = load_settings()
    utterances, clips = clip_set(PIPER_VOICES, per_voice)
    chosen = [(u, c) for u, c in zip(utterances, clips, strict=True) if 2.0 <= len(c) / 16000 <= 5.0]
    tail = np.zeros(int(1.5 * 16000), np.float32)
    print(f"\nASR endpoint -> final transcript: {len(chosen)} commands of 2-5 s, real-time 80 ms frames, "
          f"{threads} thread(s), min silence {settings.asr.min_silence_seconds} s, pause {settings.asr.pause_seconds} s")
    print(f"{'mode':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'speech end->final p50':>22} {'missed':>7} "
          f"{'WER':>6}")
    for label, speculative in (("speculative (default)", True), ("decode at endpoint", False)):
        recognizer = recognizer_for_settings(settings, partials=True, speculative=speculative, threads=threads)
        latencies, from_speech, missed, pairs = [], [], 0, []
        for utt, clip in chosen:
            after_endpoint, after_speech, text = _realtime(recognizer, np.concatenate([PAD, clip, tail]))
            pairs.append((utt.text, text))
            if after_endpoint is None:
                missed += 1
                continue
            latencies.append(after_endpoint)
            from_speech.append(after_speech)
        print(f"{label:<24} {median(latencies):>8.0f} {percentile(latencies, 95):>8.0f} "
              f"{max(latencies, default=float('nan')):>8.0f} {median(from_speech):>19.0f} ms {missed:>7} "
              f"{wer(pairs):>6.3f}")
        if speculative:
            summary.add("ASR", "endpoint -> final transcript, p95 (commands <= 5 s)",
                        f"{percentile(latencies, 95):.0f} ms", f"<= {GOAL_ENDPOINT_P95_MS:.0f} ms")
    print(f"goal: endpoint -> final <= {GOAL_ENDPOINT_P95_MS:.0f} ms p95 for commands <= 5 s")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--asr-clips", type=int, default=20, help="ASR: clips per voice")
    parser.add_argument("--asr-latency-clips", type=int, default=8, help="ASR latency: clips per Piper voice")
    parser.add_argument("--asr-long", type=int, default=8, help="ASR long-form: recordings (10-60 s)")
    parser.add_argument("--asr-clean-only", action="store_true", help="ASR: skip the noisy and reverberant rows")
    parser.add_argument("--asr-compare-runtime", action="store_true",
                        help="ASR: also run Whisper on the other [asr] runtime (sherpa vs onnxruntime) in every row")
    parser.add_argument("--asr-zh-variants", type=int, default=3,
                        help="ASR zh: speed/pitch variants of the 12 Mandarin requests (0 skips the zh rows)")


def main(args: argparse.Namespace) -> int:
    compare = getattr(args, "asr_compare_runtime", False)
    accuracy_and_time(args.threads, args.asr_clips, noisy=not args.asr_clean_only, compare_runtime=compare)
    if args.asr_long:
        long_form(args.threads, args.asr_long, compare_runtime=compare)
    if args.asr_zh_variants:
        from bench.speech_asr_zh import mandarin_cer

        mandarin_cer(args.threads, args.asr_zh_variants)
    endpoint_latency(args.threads, args.asr_latency_clips)
    return 0
