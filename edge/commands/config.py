"""`python -m edge config`: print the settings the device would run with, after all overrides."""

from __future__ import annotations

import argparse

from edge.cli import emit_json
from edge.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--section", help="print only this section (e.g. broker, profiles)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    data = settings.to_dict()
    if args.section:
        if args.section not in data:
            raise SystemExit(f"unknown section {args.section!r}; sections: {', '.join(data)}")
        data = {args.section: data[args.section]}
    if args.json:
        emit_json(data)
        return 0
    for section, values in data.items():
        print(f"[{section}]")
        for key, value in values.items():
            print(f"  {key} = {value!r}")
    return 0
