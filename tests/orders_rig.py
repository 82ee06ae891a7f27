"""Building blocks for the orders/sync/cloud tests and the soak benchmark: a real catalog, a cloud worker,
a device sync client, and the one check that matters (every confirmed order stored exactly once).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from hypothesis import strategies as st

from cloud.catalog.generate import generate
from cloud.serve import CatalogPrices, CloudService, Ingest, ServiceOptions, Store
from edge.orders import Outbox
from edge.sync import ConnectionSpec, SyncClient, SyncOptions
from edge.wire import (
    MAX_PAYLOAD_BYTES,
    WIRE_VERSION,
    Ack,
    OrderLine,
    OrderMessage,
    Presence,
    StatusUpdate,
    encode,
    parse_broker_url,
)

# A role that may create and drop databases; tests make their own database and drop it after.
PG_ADMIN_DSN = os.environ.get("VOICESHOP_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def make_catalog(path: Path, products: int = 120, seed: int = 7) -> list[tuple[str, str, int]]:
    """A master catalog from the catalog issue's generator; returns (sku, name, price) of in-stock products."""
    if not path.exists():
        generate(path, n_products=products, seed=seed)
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT sku, name, price_cents FROM products WHERE in_stock = 1 ORDER BY id").fetchall()


def random_lines(products: list[tuple[str, str, int]], rng: random.Random, max_lines: int = 3) -> list[dict[str, Any]]:
    return [{"sku": sku, "name": name, "quantity": rng.randint(1, 4), "unit_price_cents": price}
            for sku, name, price in rng.sample(products, rng.randint(1, max_lines))]


def confirm_orders(outbox: Outbox, products: list[tuple[str, str, int]], count: int, seed: int = 1) -> list[str]:
    """Confirm count random orders; returns their idempotency keys."""
    rng = random.Random(seed)
    return [outbox.confirm(random_lines(products, rng)).key or "" for _ in range(count)]


def prepare_outbox(path: Path, products: list[tuple[str, str, int]], count: int, seed: int = 1) -> list[str]:
    """Write an outbox file holding count confirmed orders at path; returns their keys.

    Each confirmation is its own fsync'd transaction (synchronous=FULL), ~8 ms on this machine's
    disk, so big backlogs are confirmed on tmpfs and the finished file is copied into place: the
    flush under test then runs against the real disk, only the setup is shortened.
    """
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as scratch:
        staging = Outbox(Path(scratch) / "outbox.sqlite")
        keys = confirm_orders(staging, products, count, seed)
        staging.close()  # the last connection closing checkpoints the WAL into the main file
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(scratch) / "outbox.sqlite", path)
    return keys


