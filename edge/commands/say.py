"""`python -m edge say TEXT [-o out.wav] [--json]`: speak a reply the way the device would.

Text goes through the device's own path (normalization, clause streaming, the Piper voice's
latent and chunked decoder on onnxruntime) to the speaker, a WAV file or nowhere. `--json` prints {"audio_seconds",
"first_audio_ms", "processing_seconds", "sample_rate", ...}; times exclude loading the voice.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from edge.audio import AudioError, open_sink
from edge.cli import emit_json, fail
from edge.config import Settings
from edge.providers import ProviderError
from edge.tts import TtsError, play, synthesizer_for_settings, voice_for_settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", metavar="TEXT", help="what to say ('-' reads it from stdin)")
    parser.add_argument("-o", "--output", metavar="FILE.wav", help="write a WAV file instead of playing")
    parser.add_argument("--null", action="store_true", help="synthesize but discard the audio (timing runs)")
    parser.add_argument("--rate", type=int, metavar="HZ", help="output sample rate (default [audio] output_rate)")
    parser.add_argument("--threads", type=int, metavar="N", help="synthesis threads (default [threads] tts)")



def run(args: argparse.Namespace, settings: Settings) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        fail("nothing to say (empty text)")
    if args.threads is not None and not 1 <= args.threads <= 64:
        fail("--threads must be between 1 and 64")
    rate = args.rate or settings.audio.output_rate
    spec = args.output or ("null" if args.null else "speaker")
    try:
        sink = open_sink(spec, rate)  # before the 2-3 s model load: a missing speaker fails fast
    except AudioError as exc:
        fail(str(exc))
    try:
        loaded = time.perf_counter()
        overrides = {} if args.threads is None else {"threads": args.threads}
        voice = voice_for_settings(settings, **overrides)
        log.info("voice loaded in %.2f s", time.perf_counter() - loaded)
        synthesizer = synthesizer_for_settings(settings, voice=voice, output_rate=rate)
        speech = synthesizer.speak(text)
        if not speech.text_clauses:
            fail(f"nothing speakable in {text!r}")
        stats = play(speech, sink)
    except (TtsError, ProviderError, AudioError, ValueError) as exc:
        fail(str(exc))
    finally:
        sink.close()
    record = {
        "audio_seconds": round(stats.audio_seconds, 3),
        "first_audio_ms": round(1000 * (stats.first_audio_seconds or 0.0), 1),
        "processing_seconds": round(stats.synthesis_seconds, 3),
        "sample_rate": rate,
        "clauses": stats.clauses,
        "output": args.output or ("null" if args.null else "speaker"),
    }
    if args.json:
        emit_json(record)
    else:
        print(f"said {record['audio_seconds']:.2f} s in {record['clauses']} clauses -> {record['output']} "
              f"(first audio {record['first_audio_ms']:.0f} ms, synthesis {record['processing_seconds']:.2f} s, "
              f"{rate} Hz)")
    return 0
