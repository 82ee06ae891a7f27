"""A small real catalog world for the catalog and recs tests: master, keys, recs, device DB.

Built once per test session (in pytest's temp dir) through the same library calls the CLIs use:
generate 2,000 products, make a key pair, train ALS and family complements, publish v1, bootstrap
a device from the signed snapshot. Tests that change things copy the device file first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from cloud.catalog import generate, publish, signing, store
from cloud.recs import complements
from cloud.recs.synth import make_history
from cloud.recs.train import fit, interaction_matrix, publish_factors
from edge.catalog.apply import apply_delta, load_public_key
from edge.catalog.schema import open_catalog


@dataclass(frozen=True)
class World:
    root: Path
    master: Path
    keys: Path
    out: Path
    device: Path
    """A device catalog bootstrapped from snapshot v1 (copy it before writing)."""
    snapshot: Path

    @property
    def public_key(self) -> Path:
        return self.keys / signing.PUBLIC_NAME

    def device_copy(self, name: str) -> Path:
        target = self.root / name
        shutil.copyfile(self.device, target)
        return target

    def master_copy(self, name: str) -> Path:
        target = self.root / name
        shutil.copyfile(self.master, target)
        return target


_WORLD: dict[str, World] = {}


def build_world(root: Path, products: int = 2000) -> World:
    if "world" in _WORLD:
        return _WORLD["world"]
    master = root / "master.db"
    generate.generate(master, products, seed=7)
    keys = root / "keys"
    signing.generate_keypair(keys)
    conn = store.open_master(master)
    history = make_history(conn, users=300, seed=7)
    matrix = interaction_matrix(history)
    users, items = fit(matrix, factors=16, iterations=8, seed=7)
    publish_factors(conn, history, users, items, complements.rows(history, complements.learn(history)))
    out = root / "published"
    result = publish.publish(conn, signing.load_private_key(keys), out)
    conn.close()
    device = root / "device.db"
    dev = open_catalog(device)
    applied = apply_delta(dev, Path(result["snapshot"]).read_bytes(), load_public_key(keys / signing.PUBLIC_NAME))
    assert applied.status == "applied", applied
    dev.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    dev.close()
    _WORLD["world"] = World(root, master, keys, out, device, Path(result["snapshot"]))
    return _WORLD["world"]
