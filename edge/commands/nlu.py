"""`python -m edge nlu [--json] TEXT... | -`: what the device understands from each text.

The model loads once; each input then takes a few milliseconds, so a script can pipe hundreds
of lines through one process. With `-`, every stdin line is one input (blank lines included,
so output line N always answers input line N). Undecodable bytes are replaced, never fatal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from edge.cli import emit_json, fail
from edge.config import Settings
from edge.nlu import NluBundleError, Understander
from edge.providers import ProviderError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="utterances to understand, or - for stdin lines")


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
    for text in _inputs(args.texts):
        result = model.understand(text)
        record = {"text": result.text, "intent": result.intent, "confidence": result.confidence,
                  "slots": result.slots}
        if args.json:
            emit_json(record)
        else:
            slots = " ".join(f"{k}={v!r}" for k, v in result.slots.items())
            print(f"{result.intent:<16} {result.confidence:.2f}  {slots}  <- {text}", flush=True)
    return 0