def device_env(data_dir: Path, url: str = "", device_id: str = "dev-1", **broker: str) -> dict[str, str]:
    """The environment for a `python -m edge` subprocess acting as device_id: this process's
    environment without any VOICESHOP_ setting, plus the device's data dir, broker URL, quick
    reconnects, and any [broker] overrides given as keyword arguments (ack_timeout_seconds="2")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_")}
    settings = {"backoff_initial_seconds": "0.05", "backoff_max_seconds": "0.5", **broker}
    env.update({"VOICESHOP_DEVICE__ID": device_id, "VOICESHOP_DEVICE__DATA_DIR": str(data_dir),
                "VOICESHOP_BROKER__URL": url})
    env.update({f"VOICESHOP_BROKER__{name.upper()}": value for name, value in settings.items()})
    return env


def device_client(outbox: Outbox, url: str, device_id: str = "dev-1", *, ack_timeout: float = 1.0,
                  username: str = "", password: str = "", ca_file: str = "", protocol: str = "auto",
                  max_inflight: int = 100, backoff: tuple[float, float] = (0.05, 0.5),
                  on_catalog_delta: Any = None) -> SyncClient:
    address = parse_broker_url(url)
    spec = ConnectionSpec(address=address, device_id=device_id, client_id=f"voiceshop-{device_id}",
                          username=username, password=password, ca_file=ca_file, keepalive=10,
                          session_expiry=3600, max_inflight=max_inflight)
    options = SyncOptions(protocol=protocol, ack_timeout=ack_timeout, backoff_initial=backoff[0],
                          backoff_max=backoff[1], max_inflight=max_inflight)
    return SyncClient(outbox, spec, options, on_catalog_delta=on_catalog_delta)


@contextmanager
def cloud_worker(url: str, catalog: Path, *, db: Path | None = None, pg: str | None = None,
                 client_id: str = "cloud-1", **options: Any) -> Iterator[CloudService]:
    """A started cloud ingest worker on its own store connection; stopped on exit."""
    store = Store.open(db=db, pg=pg)
    service = CloudService(Ingest(store, CatalogPrices(catalog), worker=client_id), parse_broker_url(url),
                           ServiceOptions(client_id=client_id, **options))
    service.start()
    try:
        yield service
    finally:
        service.stop()
        store.close()


def assert_exactly_once(outbox: Outbox, store: Store, device_id: str, expected: list[str], *,
                        complete: bool = True) -> None:
    """The cloud holds each of the device's confirmed orders once (and, if complete, nothing else of it)."""
    stored = store.keys(device_id)
    assert len(stored) == len(set(stored)), "an order is stored twice"
    missing = set(expected) - set(stored)
    assert not missing, f"{len(missing)} confirmed orders never reached the cloud"
    extra = set(stored) - set(expected)
    assert not (complete and extra), f"{len(extra)} orders in the cloud the device never confirmed"
    not_acked = [o.id for o in outbox.list(states=["confirmed", "queued", "sent"])]
    assert not not_acked, f"orders still waiting for an ack: {not_acked[:10]}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped afterwards); yields its DSN."""
    name = f"voiceshop_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- payloads that must be refused, for the hypothesis tests on both sides ----------------------------

NOW = float(round(time.time()))
"""Confirmation time of the good order: the cloud refuses times far from its clock (OrderLimits)."""
GOOD_MESSAGES = {
    "orders": OrderMessage("3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8", (OrderLine("PRO-0000001", "x", 1, 1),), 1,
                           "USD", NOW),
    "presence": Presence("dev-1", True, 1.8e9),
    "acks": Ack("3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8", True, 1, "USD", "1"),
    "status": StatusUpdate("3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8", "shipped", 1.8e9),
}
OPTIONAL_FIELDS = {"acks": ("code",)}
"""Fields added within wire v1 that a decoder accepts missing (dropping them is no error)."""
_JUNK = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.lists(st.integers())


def _same_kind(value: Any, old: Any) -> bool:
    """Would value pass where old did? (ints stand in for floats, never for bools or strings)."""
    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)
    return (number(value) and number(old)) or type(value) is type(old)


@st.composite
def broken_payloads(draw: Any, leaves: tuple[str, ...] = tuple(GOOD_MESSAGES)) -> tuple[str, bytes]:
    """(leaf, payload) where payload is certainly invalid on that leaf: a valid one with its version
    changed, a field dropped or given a value of the wrong kind, padded past the size limit, or bytes."""
    leaf = draw(st.sampled_from(sorted(leaves)))
    data = json.loads(encode(GOOD_MESSAGES[leaf]))
    fields = sorted(k for k in data if k not in ("v", "type", *OPTIONAL_FIELDS.get(leaf, ())))
    kind = draw(st.sampled_from(["version", "drop", "retype", "bytes", "oversize"]))
    if kind == "bytes":
        return leaf, draw(st.binary(max_size=200))
    if kind == "version":
        data["v"] = draw(st.integers().filter(lambda v: v != WIRE_VERSION) | st.text(max_size=5) | st.none())
    elif kind == "drop":
        del data[draw(st.sampled_from(fields))]
    elif kind == "retype":
        name = draw(st.sampled_from(fields))
        data[name] = draw(_JUNK.filter(lambda v, old=data[name]: not _same_kind(v, old)))
    else:
        data["padding"] = "x" * MAX_PAYLOAD_BYTES
    return leaf, json.dumps(data).encode()
