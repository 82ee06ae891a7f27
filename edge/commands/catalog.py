"""`python -m edge catalog search|recommend|stats|apply`: the device catalog from the shell.

Thin: parse, call ``edge.catalog.Catalog``, print. With --json every result is one JSON object
per line on stdout; without it, a short human table. `--db DIR` is the device data dir, as for
`chat` (a path ending in .db, or an existing file, is taken as the catalog file itself). Reading a
catalog that is not there says how to load one instead of answering "no matches" from an empty
file; `apply` is how a fresh data dir gets its catalog.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edge.catalog.catalog import Catalog
from edge.catalog.files import read_payload_file
from edge.cli import add_demo_catalog_option, emit_json, fail, load_demo_catalog_if_asked, with_data_dir
from edge.config import Settings
from edge.dialog.demo import CATALOG_DB


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="DIR", help="device data dir with catalog.db (default: [device] data_dir); "
                                                    "a path ending in .db is the catalog file itself")
    add_demo_catalog_option(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    search = sub.add_parser("search", help="hybrid search (lexical + semantic + fuzzy)")
    search.add_argument("query")
    search.add_argument("--max-price", type=float, metavar="DOLLARS", help="only products at or under this price")
    search.add_argument("--brand", help="only this brand (spoken forms are snapped to a catalog brand)")
    search.add_argument("--limit", type=int, default=5, metavar="K")
    search.add_argument("--include-out-of-stock", action="store_true")
    search.add_argument("--no-semantic", action="store_true", help="skip the sentence encoder")
    rec = sub.add_parser("recommend", help="top-k for a user, or 'often bought with' a product")
    rec.add_argument("--user", required=True, metavar="ID")
    rec.add_argument("--with", dest="with_product", action="append", default=[], metavar="PRODUCT",
                     help="a product in the cart (id, SKU or name); repeatable")
    rec.add_argument("--like", metavar="PRODUCT", help="other products of this one's family instead "
                     "(\"something like this\")")
    rec.add_argument("--cheaper", action="store_true", help="with --like: only cheaper ones, cheapest first")
    rec.add_argument("-k", "--limit", type=int, default=5, dest="k")
    sub.add_parser("stats", help="version, counts, size")
    apply = sub.add_parser("apply", help="verify and apply a signed snapshot or delta file")
    apply.add_argument("file")
    apply.add_argument("--public-key", metavar="FILE", help="override the configured catalog public key")
    for action_parser in (search, rec, sub.choices["stats"], apply):
        # Accept --json/--db after the action too ("catalog search milk --json"); SUPPRESS keeps
        # the value given before the action when they are not repeated here.
        action_parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                                   help="one JSON object per line on stdout")
        action_parser.add_argument("--db", metavar="DIR", default=argparse.SUPPRESS, help="device data dir")



def _catalog_file(args: argparse.Namespace, settings: Settings) -> tuple[Settings, Path]:
    """(settings with --db DIR as the data dir, the catalog file)."""
    db = Path(args.db).expanduser() if args.db else None
    if db is not None and (db.suffix == ".db" or db.is_file()):
        return settings, db
    settings = with_data_dir(settings, db)
    return settings, settings.device.data_path / CATALOG_DB


def _no_catalog(path: Path) -> str | None:
    """Why there is nothing to read at path (with how to load a catalog), or None."""
    from edge.dialog.session import catalog_problem

    if path.name == CATALOG_DB:
        return catalog_problem(path.parent)
    if not path.is_file():
        return f"No catalog at {path}. Apply a signed snapshot into it: python -m edge catalog --db {path} apply FILE"
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings, path = _catalog_file(args, settings)
    if args.demo_catalog:
        if path.name != CATALOG_DB:
            fail("--demo-catalog needs --db DIR (a device data dir), not a catalog file")
        failed = load_demo_catalog_if_asked(args, path.parent, settings)
        if failed is not None:
            fail(failed)
    if args.action != "apply" and (problem := _no_catalog(path)) is not None:
        fail(problem)  # before opening it: opening would create an empty catalog.db
    semantic = False if getattr(args, "no_semantic", False) or args.action != "search" else None
    catalog = Catalog.from_settings(settings, path, semantic=semantic)
    try:
        if args.action == "search":
            if args.limit < 1 or (args.max_price is not None and args.max_price < 0):
                fail("--limit must be at least 1 and --max-price not negative")
            hits = catalog.search(args.query, max_price=args.max_price, brand=args.brand, limit=args.limit,
                                  in_stock_only=not args.include_out_of_stock)
            for hit in hits:
                if args.json:
                    emit_json(hit.to_dict())
                else:
                    p = hit.product
                    print(f"{p.id:>8}  {p.name[:34]:<34} {p.brand[:18]:<18} {p.pack_size:<9} "
                          f"${p.price_cents / 100:>7.2f}  {hit.score:5.3f}  {','.join(hit.why)}")
            if not hits and not args.json:
                print("no matches")
            return 0
        if args.action == "recommend":
            context = []
            for text in args.with_product:
                pid = catalog.product_id(text)
                if pid is None:
                    fail(f"no product matches {text!r}")
                context.append(pid)
            if args.like:
                like = catalog.product_id(args.like)
                if like is None:
                    fail(f"no product matches {args.like!r}")
                recs = catalog.alternatives(like, args.k, cheaper=args.cheaper)
            else:
                recs = catalog.recommend(args.user, context, args.k)
                if context:
                    recs += catalog.often_bought_with(context[0], max(1, args.k // 2))
            for rec in recs:
                if args.json:
                    emit_json(rec.to_dict())
                else:
                    p = rec.product
                    print(f"{p.id:>8}  {p.name[:34]:<34} {p.brand[:18]:<18} ${p.price_cents / 100:>7.2f}  {rec.reason}")
            return 0
        if args.action == "stats":
            stats = catalog.stats()
            if args.json:
                emit_json(stats)
            else:
                for key, value in stats.items():
                    print(f"{key:>16}: {value}")
            return 0
        try:
            payload = read_payload_file(args.file)  # capped at 32 MB, like the MQTT path
        except ValueError as exc:
            fail(str(exc))
        if args.public_key:
            catalog.public_key_file = Path(args.public_key)
        result = catalog.apply(payload)
        checkpoint_seconds = catalog.checkpoint() if result.status == "applied" else 0.0
        if args.json:
            emit_json(result.to_dict() | {"checkpoint_seconds": round(checkpoint_seconds, 3)})
        else:
            print(f"{result.status}: catalog at version {result.version}"
                  + (f" ({result.changes} changes, {result.seconds:.2f} s)" if result.status == "applied" else "")
                  + (f" — {result.reason}" if result.reason else ""))
        return 0 if result.ok else 1
    finally:
        catalog.close()
