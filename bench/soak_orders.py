"""`python -m bench soak_orders`: randomized fault trials, then a big offline backlog flushed at once.

1. `--trials` trials against a real Mosquitto (own port and state dir), one cloud worker (SQLite) and one
   device outbox. Each trial confirms a random batch of orders, starts the flush, and at a random
   moment kills the broker (SIGKILL, restarted after a random pause), cuts the device's link through a
   TCP proxy (1-3 times), kill -9s the device process (a subprocess, then restarted with
   `edge orders sync --once`), or does nothing. After every trial the cloud must hold every confirmed
   order exactly once: lost and duplicated are counted, as are re-sent copies the cloud absorbed.
2. `--flush` orders queued while offline, then flushed: the device's rate until the broker has
   acknowledged every order (PUBACK), against raw paho QoS 1 publishing the same payloads to the same
   broker with the same in-flight window, in the same process, alternating rounds (medians). Nobody
   subscribes during those rounds, so both sides do the same device → broker work on this shared
   2-core box. Then the backlog is flushed once more with the cloud online, timed until every order
   is stored and acked. Goal: 0 lost, 0 duplicated, flush >= 50 % of raw.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench import summary
from edge.orders import Outbox
from edge.wire import encode
from tests.brokers import Mosquitto, TcpProxy, wait_for
from tests.conftest import REPO
from tests.orders_rig import (
    cloud_worker,
    confirm_orders,
    device_client,
    device_env,
    make_catalog,
    prepare_outbox,
)

DEVICE = "dev-soak"
FAULTS = ("none", "broker-kill", "link-cut", "device-kill")


class Rig:
    """Broker, proxy, cloud worker and device outbox shared by all trials."""

    def __init__(self, work: Path, seed: int) -> None:
        self.work, self.rng = work, random.Random(seed)
        self.products = make_catalog(work / "master.sqlite", products=300, seed=seed)
        self.broker = Mosquitto(work / "mosquitto").start()
        self.proxy = TcpProxy(self.broker.port)
        self.outbox = Outbox(work / "device" / "outbox.sqlite")
        self.keys: list[str] = []
        self.env = device_env(work / "device", self.proxy.url, DEVICE, ack_timeout_seconds="1")

    def close(self) -> None:
        self.proxy.close()
        self.broker.stop()
        self.outbox.close()


def _sync_process(rig: Rig, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "edge", "orders", "sync", *extra], cwd=REPO, env=rig.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_trial(rig: Rig, fault: str, store: Any) -> dict[str, Any]:
    """One trial; returns what happened and the running lost/duplicated counts."""
    batch = rig.rng.randint(5, 40)
    rig.keys += confirm_orders(rig.outbox, rig.products, batch, seed=rig.rng.randrange(1 << 30))
    delay = rig.rng.uniform(0.0, 0.25)
    mid_flush = False
    started = time.monotonic()
    if fault == "device-kill":
        proc = _sync_process(rig)
        time.sleep(0.8 + delay)  # the subprocess needs ~1 s to import and connect: aim inside its flush
        mid_flush = rig.outbox.unsettled() > 0
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        settled = _sync_process(rig, "--once", "--timeout", "60").wait(90) == 0
    else:
        client = device_client(rig.outbox, rig.proxy.url, DEVICE, ack_timeout=1.0)
        client.start()
        time.sleep(delay)  # a random moment in (or after) the flush: the fault injection point
        mid_flush = rig.outbox.unsettled() > 0
        if fault == "broker-kill":
            rig.broker.kill()
            time.sleep(rig.rng.uniform(0.0, 0.5))
            rig.broker.start()
        elif fault == "link-cut":
            for _ in range(rig.rng.randint(1, 3)):
                rig.proxy.cut()
                time.sleep(rig.rng.uniform(0.02, 0.2))
        try:
            wait_for(lambda: rig.outbox.unsettled() == 0, 90, "the trial's orders to settle")
            settled = True
        except AssertionError:
            settled = False
        client.stop()
    stored = store.keys(DEVICE)
    return {"fault": fault, "orders": batch, "mid_flush": mid_flush, "settled": settled,
            "seconds": time.monotonic() - started, "lost": len(set(rig.keys) - set(stored)),
            "duplicated": len(stored) - len(set(stored)), "unexpected": len(set(stored) - set(rig.keys))}


def fault_trials(work: Path, trials: int, seed: int) -> tuple[list[dict[str, Any]], int]:
    rig = Rig(work, seed)
    try:
        with cloud_worker(rig.broker.url, work / "master.sqlite", db=work / "cloud.sqlite",
                          client_id="cloud-soak") as cloud:
            results = [run_trial(rig, rig.rng.choice(FAULTS), cloud.ingest.store) for _ in range(trials)]
            copies = cloud.ingest.store.copies_received() - len(cloud.ingest.store.keys())
    finally:
        rig.close()
    return results, copies


def raw_paho_rate(port: int, payloads: list[bytes], inflight: int) -> float:
    """Messages per second for plain paho QoS 1 publishing, until every PUBACK is in."""
    done = threading.Event()
    acked = [0]

    def on_publish(*_args: Any) -> None:
        acked[0] += 1
        if acked[0] == len(payloads):
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"raw-{time.monotonic_ns()}",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(inflight)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    for payload in payloads:
        client.publish("bench/raw/orders", payload, qos=1)
    done.wait(300)
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return len(payloads) / elapsed


def _flush_once(broker: Mosquitto, backlog: Path, work: Path, device: str, inflight: int,
                count: int) -> tuple[float, Outbox, Any]:
    """Copy the prepared backlog into a fresh device dir and time its flush to the broker (all PUBACKed)."""
    path = work / device / "outbox.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backlog, path)
    outbox = Outbox(path)
    client = device_client(outbox, broker.url, device, ack_timeout=600.0, max_inflight=inflight)
    start = time.perf_counter()
    client.start()
    wait_for(lambda: client.stats.published >= count and client.inflight == 0, 600, "the flush", interval=0.005)
    return count / (time.perf_counter() - start), outbox, client


def offline_flush(work: Path, count: int, inflight: int, seed: int, reps: int) -> dict[str, Any]:
    """A backlog queued offline, flushed when the broker is back; then flushed again with the cloud online.

    Flush rate: `reps` rounds of (raw paho, device) alternating on the same broker with nobody
    subscribed, medians compared; both sides do the same device → broker work and alternating
    spreads this shared box's load changes over both. End to end: the cloud is online and the rate
    counts until every order is stored, acked and the ack applied in the outbox.
    """
    products = make_catalog(work / "master.sqlite", products=300, seed=seed)
    backlog = work / "backlog.sqlite"
    keys = prepare_outbox(backlog, products, count, seed=seed)
    staged = Outbox(backlog)
    payloads = [encode(o.to_message()) for o in staged.list(states=["confirmed"])]
    staged.close()
    raw: list[float] = []
    ours: list[float] = []
    with Mosquitto(work / "mosquitto") as broker:
        for rep in range(reps):
            raw.append(raw_paho_rate(broker.port, payloads, inflight))
            rate, outbox, client = _flush_once(broker, backlog, work, f"{DEVICE}-{rep}", inflight, count)
            client.stop()
            outbox.close()
            ours.append(rate)
        with cloud_worker(broker.url, work / "master.sqlite", db=work / "cloud.sqlite", client_id="cloud-flush",
                          ship_after=None) as cloud:
            start = time.perf_counter()
            _rate, outbox, client = _flush_once(broker, backlog, work, DEVICE, inflight, count)
            wait_for(lambda: outbox.counts()["acked"] == count, 600, "every ack", interval=0.05)
            end_to_end = count / (time.perf_counter() - start)
            client.stop()
            outbox.close()
            stored = cloud.ingest.store.keys(DEVICE)
    return {"orders": count, "flush_rate": statistics.median(ours), "raw_rate": statistics.median(raw),
            "flush_rates": ours, "raw_rates": raw, "end_to_end_rate": end_to_end,
            "lost": len(set(keys) - set(stored)), "duplicated": len(stored) - len(set(stored))}


def confirm_latency(work: Path, samples: int) -> float:
    """Median seconds for one durable Outbox.confirm (synchronous=FULL) on this disk."""
    products = make_catalog(work / "master.sqlite", products=300)
    outbox = Outbox(work / "confirm" / "outbox.sqlite")
    times = []
    for n in range(samples):
        t = time.perf_counter()
        confirm_orders(outbox, products, 1, seed=n)
        times.append(time.perf_counter() - t)
    outbox.close()
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak_orders", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="randomized fault trials")
    parser.add_argument("--flush", type=int, default=10000, help="orders queued offline, then flushed")
    parser.add_argument("--inflight", type=int, default=100, help="QoS 1 in-flight window, ours and raw")
    parser.add_argument("--rounds", type=int, default=3, help="alternating raw/device flush rounds (median)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--json", action="store_true", help="also print one JSON summary line")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        work = Path(tmp)
        trials, absorbed = fault_trials(work / "trials", args.trials, args.seed)
        flush = offline_flush(work / "flush", args.flush, args.inflight, args.seed, args.rounds)
        confirm_s = confirm_latency(work / "flush", 50)
    last = trials[-1] if trials else {"lost": 0, "duplicated": 0, "unexpected": 0}
    print(f"orders soak: {len(trials)} fault trials (Mosquitto, SQLite cloud), then {args.flush} orders "
          f"flushed after being queued offline")
    print(f"{'fault':14} {'trials':>6} {'mid-flush':>9} {'orders':>7} {'settled':>7} {'mean s':>7}")
    for fault in FAULTS:
        rows = [t for t in trials if t["fault"] == fault]
        if rows:
            print(f"{fault:14} {len(rows):6d} {sum(r['mid_flush'] for r in rows):9d} "
                  f"{sum(r['orders'] for r in rows):7d} {sum(r['settled'] for r in rows):7d} "
                  f"{sum(r['seconds'] for r in rows) / len(rows):7.2f}")
    print(f"confirmed orders lost: {last['lost']}   duplicated in the cloud: {last['duplicated']}   "
          f"unexpected: {last['unexpected']}   re-sent copies absorbed by the unique key: {absorbed}")
    print(f"{'flush of ' + str(flush['orders']) + ' orders queued offline':44} {'orders/s':>10} {'vs raw':>8}"
          f"   (median of {len(flush['raw_rates'])} alternating rounds)")
    print(f"{'  device outbox -> broker (all PUBACKed)':44} {flush['flush_rate']:10.0f} "
          f"{flush['flush_rate'] / flush['raw_rate']:7.0%}   "
          f"rounds: {', '.join(f'{r:.0f}' for r in flush['flush_rates'])}")
    print(f"{'  anchor: raw paho QoS 1, same payloads':44} {flush['raw_rate']:10.0f} {'100%':>8}   "
          f"rounds: {', '.join(f'{r:.0f}' for r in flush['raw_rates'])}")
    print(f"{'  end to end with the cloud online (acked)':44} {flush['end_to_end_rate']:10.0f} "
          f"{flush['end_to_end_rate'] / flush['raw_rate']:7.0%}")
    print(f"flush lost: {flush['lost']}   duplicated: {flush['duplicated']}   "
          f"durable confirm p50: {confirm_s * 1e3:.1f} ms (synchronous=FULL)")
    summary.add("orders", f"{len(trials)} randomized fault trials: confirmed orders lost / duplicated",
                f"{last['lost']} / {last['duplicated']}", "0 / 0", f"{absorbed} re-sent copies absorbed")
    summary.add("orders", f"flush of {flush['orders']:,} orders queued offline",
                f"{flush['flush_rate']:.0f} orders/s ({flush['flush_rate'] / flush['raw_rate']:.0%})", ">= 50 % of raw",
                f"raw paho QoS 1: {flush['raw_rate']:.0f} orders/s")
    if args.json:
        print(json.dumps({"trials": len(trials), "lost": last["lost"], "duplicated": last["duplicated"],
                          "unexpected": last["unexpected"], "settled": sum(t["settled"] for t in trials),
                          "mid_flush": sum(t["mid_flush"] for t in trials), "absorbed": absorbed,
                          "flush": flush, "confirm_p50_s": confirm_s}))
    ok = last["lost"] == last["duplicated"] == last["unexpected"] == 0 and flush["lost"] == flush["duplicated"] == 0
    return 0 if ok else 1
