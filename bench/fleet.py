"""`python -m bench fleet`: how fast the cloud side stores orders with 1, 2 and 4 ingest workers.

The set-up a fleet runs, on this machine and on 127.0.0.1 only: a Mosquitto broker, a PostgreSQL
database (the unique idempotency key), and N `python -m cloud serve --pg DSN` workers on one MQTT 5
shared subscription. Per N, on a fresh broker and database:

1. the N workers start once (creating the schema and their persistent sessions on the shared
   subscription) and stop;
2. `--devices` device outboxes publish `--orders` confirmed orders between them until the broker has
   acknowledged every one (PUBACK); with the workers away the broker queues them, shared round-robin
   between the workers' sessions, so the devices' own pace is out of the figure;
3. the N workers start again and drain the backlog: the rate is stored orders per second from the
   first batch's `received_at` in PostgreSQL (each worker prices, stores and acks a batch per
   transaction) until the bench sees the last order stored, with every order checked to be stored
   exactly once.

Beside each rate: CPU seconds during the drain (from /proc) of the workers, of their PostgreSQL
backends and of Mosquitto, and the load average, which say where the next bottleneck is. Bounded: --orders (default 4,000), --timeout seconds per drain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import summary
from edge.orders import Outbox
from tests.brokers import Mosquitto, wait_for
from tests.conftest import REPO
from tests.orders_rig import device_client, make_catalog, postgres_database, prepare_outbox

GROUP = "fleet"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (seconds), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Workers:
    """N `python -m cloud serve` processes on one shared subscription; start() waits until each is subscribed."""

    def __init__(self, count: int, url: str, catalog: Path, dsn: str) -> None:
        self.commands = [[sys.executable, "-m", "cloud", "serve", "--broker", url, "--catalog", str(catalog),
                          "--pg", dsn, "--client-id", f"fleet-worker-{n}", "--group", GROUP, "--protocol", "5",
                          "--ship-after", "-1", "--json"] for n in range(count)]
        self.procs: list[subprocess.Popen[str]] = []
        self.cpu: list[float] = []
        self._ready_cpu: list[float] = []
        """CPU seconds each worker spent between ready and stop (its start-up left out)."""

    def start(self, timeout: float = 60.0) -> None:
        self.procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                      for cmd in self.commands]
        self._ready_cpu = []
        for proc in self.procs:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline() or "{}")
            if ready.get("event") != "ready" or not ready.get("shared"):
                self.stop()
                raise RuntimeError(f"a cloud worker did not start on a shared subscription: {ready}")
            self._ready_cpu.append(cpu_seconds(proc.pid))

    def stop(self) -> list[dict[str, Any]]:
        """Stop every worker; their `stopped` records (counters). CPU seconds are read just before."""
        self.cpu = []
        for proc, ready in zip(self.procs, self._ready_cpu, strict=False):
            try:
                self.cpu.append(cpu_seconds(proc.pid) - ready)
            except OSError:
                self.cpu.append(0.0)
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        records = []
        for proc in self.procs:
            out, _ = proc.communicate(timeout=30)
            records += [json.loads(line) for line in out.splitlines() if '"stopped"' in line]
        return records


def queue_backlog(url: str, outboxes: list[Path], per_device: int) -> None:
    """Every device publishes its backlog until the broker has PUBACKed each order (no cloud online)."""
    clients = []
    for n, path in enumerate(outboxes):
        client = device_client(Outbox(path), url, f"fleet-dev-{n}", ack_timeout=600.0)
        client.start()
        clients.append(client)
    try:
        wait_for(lambda: all(c.stats.published >= per_device and c.inflight == 0 for c in clients), 300,
                 "the devices' backlog at the broker", interval=0.01)
    finally:
        for client in clients:
            client.stop()
            client.outbox.close()


def stored(dsn: str) -> tuple[int, int, float]:
    """(orders, distinct keys, first received_at) in the cloud's database."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT key), min(received_at) FROM orders").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), float(row[2] or 0.0)


def backend_cpu(dsn: str) -> float:
    """CPU seconds of the PostgreSQL backends serving this database's other sessions (the workers)."""
    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(dsn) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                           "AND pid <> pg_backend_pid()", (name,)).fetchall()]
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that just ended
            total += cpu_seconds(pid)
    return total


