"""The blend's pick, shared by the device's recommender and the cloud's offline evaluation.

`edge.catalog.recommend` ranks live catalog rows with it; `cloud.recs.evaluate` scores held-out baskets with
the very same code, so the figures `cloud recs train` reports are those of the device's lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

COMPLEMENT_WEIGHT = 4.0
"""Score added per unit of P(family | cart family); ALS scores are ~0-1. Swept 0.5-16 on seed 5
(precision@10 rises to 4 and is flat to 8); the reported figures use other seeds."""
POPULARITY_WEIGHT = 0.3
"""Score added per unit of catalog popularity (0-1): breaks ties towards what sells."""
FAMILIES_PER_ITEM = 4
"""Families considered per item asked for; the diverse pick needs a few spare (as on the device)."""
PER_FAMILY = 3
"""Candidates kept per family, so a brand cap can still take the family's next brand."""


def caps(k: int) -> tuple[int, int]:
    """(items per brand, items per category) in a list of k: 3 suggestions are 3 brands, 2+ aisles."""
    return max(1, k // 5), max(2, (k + 1) // 2)


def diverse(order: Sequence[int], family: np.ndarray, brand: np.ndarray, category: np.ndarray, k: int) -> list[int]:
    """Pick k of ``order`` (best first): one per family, brand and category caps while the pool allows."""
    brand_cap, category_cap = caps(k)
    chosen: list[int] = []
    skipped: list[int] = []
    families: set[int] = set()
    brands: Counter[int] = Counter()
    categories: Counter[int] = Counter()
    for i in order:
        if family[i] in families:
            continue
        if brands[brand[i]] >= brand_cap or categories[category[i]] >= category_cap:
            skipped.append(i)
            continue
        chosen.append(i)
        families.add(family[i])
        brands[brand[i]] += 1
        categories[category[i]] += 1
        if len(chosen) == k:
            return chosen
    for i in skipped:  # the caps are a preference: a short list is worse than a repeated brand
        if len(chosen) == k:
            break
        if family[i] not in families:
            chosen.append(i)
            families.add(family[i])
    rank = {i: n for n, i in enumerate(order)}
    return sorted(chosen, key=rank.__getitem__)


def candidates(scores: np.ndarray, starts: np.ndarray, ends: np.ndarray, k: int) -> list[int]:
    """Rows worth a diverse pick, best first: the best ``PER_FAMILY`` of each of the best
    ``FAMILIES_PER_ITEM * k`` families. ``scores`` are grouped by family (family f is
    ``scores[starts[f]:ends[f]]``, no family empty), so no family's thousand SKUs can crowd out
    the others and a family's best is one reduceat away."""
    if k <= 0 or not len(starts):
        return []
    best = np.maximum.reduceat(scores, starts)
    n_families = min(FAMILIES_PER_ITEM * k, int(np.isfinite(best).sum()))
    if n_families <= 0:
        return []
    top = np.argpartition(-best, n_families - 1)[:n_families]
    rows: list[int] = []
    for f in top.tolist():
        segment = scores[starts[f]:ends[f]]
        m = min(PER_FAMILY, len(segment))
        pick = np.argpartition(-segment, m - 1)[:m] if m < len(segment) else np.arange(len(segment))
        rows += [starts[f] + int(i) for i in pick if np.isfinite(segment[i])]
    order = np.array(rows)
    return order[np.lexsort((order, -scores[order]))].tolist()
