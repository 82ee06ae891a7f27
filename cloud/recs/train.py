"""Train implicit-feedback ALS on purchase histories, evaluate it, publish factors to the master.

The model is the `implicit` package's AlternatingLeastSquares (Hu, Koren & Volinsky's
confidence-weighted ALS), CPU, one BLAS thread. Evaluation is on each user's held-out last
basket, counting only items the user had not bought before — exactly what the device can show,
since it hides recent purchases: precision@k and recall@k against a most-popular baseline
scored the same way. Factors go to the master as float16 (what devices store), with each
user's last two training baskets as their "recently bought" list.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from cloud.catalog import store
from cloud.recs.synth import History


def interaction_matrix(history: History) -> sp.csr_matrix:
    """users x items purchase counts from the training baskets."""
    rows, cols = [], []
    for u, baskets in enumerate(history.train):
        for basket in baskets:
            rows += [u] * len(basket)
            cols += basket
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(history.users), len(history.item_ids)), dtype=np.float32)


def fit(matrix: sp.csr_matrix, *, factors: int = 32, iterations: int = 15, regularization: float = 0.05,
        alpha: float = 10.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(user_factors, item_factors) as float32 arrays."""
    from implicit.als import AlternatingLeastSquares

    with threadpool_limits(1, "blas"):  # implicit parallelizes itself; a BLAS pool inside it only thrashes
        model = AlternatingLeastSquares(factors=factors, iterations=iterations, regularization=regularization,
                                        alpha=alpha, random_state=seed, use_gpu=False)
        model.fit(matrix, show_progress=False)
    return np.asarray(model.user_factors, dtype=np.float32), np.asarray(model.item_factors, dtype=np.float32)


def _metrics(scores: np.ndarray, matrix: sp.csr_matrix, test: list[list[int]], k: int) -> dict[str, float]:
    """precision@k and recall@k over new items of the held-out basket; scores is users x items."""
    seen = matrix.tocoo()
    scores = scores.copy()
    scores[seen.row, seen.col] = -np.inf  # the device never re-recommends what was bought
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    precision, recall, evaluated = 0.0, 0.0, 0
    for u, basket in enumerate(test):
        new = set(basket) - set(matrix.indices[matrix.indptr[u]:matrix.indptr[u + 1]])
        if not new:
            continue
        hits = len(new.intersection(top[u].tolist()))
        precision += hits / k
        recall += hits / len(new)
        evaluated += 1
    return {f"precision@{k}": precision / max(evaluated, 1), f"recall@{k}": recall / max(evaluated, 1),
            "users_evaluated": evaluated}


def evaluate(history: History, matrix: sp.csr_matrix, users: np.ndarray, items: np.ndarray,
             k: int = 10) -> dict[str, Any]:
    """ALS vs most-popular on held-out new items, scored in chunks of users."""
    popularity = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float32)
    out: dict[str, Any] = {}
    for label, scorer in (("als", lambda rows: users[rows] @ items.T),
                          ("popular", lambda rows: np.tile(popularity, (len(rows), 1)))):
        totals = {f"precision@{k}": 0.0, f"recall@{k}": 0.0, "users_evaluated": 0}
        for start in range(0, matrix.shape[0], 512):
            rows = np.arange(start, min(start + 512, matrix.shape[0]))
            part = _metrics(scorer(rows), matrix[rows], [history.test[r] for r in rows], k)
            n = part["users_evaluated"]
            for key in (f"precision@{k}", f"recall@{k}"):
                totals[key] += part[key] * n
            totals["users_evaluated"] += n
        n = max(totals["users_evaluated"], 1)
        out[label] = {key: (round(value / n, 4) if key != "users_evaluated" else value) for key, value in totals.items()}
    out["lift_precision"] = round(out["als"][f"precision@{k}"] / max(out["popular"][f"precision@{k}"], 1e-9), 2)
    return out


def publish_factors(conn: sqlite3.Connection, history: History, users: np.ndarray, items: np.ndarray) -> int:
    """Store float16 factors and recent purchases in the master; bump recs_version."""
    now = dt.datetime.now(dt.UTC)
    conn.execute("BEGIN")
    for table in ("item_factors", "user_factors", "user_recent"):
        conn.execute(f"DELETE FROM {table}")
    conn.executemany("INSERT INTO item_factors (product_id, vec) VALUES (?, ?)",
                     [(int(pid), items[j].astype("<f2").tobytes()) for j, pid in enumerate(history.item_ids)])
    conn.executemany("INSERT INTO user_factors (user_id, vec) VALUES (?, ?)",
                     [(name, users[u].astype("<f2").tobytes()) for u, name in enumerate(history.users)])
    recent = []
    for u, name in enumerate(history.users):
        for age, basket in enumerate(reversed(history.train[u][-2:])):
            when = (now - dt.timedelta(days=3 * (age + 1))).isoformat(timespec="seconds")
            recent += [(name, int(history.item_ids[j]), when) for j in basket]
    conn.executemany("INSERT OR REPLACE INTO user_recent (user_id, product_id, bought_at) VALUES (?, ?, ?)", recent)
    version = int(store.get_meta(conn, "recs_version", "0")) + 1
    store.set_meta(conn, recs_version=version, recs_trained_at=now.isoformat(timespec="seconds"))
    conn.execute("COMMIT")
    return version
