"""Train implicit-feedback ALS on purchase histories and publish factors and complements to the master.

The model is the `implicit` package's AlternatingLeastSquares (Hu, Koren & Volinsky's
confidence-weighted ALS), CPU, one BLAS thread; family complements come from
``cloud.recs.complements`` and evaluation from ``cloud.recs.evaluate``. Factors go to the master
as float16 (what devices store), with each user's last two training baskets as their "recently
bought" list; complements and the blend weights the device should use go beside them, all under
one ``recs_version`` (they are only valid together).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from cloud.catalog import store
from cloud.recs.evaluate import COMPLEMENT_WEIGHT, POPULARITY_WEIGHT
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


def publish_factors(conn: sqlite3.Connection, history: History, users: np.ndarray, items: np.ndarray,
                    complements: Sequence[tuple[str, str, float]] = (), *,
                    complement_weight: float = COMPLEMENT_WEIGHT, popularity_weight: float = POPULARITY_WEIGHT) -> int:
    """Store float16 factors, complements and recent purchases in the master; bump recs_version."""
    now = dt.datetime.now(dt.UTC)
    conn.execute("BEGIN")
    for table in ("item_factors", "user_factors", "user_recent", "complements"):
        conn.execute(f"DELETE FROM {table}")
    conn.executemany("INSERT INTO complements (family, other, score) VALUES (?, ?, ?)", list(complements))
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
    store.set_meta(conn, recs_version=version, recs_trained_at=now.isoformat(timespec="seconds"),
                   recs_complement_weight=complement_weight, recs_popularity_weight=popularity_weight)
    conn.execute("COMMIT")
    return version
