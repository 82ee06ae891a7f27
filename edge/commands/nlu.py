"""`python -m edge nlu [--json] TEXT... | -`: what the device understands from each text.

The model loads once; each input then takes a few milliseconds, so a script can pipe hundreds
of lines through one process. With `-`, every stdin line is one input (blank lines included,
so output line N always answers input line N). Undecodable bytes are replaced, never fatal.
With --correct each text is first corrected against the device's catalog (edge/catalog/correction.py), as
the device does with a transcript: "text" is what the NLU read, "raw_text" what was given.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from edge.cli import corrector_if_asked, emit_json, fail
from edge.config import Settings
from edge.nlu import NluBundleError, Understander
from edge.providers import ProviderError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="utterances to understand, or - for stdin lines")
    parser.add_argument("--correct", action="store_true",
                        help="rewrite misheard catalog words first, using the catalog in --db (raw text kept)")
    parser.add_argument("--db", metavar="DIR", help="device data dir with catalog.db (default: [device] data_dir)")


def _inputs(texts: list[str]) -> Iterator[str]:
    for text in texts:
        if text == "-":
            for raw in sys.stdin.buffer:
                yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
        else:
            yield text


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        model = Understander.from_settings(settings)
    except (NluBundleError, ProviderError, ValueError) as exc:
        fail(str(exc))
    corrector = corrector_if_asked(args, settings)
    for text in _inputs(args.texts):
        correction = corrector.correct(text) if corrector is not None else None
        result = model.understand(correction.text if correction is not None else text)
        record = {"text": result.text, "intent": result.intent, "confidence": result.confidence,
                  "slots": result.slots}
        if correction is not None:
            from edge.catalog.correction import apply_to_record

            record = apply_to_record(record, correction)
        if args.json:
            emit_json(record)
        else:
            slots = " ".join(f"{k}={v!r}" for k, v in result.slots.items())
            print(f"{result.intent:<16} {result.confidence:.2f}  {slots}  <- {text}", flush=True)
    return 0
