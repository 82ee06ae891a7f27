"""`python -m edge transcribe FILE... [--threads N] [--json]`: recognize recordings as the device would.

Utterances are decoded together in Whisper windows of up to [asr] pack_seconds (edge.asr.packing), so a
segment is a window of utterances. One JSON object per file: {"file", "text", "segments": [{"start", "end", "text"}], "audio_seconds",
"processing_seconds"} (processing excludes model load; "notes" appears when the audio needed
cleaning). With --correct, "text" is corrected against the device's catalog (edge/catalog/correction.py)
and "raw_text" + "corrections" say what was heard. Whisper hears with the device's prompt ([asr] prompt,
edge/asr/prompt.py: the style sentence; a file has no dialogue), the same keys either way. A file that cannot be read gives {"file", "error"} and exit status 1 after the others.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from edge.asr import AsrError, recognizer_for_settings
from edge.asr.files import transcribe_file
from edge.audio import AudioError
from edge.cli import corrector_if_asked, emit_json, fail
from edge.config import Settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="WAV files (any rate, width, channels, length)")
    parser.add_argument("--threads", type=int, metavar="N", help="recognizer threads (default [threads] asr)")
    parser.add_argument("--correct", action="store_true",
                        help="rewrite misheard catalog words using the catalog in --db (raw text kept as raw_text)")
    parser.add_argument("--db", metavar="DIR", help="device data dir with catalog.db (default: [device] data_dir)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.threads is not None and not 1 <= args.threads <= 64:
        fail("--threads must be between 1 and 64")
    try:
        loaded = time.perf_counter()
        recognizer = recognizer_for_settings(settings, partials=False, speculative=False, threads=args.threads,
                                             pack=True)  # nobody waits on a file's finals: [asr] pack_seconds
        log.info("models loaded in %.2f s", time.perf_counter() - loaded)
    except AsrError as exc:
        fail(str(exc))
    corrector = corrector_if_asked(args, settings)
    from edge.asr.prompt import attach_prompt

    # a file has no dialogue: the prompt is the style sentence (and with --correct, "catalog" adds its names)
    attach_prompt(recognizer, settings.asr.prompt, settings.asr.prompt_tokens,
                  corrector.conn if corrector is not None else None)
    status = 0
    for path in args.files:
        try:
            result = transcribe_file(path, recognizer).to_json()
            if corrector is not None:
                from edge.catalog.correction import apply_to_record

                result = apply_to_record(result, corrector.correct(result["text"]))
        except AudioError as exc:
            status = 1
            print(f"python -m edge transcribe: {exc}", file=sys.stderr)
            result = {"file": path, "error": str(exc)}
        if args.json:
            emit_json(result)
        elif "error" not in result:
            print(f"{path}: {result['text']}")
            for segment in result["segments"]:
                print(f"  [{segment['start']:7.2f} - {segment['end']:7.2f}] {segment['text']}")
            print(f"  ({result['audio_seconds']:.1f} s of audio in {result['processing_seconds']:.2f} s)")
    return status
