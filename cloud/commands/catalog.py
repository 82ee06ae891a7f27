"""`python -m cloud catalog generate|keygen|change|publish|snapshot|delta`: the master catalog's CLI.

Thin: every action is a call into ``cloud.catalog``; results print as one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cloud.catalog import changes, generate, publish, signing, store
from voiceshop_common.cli import fail

DEFAULT_BUNDLE = "~/.cache/voiceshop/models/nlu"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    gen = sub.add_parser("generate", help="write a fresh demo master catalog")
    gen.add_argument("--products", type=int, default=2000, metavar="N")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--language", choices=("en", "zh"), default="en",
                     help="shop language: zh writes Chinese names, brands and units with prices in yuan")
    gen.add_argument("--out", required=True, metavar="FILE", help="master catalog SQLite file to (re)create")
    key = sub.add_parser("keygen", help="make the Ed25519 signing key pair (private stays here)")
    key.add_argument("--out", required=True, metavar="DIR")
    key.add_argument("--force", action="store_true", help="replace an existing key")
    change = sub.add_parser("change", help="random merchandising edits, pending for the next delta")
    change.add_argument("--catalog", required=True, metavar="FILE")
    for name in ("prices", "stock", "new", "delete", "edits"):
        change.add_argument(f"--{name}", type=int, default=0, metavar="N")
    change.add_argument("--seed", type=int, default=1)
    for name, text in (("publish", "embed, sign the delta from the last version and a snapshot, advance"),
                       ("snapshot", "sign a snapshot of the published version"),
                       ("delta", "sign the pending changes as the next delta only")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--catalog", required=True, metavar="FILE")
        p.add_argument("--key", required=True, metavar="FILE|DIR", help="private signing key (or its directory)")
        p.add_argument("--out", required=True, metavar="DIR" if name == "publish" else "FILE|DIR")
        if name != "snapshot":
            p.add_argument("--bundle", default=DEFAULT_BUNDLE, metavar="DIR",
                           help="NLU bundle with the sentence encoder (absent: publish without embeddings)")
            p.add_argument("--no-embeddings", action="store_true")


def _emit(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "generate":
            _emit(generate.generate(args.out, args.products, args.seed, args.language) | {"out": args.out})
        elif args.action == "keygen":
            private, public = signing.generate_keypair(args.out, overwrite=args.force)
            _emit({"private_key": str(private), "public_key": str(public),
                   "key_id": signing.signer_id(signing.load_private_key(private))})
        elif args.action == "change":
            conn = store.open_master(args.catalog)
            _emit(changes.random_changes(conn, prices=args.prices, stock=args.stock, new=args.new,
                                         delete_count=args.delete, edits=args.edits, seed=args.seed))
        else:
            conn = store.open_master(args.catalog)
            key = signing.load_private_key(args.key)
            out = Path(args.out)
            if args.action == "snapshot":
                target = out / "snapshot.vscat" if out.is_dir() else out
                version = publish.write_snapshot(conn, key, target)
                _emit({"snapshot": str(target), "version": version})
            else:
                bundle = None if args.no_embeddings else Path(args.bundle).expanduser()
                directory = out if args.action == "publish" or out.is_dir() or not out.suffix else out.parent
                result = publish.publish(conn, key, directory, bundle_dir=bundle,
                                         snapshot=args.action == "publish", delta=True)
                if args.action == "delta" and "delta" in result and directory != out:
                    Path(result["delta"]).replace(out)
                    result["delta"] = str(out)
                _emit(result)
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as exc:
        fail(str(exc))
    return 0
