"""`python -m cloud orders list`: what the cloud stored, newest first (JSON lines with --json)."""

from __future__ import annotations

import argparse

from cloud.cli import emit_json
from cloud.serve.cli import add_store_arguments
from cloud.serve.store import Store
from voiceshop_common.cli import fail
from voiceshop_common.wire import ORDER_STATUSES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="list stored orders")
    add_store_arguments(listing)
    listing.add_argument("--status", choices=ORDER_STATUSES, help="only orders in this status")
    listing.add_argument("--device", help="only this device's orders")
    listing.add_argument("--limit", type=int, default=None, help="at most this many (newest first)")
    listing.add_argument("--json", action="store_true", help="one JSON object per order on stdout")


def run(args: argparse.Namespace) -> int:
    try:
        store = Store.open(db=args.db, pg=args.pg)
    except Exception as exc:  # bad path, unreachable server, wrong DSN: one line, no traceback
        fail(f"cannot open the order store: {exc}")
    orders = store.list_orders(status=args.status, device_id=args.device, limit=args.limit)
    store.close()
    if args.json:
        for order in orders:
            emit_json(order)
        return 0
    if not orders:
        print("no orders")
    for o in orders:
        items = ", ".join(f"{ln['quantity']}× {ln['name']}" for ln in o["lines"])
        print(f"#{o['id']:<6} {o['status']:<10} {o['device_id']:<14} {o['total_cents'] / 100:>9.2f} {o['currency']}"
              f"  {o['key']}  {items}")
    return 0
