"""`python -m cloud GROUP ...`: the reference cloud side's thin CLI.

Each group (catalog, recs, serve, orders) lives in its own module exposing
``add_arguments(parser)`` and ``run(args) -> int``; the module is imported only when chosen.
Same conventions as the device CLI, from the same module (`voiceshop_common.cli`): `--json` output is
JSON lines on stdout (`emit_json`), logs on stderr, `fail(message)` exits 2 for bad input and
`fail(message, WORLD_FAILED)` 1 for a failure of the world.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from voiceshop_common.cli import WORLD_FAILED, Program, emit_json, fail

__all__ = ["GROUPS", "PROGRAM", "WORLD_FAILED", "emit_json", "fail", "main"]  # the shared convention, re-exported

# name -> (module, one-line help). Add a line here when a group lands.
GROUPS: dict[str, tuple[str, str]] = {
    "catalog": ("cloud.commands.catalog", "master catalog: generate, keygen, change, publish signed snapshots/deltas"),
    "recs": ("cloud.commands.recs", "recommendations: train ALS on purchase histories, publish factors"),
    "serve": ("cloud.serve.cli", "run an ingest worker: orders in over MQTT, acks and statuses out"),
    "orders": ("cloud.serve.orders_cli", "orders the cloud stored (list --json)"),
}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-json", action="store_true", help="structured JSON logs on stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0)


PROGRAM = Program("python -m cloud", "voiceshop reference cloud side.", GROUPS, noun="group", add_common=_common)


def _run(module: ModuleType, args: argparse.Namespace) -> int | None:
    """The cloud's glue around a group: logging on stderr, then the group's own run."""
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return module.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    return PROGRAM.main(argv, _run)
