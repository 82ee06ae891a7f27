"""`python -m edge orders list|sync|cancel`: look into the outbox and sync it with the cloud by hand.

`sync --once` connects, publishes what is queued, waits for the cloud's acks and exits 0 when every
order is settled (1 if --timeout passes first); `sync` without --once keeps running, as the device
loop would, until interrupted. `--db DIR` is the device data dir (outbox.sqlite, and catalog.db
for the catalog deltas a sync brings), as for `chat` and `run`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sqlite3
import threading
import time
from typing import Any

from edge.cli import WORLD_FAILED, emit_json, fail, with_data_dir
from edge.config import Settings
from edge.orders import STATES, OrderError, Outbox, OutboxDamaged
from edge.orders.db import damaged_message, is_damage
from edge.storage import StorageFull, full_message, is_disk_full
from edge.sync import SyncClient
from edge.sync.deltas import catalog_delta_handler

log = logging.getLogger("edge.orders")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="DIR", help="device data dir with outbox.sqlite (default: [device] data_dir)")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="orders in the outbox, newest first")
    listing.add_argument("--state", action="append", choices=STATES, help="only this state (repeatable)")
    listing.add_argument("--limit", type=int, default=None)
    sync = sub.add_parser("sync", help="publish queued orders and apply the cloud's acks and statuses")
    sync.add_argument("--once", action="store_true", help="exit once every order is acked (or at --timeout)")
    sync.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="give up after (with --once)")
    sync.add_argument("--broker", metavar="URL", help="override [broker] url")
    cancel = sub.add_parser("cancel", help="cancel an order within the cancel window")
    cancel.add_argument("order_id", type=int)
    for action in (listing, sync, cancel):  # accept the common flags after the action too
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        action.add_argument("--db", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings = with_data_dir(settings, args.db)
    try:
        outbox = Outbox.for_settings(settings)
    except (OutboxDamaged, StorageFull) as exc:  # the message says what happened and what to do
        fail(str(exc), WORLD_FAILED)
    try:
        return {"list": _list, "sync": _sync, "cancel": _cancel}[args.action](args, settings, outbox)
    except sqlite3.DatabaseError as exc:  # damaged while we read it (the start-up check passed), or full
        if is_damage(exc):
            fail(damaged_message(outbox.path, str(exc), None), WORLD_FAILED)
        if is_disk_full(exc, outbox.path):
            fail(full_message(outbox.path, "the outbox cannot record the change"), WORLD_FAILED)
        raise
    finally:
        outbox.close()


def _list(args: argparse.Namespace, _settings: Settings, outbox: Outbox) -> int:
    orders = outbox.list(states=args.state, limit=args.limit)
    if args.json:
        for order in orders:
            emit_json(order.to_dict())
        return 0
    if not orders:
        print("no orders")
    for o in orders:
        items = ", ".join(f"{ln.quantity}× {ln.name or ln.sku}" for ln in o.lines)
        flag = " (cancel pending)" if o.cancel_pending else ""
        print(f"#{o.id:<5} {o.state:<9}{flag} {o.total_cents / 100:>8.2f} {o.currency}  {items}")
    return 0


def _sync(args: argparse.Namespace, settings: Settings, outbox: Outbox) -> int:
    url = args.broker or settings.broker.url
    if not url:
        fail("no broker configured (set [broker] url, VOICESHOP_BROKER__URL or --broker)")
    catalog = _open_catalog(settings)
    try:
        client = SyncClient.for_settings(settings, outbox, url=url, on_catalog_delta=(
            catalog_delta_handler(catalog) if catalog is not None else None))
    except ValueError as exc:
        fail(str(exc))
    started = time.monotonic()
    if args.once:
        settled = client.run_until_settled(args.timeout)
    else:
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        client.start()
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()
        client.stop()
        settled = outbox.unsettled() == 0
    record = {"settled": settled, "seconds": round(time.monotonic() - started, 3), "counts": outbox.counts(),
              **client.stats.__dict__}
    if args.json:
        emit_json(record)
    else:
        print(f"{'settled' if settled else 'NOT settled'}: published {record['published']} "
              f"(re-sent {record['republished']}), acks {record['acks']}, statuses {record['statuses']}; "
              + ", ".join(f"{state} {n}" for state, n in record["counts"].items() if n))
    return 0 if settled else 1


def _open_catalog(settings: Settings) -> Any:
    """The device catalog, so deltas that arrive during a sync are applied; None if it cannot open."""
    try:
        from edge.catalog.catalog import Catalog

        return Catalog.from_settings(settings, semantic=False)
    except Exception as exc:  # a broken catalog must not keep orders from syncing
        log.warning("catalog deltas will not be applied: %s", exc)
        return None


def _cancel(args: argparse.Namespace, _settings: Settings, outbox: Outbox) -> int:
    try:
        order = outbox.cancel(args.order_id)
    except OrderError as exc:
        fail(str(exc))
    if args.json:
        emit_json(order.to_dict())
    else:
        print(f"order {order.id}: {order.state}{' (cancel requested from the cloud)' if order.cancel_pending else ''}")
    return 0
