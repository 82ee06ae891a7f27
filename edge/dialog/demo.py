"""Load the demo catalog into a device data dir, the way the cloud would ship it (laptops and tests).

A fresh checkout has no catalog, and a dialogue without products is no demo. This runs the cloud
side's own commands as separate processes (device code never imports `cloud/`): generate the demo
master catalog, make a signing key, train the recommendation factors, publish a signed snapshot
(with sentence embeddings when the NLU bundle exists), install the public key on the "device" and
apply the snapshot through `python -m edge catalog apply` — the same verification a real device
does. It is opt-in (`python -m edge chat --demo-catalog`): a device in the field must never
silently fill itself with invented products.

language "zh" builds the Chinese shop (`cloud catalog generate --language zh`: Chinese names,
measure words, yuan). Its snapshot carries no sentence vectors: the English MiniLM encoder of the
nlu bundle cannot place Chinese names, so zh search is lexical, fuzzy and pinyin until a
multilingual encoder is bundled.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("edge.dialog.demo")

CATALOG_DB = "catalog.db"
PUBLIC_KEY = "catalog_signing.pub"


class DemoCatalogError(RuntimeError):
    """A step of the demo catalog build failed; the message names the command and its error."""


def _run(*args: str, timeout: float = 900) -> str:
    command = [sys.executable, "-m", *args]
    log.info("demo catalog: %s", " ".join(args))
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise DemoCatalogError(f"`python -m {' '.join(args)}` failed: {' / '.join(tail)}")
    return result.stdout


def install_demo_catalog(data_dir: Path, *, products: int = 2000, seed: int = 0, recs: bool = True,
                         embeddings: bool = True, models_dir: Path | None = None, language: str = "en") -> Path:
    """Build, sign and apply the demo catalog (in `language`, "en" or "zh") into data_dir/catalog.db."""
    data_dir.mkdir(parents=True, exist_ok=True)
    work = data_dir / "demo-cloud"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    master, keys, published = work / "master.db", work / "keys", work / "published"
    _run("cloud", "catalog", "generate", "--products", str(products), "--seed", str(seed), "--out", str(master),
         "--language", language)
    _run("cloud", "catalog", "keygen", "--out", str(keys))
    if recs:
        _run("cloud", "recs", "train", "--catalog", str(master), "--seed", str(seed))
    publish = ["cloud", "catalog", "publish", "--catalog", str(master), "--key", str(keys), "--out", str(published)]
    bundle = (models_dir or Path("~/.cache/voiceshop/models").expanduser()) / "nlu"
    if embeddings and language == "en" and (bundle / "manifest.json").is_file():
        publish += ["--bundle", str(bundle)]
    else:
        publish.append("--no-embeddings")
    _run(*publish)
    snapshots = sorted(published.glob("snapshot-*.vscat"))
    if not snapshots:
        raise DemoCatalogError(f"publishing wrote no snapshot into {published}")
    shutil.copy(keys / PUBLIC_KEY, data_dir / PUBLIC_KEY)
    db = data_dir / CATALOG_DB
    _run("edge", "catalog", "--db", str(db), "apply", str(snapshots[-1]),
         "--public-key", str(data_dir / PUBLIC_KEY))
    return db
