"""Learn which product families go together from co-purchase baskets ("bananas" -> "cereal").

ALS factors capture a person's taste; they are weak at "what goes with what is in the cart", and
an item-item cosine over them happily returns another brand of the same thing. Complements are
learned one level up, between product families, from how often two families share a basket:
for a family f and another g, ``P(g | f)`` (shrunk towards zero for rarely bought f) is kept
when g is bought with f clearly more often than on its own (lift) and the pair was seen enough
times. A few hundred families make this a small table that travels to the device with the
factors; the device adds ``weight * P(g | cart family)`` to the scores of g's products.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cloud.recs.synth import History

MIN_PAIRS = 5
"""Baskets a pair must share before it is trusted."""
MIN_LIFT = 1.5
"""How much more often g is bought with f than in a random basket."""
PER_FAMILY = 12
"""Complements kept per family (the device needs only the best few)."""
SHRINK = 10.0
"""Pseudo-baskets added to P(g | f)'s denominator, so a family bought twice cannot claim 0.5."""


def basket_families(history: History) -> sp.csr_matrix:
    """Training baskets x families, 1 where the basket holds any SKU of the family."""
    rows, cols = [], []
    n = 0
    for baskets in history.train:
        for basket in baskets:
            fams = np.unique(history.family[basket])
            rows.append(np.full(len(fams), n))
            cols.append(fams)
            n += 1
    r = np.concatenate(rows) if rows else np.zeros(0, int)
    c = np.concatenate(cols) if cols else np.zeros(0, int)
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n, len(history.family_keys)))


def learn(history: History, *, min_pairs: int = MIN_PAIRS, min_lift: float = MIN_LIFT,
          per_family: int = PER_FAMILY) -> np.ndarray:
    """Dense families x families matrix of complement scores (0 where g is no complement of f)."""
    baskets = basket_families(history)
    n_baskets = max(baskets.shape[0], 1)
    together = (baskets.T @ baskets).toarray()
    bought = np.diag(together).copy()
    np.fill_diagonal(together, 0)
    conditional = together / (bought[:, None] + SHRINK)
    lift = (together / np.maximum(bought[:, None], 1)) / np.maximum(bought[None, :] / n_baskets, 1e-9)
    scores = np.where((together >= min_pairs) & (lift >= min_lift), conditional, 0.0).astype(np.float32)
    if per_family < scores.shape[1]:
        cut = -np.partition(-scores, per_family - 1, axis=1)[:, per_family - 1:per_family]
        scores[scores < cut] = 0.0
    return scores


def rows(history: History, scores: np.ndarray) -> list[tuple[str, str, float]]:
    """(family, complement family, score) rows, best first per family: how the master stores them."""
    out = []
    for f, g in zip(*np.nonzero(scores), strict=True):
        out.append((history.family_keys[f], history.family_keys[g], round(float(scores[f, g]), 4)))
    return sorted(out, key=lambda r: (r[0], -r[2], r[1]))
