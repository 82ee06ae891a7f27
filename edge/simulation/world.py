"""The world around the simulated device: the demo catalog, the broker and the cloud service.

The cloud runs as its own process (`python -m cloud serve`, with `--broker embedded` starting the
amqtt broker inside it unless the user gave a broker URL), exactly as it would beside a real
device; the simulator reads what the cloud stored through `python -m cloud orders list --json`.
The demo catalog is built once by `edge.dialog.demo.install_demo_catalog` (the cloud's CLIs
generate, sign and publish it; the device's CLI verifies and applies it) and cached under
~/.cache/voiceshop/sim/, keyed by the code that shapes it and the NLU bundle whose encoder made
its embeddings; every run copies it into a fresh device data dir.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from edge.dialog.demo import CATALOG_DB, PUBLIC_KEY, install_demo_catalog

log = logging.getLogger("edge.simulation.world")

REPO = Path(__file__).resolve().parents[2]
CACHE = Path("~/.cache/voiceshop/sim").expanduser()
SHAPING_CODE = ("cloud/catalog", "cloud/recs", "edge/catalog/schema.py", "edge/catalog/apply.py",
                "edge/catalog/wire.py", "edge/dialog/demo.py", "voiceshop_common/catalog_wire.py",
                "voiceshop_common/encoder.py", "voiceshop_common/vocab.py", "voiceshop_common/vocab_products.py",
                "voiceshop_common/vocab_families.py", "voiceshop_common/recs.py")
READY_SECONDS = 60.0


class WorldError(RuntimeError):
    """The catalog could not be built or the cloud did not start; the message says what failed."""


def _key(models_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in SHAPING_CODE:
        path = REPO / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(file.relative_to(REPO).as_posix().encode())
                digest.update(file.read_bytes())
    manifest = models_dir / "nlu" / "manifest.json"
    digest.update(manifest.read_bytes() if manifest.is_file() else b"no nlu bundle")
    return digest.hexdigest()[:16]


def demo_catalog(models_dir: Path, language: str = "en") -> Path:
    """The cached demo catalog dir (catalog.db, catalog_signing.pub, demo-cloud/master.db), built if needed.

    The one builder and cache of the demo catalog for the simulator, the tests and the benchmarks, so
    they all exercise the same catalog; each language ("en", "zh") is cached under its own key. Each process builds into its own folder; a build another
    process finished first wins, and catalogs built for other code or another NLU bundle are removed once unused for a day.
    """
    target = CACHE / f"catalog-{'' if language == 'en' else language + '-'}{_key(models_dir)}"
    if (target / "ready").is_file():
        (target / "ready").touch()  # in use: not stale for another checkout's clean-up
        return target
    building = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    log.info("building the demo catalog into %s (once; about half a minute)", target)
    try:
        install_demo_catalog(building, models_dir=models_dir, language=language)
    except Exception as exc:
        raise WorldError(f"building the demo catalog failed: {exc}") from None
    with sqlite3.connect(building / CATALOG_DB) as conn:  # one file to copy, no WAL beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (building / "ready").write_text("ok\n")
    if (target / "ready").is_file():  # another process finished first; someone may be copying from it
        shutil.rmtree(building, ignore_errors=True)
        return target
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    for stale in CACHE.glob("catalog-*"):
        if stale != target and stale.is_dir() and ".building" not in stale.name and _unused_for_a_day(stale):
            shutil.rmtree(stale, ignore_errors=True)
    return target


STALE_SECONDS = 24 * 3600.0
"""A catalog built for other code is removed only after this long: two checkouts of the project on one
machine (a branch and main, a CI clone beside a working tree) each keep theirs instead of deleting the
other's while its tests copy from it."""


def _unused_for_a_day(catalog: Path) -> bool:
    try:
        return time.time() - (catalog / "ready").stat().st_mtime > STALE_SECONDS
    except OSError:
        return True


def device_dir(catalog: Path, root: Path) -> Path:
    """A fresh device data dir with the demo catalog and the key it is signed with."""
    data = root / "device"
    data.mkdir(parents=True, exist_ok=True)
    for part in catalog.glob(f"{CATALOG_DB}*"):  # the file and, if a reader left them, its WAL and shm
        shutil.copyfile(part, data / part.name)
    shutil.copyfile(catalog / PUBLIC_KEY, data / PUBLIC_KEY)
    return data


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


class Cloud:
    """`python -m cloud serve` in a subprocess; start() returns the broker URL devices should use."""

    def __init__(self, catalog: Path, store: Path, broker: str | None = None) -> None:
        self.catalog, self.store, self.broker = catalog / "demo-cloud" / "master.db", store, broker
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self.log_path = store.with_suffix(".log")

    def start(self) -> str:
        command = _python("cloud", "serve", "--broker", self.broker or "embedded", "--catalog", str(self.catalog),
                          "--db", str(self.store), "--json", "--client-id", f"voiceshop-cloud-sim-{os.getpid()}",
                          # its own shared-subscription group: on a shared broker, another cloud's
                          # workers must not take (and store elsewhere) the orders this run checks for
                          "--group", f"sim-{os.getpid()}", "--ship-after", "-1")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log_file = self.log_path.open("w")
        self._proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log_file, text=True, env=env)
        ready: dict[str, Any] = {}
        reader = threading.Thread(target=lambda: ready.update(self._first_record()), daemon=True)
        reader.start()
        reader.join(READY_SECONDS)
        if not ready.get("broker"):
            self.stop()
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise WorldError("the cloud service did not start: " + (" / ".join(tail) or "no output"))
        self.url = str(ready["broker"])
        return self.url

    def _first_record(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        try:
            record = json.loads(line) if line else {}
        except json.JSONDecodeError:
            return {}
        return record if record.get("event") == "ready" else {}

    def orders(self) -> list[dict[str, Any]]:
        """What the cloud stored (newest first), read through its own CLI."""
        result = subprocess.run(_python("cloud", "orders", "list", "--db", str(self.store), "--json"), cwd=REPO,
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise WorldError(f"reading the cloud's orders failed: {result.stderr.strip()[-300:]}")
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