def run_once(work: Path, workers: int, orders: int, devices: int, catalog: Path,
             products: list[tuple[str, str, int]], timeout: float) -> dict[str, Any]:
    per_device = orders // devices
    outboxes = []
    for n in range(devices):
        path = work / f"device-{n}" / "outbox.sqlite"
        prepare_outbox(path, products, per_device, seed=1000 * workers + n)
        outboxes.append(path)
    total = per_device * devices
    with Mosquitto(work / "mosquitto") as broker, postgres_database() as dsn:
        fleet = Workers(workers, broker.url, catalog, dsn)
        fleet.start()
        fleet.stop()  # the sessions stay on the broker, subscribed: it queues for them
        queue_backlog(broker.url, outboxes, per_device)
        broker_cpu = cpu_seconds(broker.proc.pid) if broker.proc is not None else 0.0
        load_before = os.getloadavg()[0]
        began = time.monotonic()
        fleet.start()
        db_cpu = backend_cpu(dsn)  # the workers' backends are connected now; the drain has barely begun
        done: list[float] = []
        try:
            wait_for(lambda: stored(dsn)[0] >= total and not done.append(time.time()), timeout,
                     f"{total} orders stored", interval=0.02)
            wall = time.monotonic() - began
            db_cpu = backend_cpu(dsn) - db_cpu
        finally:
            records = fleet.stop()
        count, distinct, first = stored(dsn)
        broker_cpu = (cpu_seconds(broker.proc.pid) if broker.proc is not None else 0.0) - broker_cpu
    span = max(done[-1] - first, 1e-6)
    return {"workers": workers, "orders": total, "stored": count, "duplicated": count - distinct,
            "rate": count / span, "drain_seconds": span, "wall_seconds": wall,
            "per_worker": [r.get("stored", 0) for r in records], "worker_cpu_seconds": sum(fleet.cpu),
            "db_cpu_seconds": db_cpu, "broker_cpu_seconds": broker_cpu, "load": (load_before, os.getloadavg()[0])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure (comma-separated)")
    parser.add_argument("--orders", type=int, default=4000, help="orders per measurement (at most 50,000)")
    parser.add_argument("--devices", type=int, default=4, help="devices the orders come from")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds a drain may take before giving up")
    parser.add_argument("--json", action="store_true", help="also print one JSON line per measurement")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    if not 1 <= args.orders <= 50_000 or not 1 <= args.devices <= 64 or any(not 1 <= n <= 16 for n in counts):
        print("bench fleet: --orders 1..50000, --devices 1..64, --workers 1..16 each", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(os.environ.get("VOICESHOP_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
                             connect_timeout=5):
            pass
    except psycopg.Error as exc:
        print(f"bench fleet: PostgreSQL is not reachable ({exc}); set VOICESHOP_PG_ADMIN_DSN", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="fleet-") as tmp:
        catalog = Path(tmp) / "master.sqlite"
        products = make_catalog(catalog, products=300)
        for n in counts:
            results.append(run_once(Path(tmp) / f"w{n}", n, args.orders, args.devices, catalog, products,
                                    args.timeout))
            if args.json:
                print(json.dumps(results[-1]), flush=True)
    print(f"cloud ingest, {results[0]['orders']} orders from {args.devices} devices queued at Mosquitto, drained "
          f"into PostgreSQL by N workers on one shared subscription ({os.cpu_count()} cores)")
    print(f"{'workers':>7} {'orders/s':>9} {'drain s':>8} {'split':>20}   CPU s: {'workers':>7} {'postgres':>8} "
          f"{'broker':>6}  {'load 1m':>7}")
    for r in results:
        split = "/".join(str(s) for s in r["per_worker"])
        print(f"{r['workers']:7d} {r['rate']:9.0f} {r['drain_seconds']:8.2f} {split:>20}          "
              f"{r['worker_cpu_seconds']:7.1f} {r['db_cpu_seconds']:8.1f} {r['broker_cpu_seconds']:6.1f}  "
              f"{r['load'][1]:7.1f}")
    bad = [r for r in results if r["stored"] != r["orders"] or r["duplicated"]]
    print(f"every order stored exactly once: {'yes' if not bad else 'NO'}")
    summary.add("cloud", "ingest with " + ", ".join(f"{r['workers']}" for r in results) + " workers "
                "(Mosquitto + PostgreSQL)", ", ".join(f"{r['rate']:.0f}" for r in results) + " orders/s", "",
                f"{os.cpu_count()} cores, load {results[-1]['load'][1]:.1f}")
    return 0 if not bad else 1
