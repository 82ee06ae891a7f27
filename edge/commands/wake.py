"""`python -m edge wake --wav FILE [--json]`: run the wake word over a recording and list detections.

For trying a phrase or a threshold on real recordings before putting it on a device. The WAV is
fed in frames of settings.audio.frame_ms through the same streaming detector the device loop
uses, with settings.wake's threshold and refractory period (override with --threshold).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import wave
from pathlib import Path

import numpy as np
import soxr

from edge.cli import emit_json
from edge.config import Settings
from edge.events import AudioChunk
from edge.wake import WakeBundleError, detector_for_settings, load_for_settings
from edge.wake.features import SAMPLE_RATE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wav", required=True, type=Path, help="16-bit PCM WAV (any rate; resampled to 16 kHz)")
    parser.add_argument("--threshold", type=float, help="override settings.wake.threshold (0-1)")
    parser.add_argument("--scores", action="store_true", help="also print every step's score")


def read_wav(path: Path) -> np.ndarray:
    """Mono float32 at 16 kHz from a 16-bit PCM WAV; ValueError with the reason otherwise."""
    try:
        with wave.open(str(path)) as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{path}: not a readable WAV file ({exc})") from None
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit samples; only 16-bit PCM is supported")
    audio = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    audio = audio.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)
    return audio


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.threshold is not None:
        if not 0.0 < args.threshold < 1.0:
            print(f"--threshold must be between 0 and 1, got {args.threshold}", file=sys.stderr)
            return 2
        settings = dataclasses.replace(settings, wake=dataclasses.replace(
            settings.wake, threshold=args.threshold, packaged_threshold=args.threshold))
    try:
        audio = read_wav(args.wav)
        model = load_for_settings(settings)
    except (ValueError, WakeBundleError) as exc:
        print(f"wake: {exc}", file=sys.stderr)
        return 2
    detector = detector_for_settings(settings, model)
    frame = SAMPLE_RATE * settings.audio.frame_ms // 1000
    detections = 0
    started = time.process_time()
    for offset in range(0, len(audio), frame):
        chunk = AudioChunk(samples=audio[offset: offset + frame], sample_rate=SAMPLE_RATE,
                           timestamp=offset / SAMPLE_RATE)
        for event in detector.process(chunk):
            detections += 1
            if args.json:
                emit_json({"event": "wake", "phrase": event.phrase, "score": round(event.score, 4),
                           "timestamp": round(event.timestamp, 3)})
            else:
                print(f"{event.timestamp:8.2f} s  wake {event.phrase!r}  score {event.score:.3f}")
        if args.scores:
            stamp = round((offset + len(chunk.samples)) / SAMPLE_RATE, 3)
            if args.json:
                emit_json({"event": "score", "timestamp": stamp, "score": round(detector.last_score, 4)})
            else:
                print(f"{stamp:8.2f} s  score {detector.last_score:.3f}")
    cpu = time.process_time() - started
    seconds = len(audio) / SAMPLE_RATE
    summary = {"event": "summary", "file": str(args.wav), "detections": detections, "audio_seconds": round(seconds, 2),
               "cpu_seconds": round(cpu, 3), "threshold": detector.threshold}
    if args.json:
        emit_json(summary)
    else:
        print(f"{detections} detection(s) in {seconds:.1f} s of audio; {cpu:.2f} s CPU "
              f"({100 * cpu / max(seconds, 1e-9):.1f} % of one core)")
    return 0
