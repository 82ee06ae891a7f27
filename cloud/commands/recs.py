"""`python -m cloud recs train`: fit ALS and family complements on synthetic histories, publish them.

Prints one JSON line: training sizes, timings, and for popularity, today's ALS-only model and the
blend the device now uses (ALS + complements + diversity), on the same held-out carts:
precision@k, recall@k, the share of recommendations in a cart item's family, repeats of a family
within a list, and catalog coverage (see cloud.recs.evaluate). Factors and complements land in
the master catalog and ship with the next `python -m cloud catalog publish`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from cloud.catalog import store
from voiceshop_common.cli import fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = sub.add_parser("train", help="train implicit ALS, evaluate vs popularity, store factors")
    train.add_argument("--catalog", required=True, metavar="FILE", help="master catalog SQLite file")
    train.add_argument("--users", type=int, default=2000)
    train.add_argument("--max-items", type=int, default=100_000, help="most popular products that get factors")
    train.add_argument("--factors", type=int, default=32)
    train.add_argument("--iterations", type=int, default=15)
    train.add_argument("--regularization", type=float, default=0.05)
    train.add_argument("--alpha", type=float, default=10.0, help="confidence per purchase")
    train.add_argument("--complement-weight", type=float, default=None, metavar="W",
                       help="score per unit of P(family | cart family) (default: cloud.recs.evaluate's)")
    train.add_argument("--popularity-weight", type=float, default=None, metavar="W")
    train.add_argument("-k", type=int, default=10, help="cut-off for precision@k / recall@k")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-publish", action="store_true", help="evaluate only; leave the master's factors alone")


def run(args: argparse.Namespace) -> int:
    from cloud.recs import complements, evaluate
    from cloud.recs.synth import make_history
    from cloud.recs.train import fit, interaction_matrix, publish_factors

    if args.users < 2 or args.factors < 1 or args.k < 1:
        fail("--users >= 2, --factors >= 1, -k >= 1")
    try:
        conn = store.open_master(args.catalog)
    except FileNotFoundError as exc:
        fail(str(exc))
    started = time.perf_counter()
    history = make_history(conn, users=args.users, max_items=args.max_items, seed=args.seed)
    matrix = interaction_matrix(history)
    made = time.perf_counter()
    users, items = fit(matrix, factors=args.factors, iterations=args.iterations,
                       regularization=args.regularization, alpha=args.alpha, seed=args.seed)
    pairs = complements.learn(history)
    trained = time.perf_counter()
    weights = {"complement_weight": evaluate.COMPLEMENT_WEIGHT if args.complement_weight is None
               else args.complement_weight,
               "popularity_weight": evaluate.POPULARITY_WEIGHT if args.popularity_weight is None
               else args.popularity_weight}
    report = evaluate.evaluate(history, matrix, users, items, pairs, args.k, args.seed, **weights)
    result = {"users": len(history.users), "items": len(history.item_ids), "purchases": int(matrix.sum()),
              "factors": args.factors, "families": len(history.family_keys),
              "complement_pairs": int((pairs > 0).sum()), **weights, "history_seconds": round(made - started, 2),
              "train_seconds": round(trained - made, 2),
              "evaluate_seconds": round(time.perf_counter() - trained, 2), **report}
    if not args.no_publish:
        result["recs_version"] = publish_factors(conn, history, users, items, complements.rows(history, pairs),
                                                 **weights)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0
