"""`python -m edge chat`: the shopping dialogue as a text REPL (NLU + dialogue + catalog + outbox, no audio).

One line on stdin is one user turn, so it scripts: `printf 'find apples\\nthe second one\\n' | python -m
edge chat --json`. An empty line stands for silence: the turn times out as if nobody answered within
settings.dialog.turn_timeout_seconds (on a terminal, real silence after a question does the same).
With --json every turn prints one record {"user", "intent", "confidence", "slots", "reply",
"expects_answer", "state", "actions"}; a PIN answer is printed as "****".

With no catalog in the data dir it stops with the commands that load one; `--demo-catalog` runs them
for you (the cloud's demo catalog, signed and applied as a device would). It is never loaded
silently, because a real device must not fill itself with invented products. Orders go to the
outbox in the same data dir; with a broker configured (`[broker] url` or --broker) they are synced
at once, otherwise they stay queued until `python -m edge orders sync`.
"""

from __future__ import annotations

import argparse
import dataclasses
import select
import sys
from pathlib import Path

from edge.cli import WORLD_FAILED, add_demo_catalog_option, emit_json, fail, load_demo_catalog_if_asked
from edge.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=("speaker", "car"), help="override [device] profile")
    parser.add_argument("--db", metavar="DIR", help="device data dir with catalog.db and the outbox "
                                                    "(default: [device] data_dir)")
    parser.add_argument("--broker", metavar="URL", help="sync orders through this broker (default: [broker] url)")
    parser.add_argument("--user", metavar="ID", help="whose recommendations (default: the device id)")
    add_demo_catalog_option(parser)
    parser.add_argument("--unlock-purchasing", action="store_true",
                        help="reset the PIN lock after three wrong PINs, then exit (an owner action)")


def _say(turn_record: dict, as_json: bool) -> None:
    if as_json:
        emit_json(turn_record)
    elif turn_record["reply"]:
        print(turn_record["reply"], flush=True)


def _read_line(interactive: bool, waiting: bool, timeout: float) -> str | None:
    """The next line; "" when a terminal user stays silent past the timeout; None at end of input."""
    if interactive:
        print("> ", end="", file=sys.stderr, flush=True)
        if waiting:
            ready, _, _ = select.select([sys.stdin], [], [], timeout)
            if not ready:
                print("(silence)", file=sys.stderr)
                return ""
    line = sys.stdin.readline()
    return None if line == "" else line.rstrip("\r\n")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from edge.dialog.guard import PurchaseGuard
    from edge.dialog.session import GUARD_DB, SessionError, ShopSession
    from edge.orders import OutboxDamaged
    from edge.storage import StorageFull

    if args.profile:
        settings = dataclasses.replace(settings, device=dataclasses.replace(settings.device, profile=args.profile))
    data_dir = Path(args.db).expanduser() if args.db else settings.device.data_path
    if args.unlock_purchasing:
        PurchaseGuard(data_dir / GUARD_DB, settings.dialog.pin).reset()
        print(f"purchasing unlocked ({data_dir / GUARD_DB})", file=sys.stderr)
        return 0
    failed = load_demo_catalog_if_asked(args, data_dir, settings)
    if failed is not None:
        fail(failed)
    try:
        session = ShopSession(settings, data_dir, user=args.user, broker_url=args.broker)
    except SessionError as exc:
        fail(str(exc))
    except (OutboxDamaged, StorageFull) as exc:  # a failure of the world, not of the command line
        fail(str(exc), WORLD_FAILED)
    interactive = sys.stdin.isatty()
    if interactive and not args.json:
        print("Type what you would say (empty line = silence, Ctrl-D to quit).", file=sys.stderr)
    try:
        waiting = False
        while True:
            line = _read_line(interactive, waiting, settings.dialog.turn_timeout_seconds)
            if line is None:
                break
            turn = session.turn(line) if line.strip() else session.timeout()
            waiting = turn.reply.expects_answer and session.dialog.state.pending is not None
            _say(turn.to_record(), args.json)
    except KeyboardInterrupt:
        pass
    finally:
        session.close()
    return 0
