"""`python -m bench.vad_runtime`: the Silero VAD on onnxruntime (edge.asr.vad_ort) against sherpa-onnx's.

Both detectors come from edge.asr.models.vad_maker, as the device builds them, and take the same
audio in the same frames: synthesized commands (Piper and espeak voices), the same under pink and
babble noise (export.speech_noise), a long recording with 0.8 s pauses, long-form speech under
noise, and run-on speech past max_speech (sherpa's 0.1 s / 0.9 cut). Per run it compares every
call the recognizer makes (is_speech_detected, current_segment) and the segments (start, samples);
it prints the CPU per second of audio of each detector in the same process (interleaved, so both
see the same load), and the resident memory each adds in a fresh process that already runs
Whisper's encoder on onnxruntime (what the device has loaded when the VAD comes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

RUNTIMES = ("sherpa", "onnxruntime")
FRAMES = ((1280, 0.12), (512, 0.12), (1000, 0.5))
"""(frame samples, min silence): the device's 80 ms frames at its pause, the window itself, and odd frames."""


def _clips() -> list[tuple[str, np.ndarray, float]]:
    """(name, audio, max_speech seconds)."""
    from export.speech_corpus import (
        ESPEAK_VOICES,
        PIPER_VOICES,
        SENTENCES,
        clip,
        long_recording,
        read_wav_16k,
    )
    from export.speech_noise import NOISY, apply, long_form

    def padded(text: str, voice) -> np.ndarray:
        audio = read_wav_16k(clip(text, voice).path)
        return np.concatenate([np.zeros(8000, np.float32), audio, np.zeros(16000, np.float32)])

    clips = [(f"{voice.label}: {text[:24]}", padded(text, voice), 38.0)
             for voice in (PIPER_VOICES[0], PIPER_VOICES[1], ESPEAK_VOICES[0], ESPEAK_VOICES[1])
             for text in SENTENCES[:4]]
    clips += [(f"{c.noise} {c.snr_db:.0f} dB: {SENTENCES[k][:20]}", apply(padded(SENTENCES[k], ESPEAK_VOICES[0]), c,
                                                                           f"vad{k}"), 38.0)
              for k, c in enumerate(NOISY)]
    clips.append(("40 s, sentences 0.8 s apart", long_recording(40.0)[0], 38.0))
    clips += [(f"25 s long-form under {NOISY[k].noise}", long_form(25.0, k, condition=NOISY[k])[0], 38.0)
              for k in range(2)]
    clips.append(("30 s run-on speech, max_speech 8 s", long_recording(30.0, pause=0.05)[0], 8.0))
    return clips


def _trace(vad, audio: np.ndarray, frame: int) -> tuple[list, list, float]:
    calls, segments, cpu = [], [], 0.0
    for start in range(0, len(audio) + frame, frame):
        last = start >= len(audio)
        begun = time.process_time()
        if last:
            vad.flush()
        else:
            vad.accept_waveform(audio[start:start + frame])
        cpu += time.process_time() - begun
        speech = vad.is_speech_detected()
        calls.append((speech, vad.current_segment.start if speech else -1))
        while not vad.empty():
            segment = vad.front
            segments.append((segment.start, np.asarray(segment.samples, np.float32)))
            vad.pop()
    return calls, segments, cpu


def compare() -> None:
    from edge.asr.models import vad_maker
    from tests.conftest import asr_settings

    cpu = dict.fromkeys(RUNTIMES, 0.0)
    audio_seconds, runs, same_calls, same_segments, segments_total, max_diff = 0.0, 0, 0, 0, 0, 0.0
    print(f"{'audio':<44}{'frame':>6}{'segments':>9}  same calls / segments (start, length)")
    for name, audio, max_speech in _clips():
        for frame, silence in FRAMES:
            traces = {runtime: _trace(vad_maker(asr_settings(vad_runtime=runtime), silence, max_speech,
                                                max_speech + 10)(), audio, frame) for runtime in RUNTIMES}
            (calls_a, segs_a, cpu_a), (calls_b, segs_b, cpu_b) = traces["sherpa"], traces["onnxruntime"]
            cpu["sherpa"] += cpu_a
            cpu["onnxruntime"] += cpu_b
            audio_seconds += len(audio) / 16000
            runs += 1
            calls_ok = calls_a == calls_b
            segs_ok = [(s, len(x)) for s, x in segs_a] == [(s, len(x)) for s, x in segs_b]
            same_calls += calls_ok
            same_segments += segs_ok
            segments_total += len(segs_a)
            if segs_ok:
                max_diff = max([max_diff] + [float(np.max(np.abs(x - y), initial=0.0))
                                             for (_, x), (_, y) in zip(segs_a, segs_b, strict=True)])
            print(f"{name[:43]:<44}{frame:6d}{len(segs_a):9d}  {'yes' if calls_ok else 'NO'} / "
                  f"{'yes' if segs_ok else 'NO: ' + str([(s, len(x)) for s, x in segs_b])}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{runs} runs, {segments_total} sherpa segments: every call the same in {same_calls}, segments (start, "
          f"length) the same in {same_segments}; largest sample difference {max_diff:.1e}")
    print(f"VAD CPU per second of audio, same process, {audio_seconds:.0f} s each (load {load}): "
          + ", ".join(f"{runtime} {1000 * cpu[runtime] / audio_seconds:.2f} ms" for runtime in RUNTIMES)
          + f" (ratio {cpu['onnxruntime'] / max(cpu['sherpa'], 1e-9):.2f})")


def _memory_probe(runtime: str) -> None:
    """Child: RSS the device's VAD adds to a process already running Whisper's encoder on onnxruntime."""
    from pathlib import Path

    from edge.memory import MemorySettings, memory_mb, tune_allocator

    tune_allocator(MemorySettings())
    import onnxruntime as ort

    from edge.asr.models import vad_maker
    from tests.conftest import MODELS_DIR, asr_settings

    encoder = next(Path(MODELS_DIR / "asr").glob("encoder*.onnx"))
    ort.InferenceSession(str(encoder), providers=["CPUExecutionProvider"]).run(
        None, {"mel": np.zeros((1, 80, 300), np.float32)})
    before = memory_mb()
    vad = vad_maker(asr_settings(vad_runtime=runtime), 0.12, 38.0, 48.0)()
    noise = (np.random.default_rng(0).standard_normal(16000 * 5) * 0.05).astype(np.float32)
    for start in range(0, len(noise), 1280):
        vad.accept_waveform(noise[start:start + 1280])
    after = memory_mb()
    print(json.dumps({key: round(after[key] - before[key], 1) for key in ("rss_mb", "anon_mb", "file_mb")}
                     | {"sherpa_onnx imported": "sherpa_onnx" in sys.modules}))


def memory() -> None:
    print("\nRSS the VAD adds to a process already running Whisper's encoder on onnxruntime (fresh process each):")
    for runtime in RUNTIMES:
        code = f"from bench.vad_runtime import _memory_probe; _memory_probe({runtime!r})"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-800:])
        row = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"  {runtime:<12} +{row['rss_mb']:.1f} MB ({row['anon_mb']:.1f} anonymous + {row['file_mb']:.1f} "
              f"file-backed); sherpa_onnx imported: {row['sherpa_onnx imported']}")


if __name__ == "__main__":
    compare()
    memory()
