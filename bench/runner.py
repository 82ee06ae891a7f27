"""Runs the benchmarks in bench/ and prints one table each.

Each benchmark is a module exposing ``main(argv) -> int`` that prints its own table; BENCHMARKS
lists them in the order `all` runs them. Speed is only ever measured here, never asserted in tests.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback

from bench import summary

BENCHMARKS: dict[str, str] = {
    "nlu": "bench.nlu",
    "wake": "bench.wake",
    "firmware": "bench.firmware",
    "catalog": "bench.catalog",
    "dialog": "bench.dialog",
    "correction": "bench.correction",  # catalog-aware ASR correction: errors fixed vs correct words broken
    "task": "bench.task",  # spoken commands -> intent and product through the whole device chain
    "speech": "bench.speech",
    "export": "bench.export",
    "soak_orders": "bench.soak_orders",
    "fleet": "bench.fleet",
    "arm64": "bench.arm64",
    "e2e": "bench.e2e",
    "wyoming": "bench.wyoming_compare",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m bench all|" + "|".join(BENCHMARKS) + " [args...]")
        return 0 if argv else 2
    names = list(BENCHMARKS) if argv[0] == "all" else [argv[0]]
    if any(name not in BENCHMARKS for name in names):
        print(f"unknown benchmark {argv[0]!r}; known: all, {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    status, started = 0, time.time()
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        if argv[0] != "all":
            return int(module.main(argv[1:]) or 0)
        print(f"\n===== bench {name} =====", flush=True)
        try:  # one broken benchmark must not hide the others' figures
            status |= int(module.main([]) or 0)
        except Exception:
            traceback.print_exc()
            summary.add(name, "benchmark failed", "see its output above")
            status |= 1
    print("\n===== summary (paste into docs/measured/per_goal.md) =====\n")
    print(summary.render(started, time.time() - started))
    return status
