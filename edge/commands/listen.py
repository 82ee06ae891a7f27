"""`python -m edge listen [--wav FILE | --mic] [--json]`: live speech events from the recognizer.

Prints speech starts, partial hypotheses, finals and endpoints as they happen (with --json, one
object per event: {"event": "partial", "text", "t"}, ...). A WAV file is paced in real time by
default so partials arrive as they would from a microphone; --fast feeds it as fast as possible.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from edge.asr import AsrError, recognizer_for_settings
from edge.audio import AudioError, open_source
from edge.cli import WORLD_FAILED, emit_json, fail
from edge.config import Settings
from edge.events import Endpoint, FinalTranscript, PartialTranscript, SpeechStarted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--wav", metavar="FILE", help="read a WAV file (any rate, width, channels)")
    source.add_argument("--mic", action="store_true", help="listen to the default microphone (the default)")
    parser.add_argument("--fast", action="store_true", help="with --wav: do not pace the file in real time")
    parser.add_argument("--threads", type=int, metavar="N", help="recognizer threads (default [threads] asr)")


def event_record(event: Any) -> dict[str, Any] | None:
    """The JSON shape of one recognizer event (None for events listen does not print)."""
    if isinstance(event, SpeechStarted):
        return {"event": "speech_started", "t": round(event.timestamp, 3)}
    if isinstance(event, PartialTranscript):
        return {"event": "partial", "text": event.text, "t": round(event.timestamp, 3)}
    if isinstance(event, FinalTranscript):
        return {"event": "final", "text": event.text, "start": round(event.start, 3), "end": round(event.end, 3),
                "processing_seconds": event.processing_seconds}
    if isinstance(event, Endpoint):
        return {"event": "endpoint", "t": round(event.timestamp, 3)}
    return None


def _show(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(record)
        return
    kind = record["event"]
    if kind == "partial":
        print(f"\r  ... {record['text']}", end="", flush=True)
    elif kind == "final":
        print(f"\r> {record['text']}   [{record['start']:.2f}-{record['end']:.2f} s]", flush=True)
    elif kind == "endpoint":
        print(f"  (endpoint at {record['t']:.2f} s)", flush=True)
    elif kind == "speech_started":
        print(f"  (speech at {record['t']:.2f} s)", flush=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    spec = args.wav or "mic"
    try:
        source = open_source(spec, 16000, settings.audio.frame_ms)
    except AudioError as exc:
        fail(str(exc))
    try:
        recognizer = recognizer_for_settings(settings, threads=args.threads)
    except AsrError as exc:
        fail(str(exc))
    pace = args.wav is not None and not args.fast
    began = time.monotonic()
    try:
        for chunk in source:
            if pace:  # a file arrives no faster than a microphone would deliver it
                delay = began + chunk.timestamp + chunk.duration - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            for event in recognizer.process(chunk):
                if (record := event_record(event)) is not None:
                    _show(record, args.json)
        for event in recognizer.flush():
            if (record := event_record(event)) is not None:
                _show(record, args.json)
    except AudioError as exc:
        fail(str(exc), WORLD_FAILED)
    except KeyboardInterrupt:
        for event in recognizer.flush():
            if (record := event_record(event)) is not None:
                _show(record, args.json)
        return 130
    finally:
        source.close()
    return 0
