"""Runs the benchmarks in bench/ and prints one table each.

Each benchmark is a module exposing ``main(argv) -> int`` that prints its own table; BENCHMARKS
lists them in the order `all` runs them. Speed is only ever measured here, never asserted in tests.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS: dict[str, str] = {
    "nlu": "bench.nlu",
    "wake": "bench.wake",
    "firmware": "bench.firmware",
    "catalog": "bench.catalog",
    "dialog": "bench.dialog",
    "speech": "bench.speech",
    "export": "bench.export",
    "soak_orders": "bench.soak_orders",
    "arm64": "bench.arm64",
    "e2e": "bench.e2e",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m bench all|" + "|".join(BENCHMARKS) + " [args...]")
        return 0 if argv else 2
    names = list(BENCHMARKS) if argv[0] == "all" else [argv[0]]
    status = 0
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        module = importlib.import_module(BENCHMARKS[name])
        status |= int(module.main(argv[1:] if argv[0] != "all" else []) or 0)
    return status
