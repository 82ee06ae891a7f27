"""`python -m edge wake FILE [--json]`: run the wake word over a recording and list detections.

For trying a phrase or a threshold on real recordings before putting it on a device. The WAV is
read by the same reader as `transcribe` (any rate, 8/16/24/32-bit or float, extensible, µ-law
refused by name, cut-short files played up to their end with a note) and fed in frames of
settings.audio.frame_ms through the streaming detector the device loop uses, with settings.wake's
threshold and refractory period (override with --threshold), and behind the device's second look when
[wake] second_look is on (the default: each detection confirmed by the recognizer's Whisper;
--first-stage-only lists what the detector alone fires on). A file that cannot be read gives the
same {"file", "error"} record as `transcribe` (with --json) and exit status 2. `--wav FILE` is the
older spelling of FILE.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from edge.asr import whisper_decoder
from edge.asr.models import AsrError, whisper_recognizer
from edge.audio import AudioError, WavSource
from edge.cli import emit_json, fail
from edge.config import Settings
from edge.events import AudioChunk
from edge.wake import WakeBundleError, confirmed_detector, detector_for_settings, load_for_settings
from edge.wake.features import SAMPLE_RATE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=Path, metavar="FILE",
                        help="WAV file (any rate, width, channels; resampled to 16 kHz)")
    parser.add_argument("--wav", type=Path, metavar="FILE", help="the same as FILE (older spelling)")
    parser.add_argument("--threshold", type=float, help="override settings.wake.threshold (0-1)")
    parser.add_argument("--scores", action="store_true", help="also print every step's score")
    parser.add_argument("--first-stage-only", action="store_true",
                        help="the detector alone, without the second look ([wake] second_look)")


def read_wav_with_notes(path: Path) -> tuple[np.ndarray, list[str]]:
    """Mono float32 at 16 kHz from any WAV the device reads, and the notes on what was cleaned; AudioError otherwise."""
    source = WavSource(path, sample_rate=SAMPLE_RATE, frame_ms=100)
    chunks = [chunk.samples for chunk in source]
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return audio, source.report.problems()


def read_wav(path: Path) -> np.ndarray:
    """Mono float32 at 16 kHz from a WAV file; AudioError (a ValueError) with the reason otherwise."""
    return read_wav_with_notes(path)[0]


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.threshold is not None:
        if not 0.0 < args.threshold < 1.0:
            fail(f"--threshold must be between 0 and 1, got {args.threshold}")
        settings = dataclasses.replace(settings, wake=dataclasses.replace(
            settings.wake, threshold=args.threshold, packaged_threshold=args.threshold))
    if (args.file is None) == (args.wav is None):
        fail("give one WAV file (python -m edge wake FILE)")
    path = args.file if args.file is not None else args.wav
    try:
        audio, notes = read_wav_with_notes(path)
    except AudioError as exc:
        if args.json:
            emit_json({"file": str(path), "error": str(exc)})
        fail(str(exc))
    try:
        model = load_for_settings(settings)
    except (ValueError, WakeBundleError) as exc:
        fail(str(exc))
    detector = detector_for_settings(settings, model)
    look = settings.wake.second_look and not args.first_stage_only
    if look:  # as the device listens: each detection confirmed by the recognizer's Whisper
        try:
            detector = confirmed_detector(settings, detector, whisper_decoder(
                whisper_recognizer(settings, threads=1), settings.asr.language))
        except (AsrError, ValueError) as exc:
            fail(f"{exc} (or run with --first-stage-only)")
    frame = SAMPLE_RATE * settings.audio.frame_ms // 1000
    detections = 0
    started = time.process_time()
    for offset in range(0, len(audio), frame):
        chunk = AudioChunk(samples=audio[offset: offset + frame], sample_rate=SAMPLE_RATE,
                           timestamp=offset / SAMPLE_RATE)
        for event in detector.process(chunk):
            detections += 1
            confirmed = {"second_look": detector.verdicts[-1].score} if look and detector.verdicts else {}
            if args.json:
                emit_json({"event": "wake", "phrase": event.phrase, "score": round(event.score, 4),
                           "timestamp": round(event.timestamp, 3), **confirmed})
            else:
                print(f"{event.timestamp:8.2f} s  wake {event.phrase!r}  score {event.score:.3f}"
                      + (f"  second look {confirmed['second_look']:.2f}" if confirmed else ""))
        if args.scores:
            stamp = round((offset + len(chunk.samples)) / SAMPLE_RATE, 3)
            if args.json:
                emit_json({"event": "score", "timestamp": stamp, "score": round(detector.last_score, 4)})
            else:
                print(f"{stamp:8.2f} s  score {detector.last_score:.3f}")
    cpu = time.process_time() - started
    seconds = len(audio) / SAMPLE_RATE
    summary = {"event": "summary", "file": str(path), "detections": detections, "audio_seconds": round(seconds, 2),
               "cpu_seconds": round(cpu, 3), "threshold": detector.threshold}
    if look:
        summary["second_look"] = {"method": settings.wake.second_look_method, "checked": detector.checked,
                                  "refused": detector.checked - detector.confirmed}
        if hasattr(detector.look, "minimum_source"):  # the forced look: which minimum, and why that one
            summary["second_look"] |= {"minimum": detector.look.min_score, "minimum_source": detector.look.minimum_source}
    if notes:
        summary["notes"] = notes
    if args.json:
        emit_json(summary)
    else:
        print(f"{detections} detection(s) in {seconds:.1f} s of audio; {cpu:.2f} s CPU "
              f"({100 * cpu / max(seconds, 1e-9):.1f} % of one core)")
        if look and "minimum" in summary["second_look"]:
            print(f"second look: minimum {summary['second_look']['minimum']:g} "
                  f"({summary['second_look']['minimum_source']})")
    return 0
