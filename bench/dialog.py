"""Dialogue benchmark: what one typed turn costs on the device, NLU and dialogue apart.

`python -m bench dialog [--repeat R]`

Replays the scripted dialogues of tests/data/dialogs (the seed's flow, references, checkout, PIN,
reorder, FAQ, car profile, ...) through the real parts: the INT8 NLU bundle, the demo catalog as a
device gets it (built and cached once by `edge.simulation.world.demo_catalog`, the same catalog the
simulator and the tests use), a fresh outbox per replay. Each turn is timed twice over in this
process: NLU (`Understander.understand`) and dialogue (`Dialog.handle`: linking, catalog search,
recommendations, outbox writes). The anchor is the catalog's own `search()` for the same product
words, called right after, so the table shows what the dialogue adds on top of the search it needs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from bench import summary
from edge.config import load_settings
from edge.dialog.session import ShopSession
from edge.simulation.world import demo_catalog, device_dir

SCRIPTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "dialogs"


def _pct(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench dialog")
    parser.add_argument("--repeat", type=int, default=3, help="replays of every script")
    args = parser.parse_args(argv)
    base = load_settings()
    world = demo_catalog(base.models.path)
    nlu_ms: list[float] = []
    dialog_ms: list[float] = []
    searched_dialog_ms: list[float] = []
    search_ms: list[float] = []
    warmup_ms: list[float] = []
    turns = 0
    for _ in range(args.repeat):
        for script in sorted(SCRIPTS.glob("*.yaml")):
            spec = yaml.safe_load(script.read_text())
            env = {**{k: str(v) for k, v in (spec.get("env") or {}).items()}, "VOICESHOP_BROKER__URL": ""}
            if spec.get("profile"):
                env["VOICESHOP_DEVICE__PROFILE"] = spec["profile"]
            settings = load_settings(environ={**os.environ, **env})
            with tempfile.TemporaryDirectory() as tmp:
                data = device_dir(world, Path(tmp))
                session = ShopSession(settings, data, broker_url="")
                # A device loads once and answers for hours: warm the catalog's in-memory tables
                # (names, vectors, factors, brands) so the table shows steady-state turns.
                began = time.perf_counter()
                session.catalog.search("milk", limit=1)
                session.catalog.recommend(settings.device.id, [], 1)
                session.dialog.linker.brands()
                warmup_ms.append((time.perf_counter() - began) * 1000)
                try:
                    for turn in spec["turns"]:
                        text = str(turn["say"])
                        if not text:
                            continue
                        began = time.perf_counter()
                        understanding = session.nlu.understand(text)
                        parsed = time.perf_counter()
                        session.dialog.handle(understanding)
                        done = time.perf_counter()
                        nlu_ms.append((parsed - began) * 1000)
                        dialog_ms.append((done - parsed) * 1000)
                        turns += 1
                        product = understanding.slots.get("product")
                        if product:
                            began = time.perf_counter()
                            session.catalog.search(str(product), limit=12)
                            search_ms.append((time.perf_counter() - began) * 1000)
                            searched_dialog_ms.append(dialog_ms[-1])
                finally:
                    session.close()
    print(f"dialogue turns: {turns} ({args.repeat} replays of {len(list(SCRIPTS.glob('*.yaml')))} scripts), "
          f"1 thread, load average {os.getloadavg()[0]:.1f}")
    print(f"{'stage':<42}{'p50 ms':>9}{'p95 ms':>9}")
    for name, samples in (("NLU (INT8 intent + slots)", nlu_ms), ("dialogue, every turn", dialog_ms),
                          ("dialogue, turns naming a product", searched_dialog_ms),
                          ("anchor: catalog.search() for that product", search_ms)):
        if samples:
            p50, p95 = _pct(samples)
            print(f"{name:<42}{p50:>9.2f}{p95:>9.2f}")
    print(f"{'session warm-up (catalog tables, once)':<42}{statistics.median(warmup_ms):>9.2f}{max(warmup_ms):>9.2f}")
    if search_ms:
        ratio = statistics.median(searched_dialog_ms) / max(statistics.median(search_ms), 1e-6)
        print(f"dialogue / search (p50, turns naming a product): {ratio:.2f}x")
        summary.add("dialogue", "turn naming a product (NLU excluded), p50",
                    f"{statistics.median(searched_dialog_ms):.1f} ms ({ratio:.2f}x its search)", "",
                    f"catalog.search {statistics.median(search_ms):.1f} ms")
    return 0
