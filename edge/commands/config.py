"""`python -m edge config`: print the settings the device would run with, after all overrides.

Secrets (the voice PIN, the broker password, a password inside the broker URL) print as "***" when
set and "" when not: this output ends up in bug reports and terminal scrollback.
"""

from __future__ import annotations

import argparse

from edge.cli import emit_json, fail
from edge.config import Settings
from edge.redact import redact_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--section", help="print only this section (e.g. broker, profiles)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    data = redact_settings(settings.to_dict())
    if args.section:
        if args.section not in data:
            fail(f"unknown section {args.section!r}; sections: {', '.join(data)}")
        data = {args.section: data[args.section]}
    if args.json:
        emit_json(data)
        return 0
    for section, values in data.items():
        print(f"[{section}]")
        for key, value in values.items():
            print(f"  {key} = {value!r}")
    return 0
