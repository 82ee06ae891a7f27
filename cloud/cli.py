"""`python -m cloud GROUP ...`: the reference cloud side's thin CLI.

Each group (catalog, recs, serve, orders) lives in its own module exposing
``add_arguments(parser)`` and ``run(args) -> int``; the module is imported only when chosen.
Same conventions as the device CLI: `--json` output is JSON lines on stdout, logs on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

# name -> (module, one-line help). Add a line here when a group lands.
GROUPS: dict[str, tuple[str, str]] = {
    "catalog": ("cloud.commands.catalog", "master catalog: generate, keygen, change, publish signed snapshots/deltas"),
    "recs": ("cloud.commands.recs", "recommendations: train ALS on purchase histories, publish factors"),
    "serve": ("cloud.serve.cli", "run an ingest worker: orders in over MQTT, acks and statuses out"),
    "orders": ("cloud.serve.orders_cli", "orders the cloud stored (list --json)"),
}


def emit_json(record: Any) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m cloud", description="voiceshop reference cloud side.")
    sub = parser.add_subparsers(dest="group", metavar="GROUP")
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in GROUPS:
        for name, (_module, help_text) in GROUPS.items():
            sub.add_parser(name, help=help_text, add_help=False)
        if argv and argv[0] not in ("-h", "--help"):
            print(f"python -m cloud: unknown group {argv[0]!r}", file=sys.stderr)
            return 2
        parser.print_help()
        return 0
    module = importlib.import_module(GROUPS[argv[0]][0])
    group_parser = argparse.ArgumentParser(prog=f"python -m cloud {argv[0]}", description=GROUPS[argv[0]][1])
    group_parser.add_argument("--log-json", action="store_true", help="structured JSON logs on stderr")
    group_parser.add_argument("-v", "--verbose", action="count", default=0)
    module.add_arguments(group_parser)
    args = group_parser.parse_args(argv[1:])
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
