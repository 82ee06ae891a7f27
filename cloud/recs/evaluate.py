"""Score recommenders on held-out baskets the way the device uses them: with a cart.

Each user's last basket is split at random: about half of it is the cart, the rest is what a
good "you may also like" should find. Hits count only items the user never bought before (the
device hides recent purchases, so re-buys are not what it can show). Three recommenders are
scored on the same carts:

- ``popular``: most bought items, minus the cart and what the user bought;
- ``als``: today's device model, the user's ALS factors alone, minus the same;
- ``blend``: the new device model: ALS taste + learned family complements of the cart + a small
  popularity prior; never the cart's families, one item per family, brands and categories mixed.

Besides precision@k and recall@k it reports the share of recommendations that are a cart item's
family (a duplicate of what is being bought; the goal is 0), the share that repeat a family
already in the same list, and catalog coverage (distinct items recommended / items). ``blend``
mirrors edge.catalog.recommend (which cannot be imported here); a test checks they agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from cloud.recs.synth import History
from voiceshop_common.recs import COMPLEMENT_WEIGHT, POPULARITY_WEIGHT, candidates, diverse


def family_segments(history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(columns grouped by family, start, end of each family's run): how the device lays out items."""
    order = np.argsort(history.family, kind="stable")
    grouped = history.family[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if len(order) else order
    ends = np.r_[starts[1:], len(order)] if len(order) else starts
    return order, starts, ends


def blend_list(als: np.ndarray, cart: list[int], seen: np.ndarray, history: History, complements: np.ndarray,
               k: int, complement_weight: float = COMPLEMENT_WEIGHT, popularity_weight: float = POPULARITY_WEIGHT,
               segments: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> list[int]:
    """One user's blended top-k (column indices) given their ALS scores over every column."""
    cart_families = np.unique(history.family[cart]) if cart else np.zeros(0, np.int32)
    scores = als + popularity_weight * history.popularity
    if len(cart_families):
        scores = scores + complement_weight * complements[cart_families].max(axis=0)[history.family]
        scores[np.isin(history.family, cart_families)] = -np.inf
    scores[seen] = -np.inf
    scores[cart] = -np.inf
    order, starts, ends = segments if segments is not None else family_segments(history)
    ranked = order[candidates(scores[order], starts, ends, k)].tolist()
    return diverse(ranked, history.family, history.brand, history.category, k)


def split_carts(history: History, seed: int = 0) -> list[tuple[list[int], list[int]]]:
    """(cart, rest) of each user's held-out basket; baskets of one item have no rest to find."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for basket in history.test:
        items = list(basket)
        if len(items) < 2:
            out.append((items, []))
            continue
        order = rng.permutation(len(items))
        n_cart = max(1, len(items) // 2)
        out.append(([items[i] for i in order[:n_cart]], [items[i] for i in order[n_cart:]]))
    return out


def _top_plain(scores: np.ndarray, k: int) -> list[int]:
    finite = int(np.isfinite(scores).sum())
    kk = min(k, finite)
    if kk <= 0:
        return []
    best = np.argpartition(-scores, kk - 1)[:kk]
    return best[np.argsort(-scores[best])].tolist()


def evaluate(history: History, matrix: sp.csr_matrix, users: np.ndarray, items: np.ndarray,
             complements: np.ndarray, k: int = 10, seed: int = 0, **weights: float) -> dict[str, Any]:
    """popular / als / blend on the same carts: precision, recall, duplicate shares, coverage."""
    popularity = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float32)
    carts = split_carts(history, seed)
    segments = family_segments(history)
    lists: dict[str, list[list[int]]] = {"popular": [], "als": [], "blend": []}
    evaluated: list[tuple[list[int], set[int]]] = []
    for u, (cart, rest) in enumerate(carts):
        seen = matrix.indices[matrix.indptr[u]:matrix.indptr[u + 1]]
        new = set(rest) - set(seen.tolist()) - set(cart)
        if not new:
            continue
        evaluated.append((cart, new))
        als = users[u] @ items.T
        for label, base in (("popular", popularity.copy()), ("als", als.copy())):
            base[seen] = -np.inf
            base[cart] = -np.inf
            lists[label].append(_top_plain(base, k))
        lists["blend"].append(blend_list(als, cart, seen, history, complements, k, **weights, segments=segments))
    out: dict[str, Any] = {"users_evaluated": len(evaluated), "protocol":
                           "last basket split in half: cart -> find the rest, new items only"}
    for label, recs in lists.items():
        out[label] = _score(recs, evaluated, history, k)
    for label in ("popular", "als"):
        out[f"lift_precision_vs_{label}"] = round(
            out["blend"][f"precision@{k}"] / max(out[label][f"precision@{k}"], 1e-9), 2)
    return out


def _score(recs: list[list[int]], evaluated: list[tuple[list[int], set[int]]], history: History,
           k: int) -> dict[str, float]:
    precision = recall = 0.0
    shown = cart_family = list_repeat = 0
    distinct: set[int] = set()
    for top, (cart, new) in zip(recs, evaluated, strict=True):
        hits = len(new.intersection(top))
        precision += hits / k
        recall += hits / len(new)
        cart_families = set(history.family[cart].tolist())
        families = history.family[top].tolist() if top else []
        shown += len(top)
        cart_family += sum(f in cart_families for f in families)
        list_repeat += len(families) - len(set(families))
        distinct.update(top)
    n = max(len(evaluated), 1)
    return {f"precision@{k}": round(precision / n, 4), f"recall@{k}": round(recall / n, 4),
            "cart_family_share": round(cart_family / max(shown, 1), 4),
            "list_family_repeat_share": round(list_repeat / max(shown, 1), 4),
            "coverage": round(len(distinct) / max(len(history.item_ids), 1), 4)}
