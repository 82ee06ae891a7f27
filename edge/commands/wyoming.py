"""`python -m edge wyoming [--uri tcp://0.0.0.0:10700] [--demo-catalog]`: the device's services for Home Assistant.

One process, models loaded once: speech recognition (asr), the voice (tts), the wake word (wake)
and the shopping dialogue (handle) over the Wyoming protocol (edge/wyoming). Orders placed through
it use the data dir's outbox and the configured broker, as `python -m edge run` does. Logs go to
stderr; with --json one {"event": "ready", "uri", "load_seconds"} line on stdout says it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from edge.cli import WORLD_FAILED, add_demo_catalog_option, emit_json, fail, load_demo_catalog_if_asked
from edge.config import Settings

DEFAULT_URI = "tcp://0.0.0.0:10700"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uri", default=DEFAULT_URI, help=f"where to listen: tcp://HOST:PORT or unix://PATH "
                                                           f"(default {DEFAULT_URI})")
    parser.add_argument("--db", metavar="DIR", help="device data dir with catalog.db and the outbox "
                                                    "(default: [device] data_dir)")
    parser.add_argument("--broker", metavar="URL", help="sync orders through this broker (default: [broker] url)")
    add_demo_catalog_option(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from edge.wyoming import ServiceError, load_services, serve

    if not args.uri.startswith(("tcp://", "unix://")):
        fail(f"--uri {args.uri!r}: use tcp://HOST:PORT or unix://PATH")
    data_dir = Path(args.db).expanduser() if args.db else settings.device.data_path
    failed = load_demo_catalog_if_asked(args, data_dir, settings)
    if failed is not None:
        fail(failed)
    try:
        services = load_services(settings, data_dir, broker_url=args.broker)
    except ServiceError as exc:
        fail(str(exc))

    def ready() -> None:
        if args.json:
            emit_json({"event": "ready", "uri": args.uri, "load_seconds": services.load_seconds})
        print(f"wyoming: listening on {args.uri} (asr, tts, wake, handle)", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(args.uri, services, on_ready=ready))
    except (OSError, ValueError) as exc:
        fail(f"cannot listen on {args.uri}: {exc}", WORLD_FAILED)
    finally:
        services.close()
    return 0
