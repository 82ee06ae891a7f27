"""`python -m cloud serve`: run one ingest worker until interrupted (or for --duration seconds).

The MQTT password comes from `--password-file FILE` or `$VOICESHOP_CLOUD_PASSWORD`: a command line
is readable by every user of the host through `ps`, so `--password` (kept for old scripts) warns.

With `--json`, stdout carries one `{"event": "ready", ...}` line once the worker is subscribed and one
`{"event": "stopped", ...}` line with its counters at exit; logs go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from cloud.broker import EmbeddedBroker
from cloud.cli import emit_json
from cloud.serve.ingest import Ingest
from cloud.serve.pricing import CatalogPrices, OrderLimits
from cloud.serve.service import CloudService, ServiceOptions
from cloud.serve.store import Store
from voiceshop_common.cli import WORLD_FAILED, fail
from voiceshop_common.wire import parse_broker_url

log = logging.getLogger("cloud.serve")
PASSWORD_ENV = "VOICESHOP_CLOUD_PASSWORD"


def mqtt_password(args: argparse.Namespace, url_password: str) -> str:
    """The password from --password-file, --password, $VOICESHOP_CLOUD_PASSWORD or the URL, in that order.

    Raises ValueError naming the file (never its content) when the file cannot be read.
    """
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as fh:
                password = fh.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a text file"
            raise ValueError(f"--password-file {args.password_file}: {reason}") from None
        if not password:
            raise ValueError(f"--password-file {args.password_file}: the first line is empty")
        return password
    if args.password:
        print("cloud serve: --password is visible to every user of this host (ps); "
              f"use --password-file or ${PASSWORD_ENV}", file=sys.stderr, flush=True)
        return str(args.password)
    return os.environ.get(PASSWORD_ENV, "") or url_password


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", metavar="PATH", help="SQLite file for orders")
    where.add_argument("--pg", metavar="DSN", help="PostgreSQL DSN for orders (e.g. postgresql://user@host/db)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", required=True, metavar="URL",
                        help="mqtt://host:port, mqtts://host:port, or 'embedded' to start an in-process amqtt broker")
    add_store_arguments(parser)
    parser.add_argument("--catalog", required=True, metavar="FILE",
                        help="master catalog the cloud prices orders from (python -m cloud catalog generate)")
    parser.add_argument("--client-id", default=f"voiceshop-cloud-{socket.gethostname()}",
                        help="fixed MQTT client id (persistent session); one per worker")
    parser.add_argument("--group", default="ingest", help="shared-subscription group ('' for a plain subscription)")
    parser.add_argument("--username", default="", help="MQTT username")
    parser.add_argument("--password-file", default="", metavar="FILE",
                        help=f"file whose first line is the MQTT password (or set ${PASSWORD_ENV})")
    parser.add_argument("--password", default="", help="MQTT password (visible in ps: prefer --password-file)")
    parser.add_argument("--ca-file", default="", help="CA certificate (PEM) for mqtts://")
    parser.add_argument("--protocol", choices=("auto", "5", "3.1.1"), default="auto")
    parser.add_argument("--ship-after", type=float, default=30.0, metavar="SECONDS",
                        help="mark accepted orders shipped after this long (negative: never)")
    parser.add_argument("--deliver-after", type=float, default=-1.0, metavar="SECONDS",
                        help="mark shipped orders delivered after this long (negative: never)")
    parser.add_argument("--deltas-dir", default="", metavar="DIR",
                        help="publish new catalog delta files written here (python -m cloud catalog publish --out DIR)")
    limits = OrderLimits()
    parser.add_argument("--max-order-cents", type=int, default=limits.max_total_cents, metavar="CENTS",
                        help="refuse orders whose total is above this (default %(default)s)")
    parser.add_argument("--max-future-seconds", type=float, default=limits.max_future_seconds, metavar="SECONDS",
                        help="refuse orders confirmed further ahead of this clock (device clock skew; "
                             "default %(default)s)")
    parser.add_argument("--max-age-seconds", type=float, default=limits.max_age_seconds, metavar="SECONDS",
                        help="refuse orders confirmed longer ago than this (default %(default)s, 30 days)")
    parser.add_argument("--duration", type=float, default=0.0, metavar="SECONDS", help="exit after this long")
    parser.add_argument("--json", action="store_true", help="ready/stopped records as JSON lines on stdout")


def run(args: argparse.Namespace) -> int:
    embedded = None
    try:
        if args.broker == "embedded":
            embedded = EmbeddedBroker().start()
            address = parse_broker_url(embedded.url)
        else:
            address = parse_broker_url(args.broker)
        password = mqtt_password(args, address.password)
        limits = OrderLimits(max_total_cents=args.max_order_cents, max_future_seconds=args.max_future_seconds,
                             max_age_seconds=args.max_age_seconds)
        prices = CatalogPrices(args.catalog)
        store = Store.open(db=args.db, pg=args.pg)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    options = ServiceOptions(
        client_id=args.client_id, username=args.username or address.username,
        password=password, ca_file=args.ca_file, protocol=args.protocol, group=args.group,
        ship_after=args.ship_after if args.ship_after >= 0 else None,
        deliver_after=args.deliver_after if args.deliver_after >= 0 else None, deltas_dir=args.deltas_dir)
    service = CloudService(Ingest(store, prices, worker=args.client_id, limits=limits), address, options)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        service.start()
    except (ConnectionError, OSError) as exc:
        fail(str(exc), WORLD_FAILED)
    info: dict[str, Any] = {"broker": address.url, "protocol": service.protocol, "shared": service.shared,
                            "client_id": args.client_id, "store": store.label}
    if args.json:
        emit_json({"event": "ready", **info})
    with contextlib.suppress(KeyboardInterrupt):
        done.wait(args.duration or None)
    service.stop()
    store.close()
    if embedded is not None:
        embedded.stop()
    if args.json:
        emit_json({"event": "stopped", **info, **service.ingest.stats.__dict__})
    return 0
