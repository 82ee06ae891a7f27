"""Building blocks for the dialogue tests: the demo catalog a newcomer gets, a fresh device dir per
test, and `python -m edge chat --json` run on a script of lines.

The demo catalog is built once through `edge.dialog.demo.install_demo_catalog` (the same path as
`python -m edge chat --demo-catalog`: the cloud CLIs generate, train recs, sign and publish, the
device CLI verifies and applies) and cached under ~/.cache/voiceshop/test-dialog/<key>, the key
hashing the code that shapes it and the NLU bundle whose encoder made its embeddings.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from edge.dialog.demo import CATALOG_DB, PUBLIC_KEY, install_demo_catalog
from tests.conftest import MODELS_DIR, REPO, run_cli

CACHE = Path("~/.cache/voiceshop/test-dialog").expanduser()
SHAPING_CODE = ("cloud/catalog", "cloud/recs", "edge/catalog/schema.py", "edge/catalog/apply.py",
                "edge/catalog/wire.py", "edge/dialog/demo.py")


def _world_key() -> str:
    digest = hashlib.sha256()
    for name in SHAPING_CODE:
        path = REPO / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(REPO).as_posix().encode())
            digest.update(file.read_bytes())
    manifest = MODELS_DIR / "nlu" / "manifest.json"
    digest.update(manifest.read_bytes() if manifest.is_file() else b"no nlu bundle")
    return digest.hexdigest()[:16]


def demo_world() -> Path:
    """The cached demo catalog dir (catalog.db, catalog_signing.pub, demo-cloud/ with the master)."""
    target = CACHE / _world_key()
    if (target / "ready").is_file():
        return target
    building = CACHE / f"{target.name}.building"
    if building.exists():
        shutil.rmtree(building)
    install_demo_catalog(building, models_dir=MODELS_DIR)
    with sqlite3.connect(building / CATALOG_DB) as conn:  # one file to copy, no WAL beside it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (building / "ready").write_text("ok\n")
    if target.exists():
        shutil.rmtree(target)
    building.rename(target)
    for stale in CACHE.iterdir():  # worlds built for older code or an older NLU bundle
        if stale != target and stale.is_dir() and not stale.name.endswith(".building"):
            shutil.rmtree(stale, ignore_errors=True)
    return target


def device_dir(world: Path, root: Path) -> Path:
    """A fresh device data dir holding a copy of the demo catalog and its public key."""
    data = root / "device"
    data.mkdir(parents=True, exist_ok=True)
    for part in world.glob(f"{CATALOG_DB}*"):  # the file and, if a reader left them, its WAL and shm
        shutil.copyfile(part, data / part.name)
    shutil.copyfile(world / PUBLIC_KEY, data / PUBLIC_KEY)
    return data


def chat(data_dir: Path, lines: list[str], *, profile: str | None = None, env: dict[str, str] | None = None,
         args: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run `python -m edge chat --json` on the lines; one record per turn, in order."""
    command = ["edge", "chat", "--json", "--db", str(data_dir), *args]
    if profile:
        command += ["--profile", profile]
    full_env = {"VOICESHOP_MODELS__DIR": str(MODELS_DIR), "VOICESHOP_BROKER__URL": "", **(env or {})}
    result = run_cli(*command, stdin="".join(f"{line}\n" for line in lines), env=full_env, timeout=300)
    assert result.returncode == 0, f"chat failed ({result.returncode}):\n{result.stderr[-3000:]}"
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(lines), (len(records), len(lines), result.stderr[-2000:])
    return records


def orders(data_dir: Path) -> list[dict[str, Any]]:
    """The device outbox's orders, newest first, through the orders CLI."""
    result = run_cli("edge", "orders", "list", "--json", env={"VOICESHOP_DEVICE__DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def action_types(record: dict[str, Any]) -> list[str]:
    return [action["type"] for action in record["actions"]]
