"""Synthetic purchase histories with structure, so recommendation figures mean something.

Each user has a taste over categories (Dirichlet, so most people lean on a few), a set of
favourite SKUs they re-buy (chosen by popularity within their categories), a taste over shopping
missions (breakfast, baking, cleaning ... from ``vocab.MISSIONS``), and the store has co-purchase
rules between products ("spaghetti" -> "marinara sauce", "diapers" -> "baby wipes"). A basket is
usually a mission (a few of its products, each user sticking to one SKU per product, their brand
of cereal) plus favourites and some exploration in favoured categories, and each item pulls in its
complement with probability ``complement_rate``. The last basket of each user is held out. A model
that learns tastes and what goes together should beat "most popular"; one that learns nothing
should not.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from cloud.catalog import store
from voiceshop_common.vocab import MISSIONS

MISSION_RATE = 0.75
"""Share of baskets bought for a mission; the rest are favourites and browsing only."""

COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "spaghetti": ("marinara sauce", "grated parmesan"), "penne pasta": ("marinara sauce",),
    "hot dog buns": ("beef hot dogs",), "hamburger buns": ("ground beef", "ketchup"),
    "beef hot dogs": ("hot dog buns", "yellow mustard"), "ground beef": ("hamburger buns",),
    "tortilla chips": ("shredded mozzarella",), "plain bagels": ("cream cheese",),
    "everything bagels": ("cream cheese",), "creamy peanut butter": ("strawberry jam", "white sandwich bread"),
    "honey nut cereal": ("whole milk",), "corn flakes": ("whole milk", "bananas"), "pancake mix": ("maple syrup",),
    "ground coffee": ("half and half",), "whole bean coffee": ("half and half",), "coffee pods": ("half and half",),
    "diapers size 1": ("baby wipes",), "diapers size 3": ("baby wipes",), "diapers size 5": ("baby wipes",),
    "infant formula": ("baby bottles",), "dry dog food": ("dog treats", "poop bags"),
    "dry cat food": ("clumping cat litter", "wet cat food"), "laundry detergent": ("dryer sheets", "fabric softener"),
    "laundry pods": ("dryer sheets",), "toothpaste": ("toothbrushes",), "paper plates": ("plastic cups", "paper napkins"),
    "cappuccino": ("butter croissant to go",), "caffe latte": ("blueberry scone",), "drip coffee": ("breakfast sandwich",),
    "wiper blades": ("windshield washer fluid",), "motor oil": ("microfiber towels",),
    "car wash soap": ("microfiber towels", "tire shine"), "chicken wings": ("ranch dressing", "hot sauce"),
    "romaine lettuce": ("ranch dressing", "cucumbers"), "sourdough bread": ("salted butter",),
    "Atlantic salmon fillets": ("lemons",), "raw shrimp": ("lemons",), "microwave popcorn": ("cola",),
    "potato chips": ("cola",), "jumper cables": ("LED flashlight",), "scrub sponges": ("dish soap",),
}


@dataclass
class History:
    """Baskets per user over catalog product ids; ``test`` is each user's held-out last basket."""

    users: list[str]
    item_ids: np.ndarray
    """Catalog product ids; column j of the matrices is item_ids[j]."""
    train: list[list[list[int]]]
    """train[u] = baskets (lists of column indices), oldest first."""
    test: list[list[int]]
    family: np.ndarray
    """Family code of each column; ``family_keys[code]`` is its key ("apples")."""
    family_keys: list[str]
    brand: np.ndarray
    """Brand code of each column (only compared for equality)."""
    category: np.ndarray
    """Category code of each column."""
    popularity: np.ndarray
    """The catalog's popularity of each column (0-1), the prior the device also has."""


def make_history(conn: sqlite3.Connection, *, users: int = 2000, baskets: tuple[int, int] = (6, 16),
                 max_items: int = 100_000, complement_rate: float = 0.6, mission_rate: float = MISSION_RATE,
                 seed: int = 0) -> History:
    """Draw purchase histories over the master catalog's most popular ``max_items`` products."""
    rng = np.random.default_rng(seed)
    rows = conn.execute("SELECT id, name, category, popularity, brand FROM products ORDER BY popularity DESC, id "
                        "LIMIT ?", (max_items,)).fetchall()
    if not rows:
        raise ValueError("the master catalog has no products")
    item_ids = np.array([r[0] for r in rows], dtype=np.int64)
    names = [r[1] for r in rows]
    categories = sorted({r[2] for r in rows})
    cat_index = np.array([categories.index(r[2]) for r in rows])
    popularity = np.array([r[3] for r in rows], dtype=float) + 1e-6
    by_cat = [np.flatnonzero(cat_index == c) for c in range(len(categories))]
    by_name: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        by_name.setdefault(name.lower(), []).append(j)  # type: ignore[arg-type]
    by_name_arr = {k: np.array(v) for k, v in by_name.items()}
    # Missions over the products this catalog has (a variant SKU counts: "organic whole milk").
    spec_pools = _spec_pools(names)
    missions = [[s.lower() for s in specs if s.lower() in spec_pools] for specs in MISSIONS.values()]
    missions = [m for m in missions if len(m) >= 2]

    cdfs: dict[int, np.ndarray] = {}

    def pick(pool: np.ndarray, count: int) -> np.ndarray:
        """``count`` draws from ``pool`` weighted by popularity (inverse CDF, cached per pool)."""
        cdf = cdfs.get(id(pool))
        if cdf is None:
            cdf = cdfs[id(pool)] = np.cumsum(popularity[pool]) / popularity[pool].sum()
        return pool[np.minimum(np.searchsorted(cdf, rng.random(count)), len(pool) - 1)]

    user_names = [f"user-{u + 1:05d}" for u in range(users)]
    train, test = [], []
    for _ in range(users):
        taste = rng.dirichlet(np.full(len(categories), 0.3))
        favourite_cats = rng.choice(len(categories), size=12, p=taste)
        favourites = np.unique(np.concatenate([pick(by_cat[c], 1) for c in favourite_cats]))
        mission_taste = rng.dirichlet(np.full(len(missions), 0.4)) if missions else None
        # A user sticks to one SKU of each complement (their brand of marinara sauce).
        partner: dict[str, int] = {}
        history = []
        for _b in range(int(rng.integers(baskets[0], baskets[1] + 1))):
            mission: list[int] = []
            if mission_taste is not None and rng.random() < mission_rate:
                wanted = missions[int(rng.choice(len(missions), p=mission_taste))]
                for n in rng.choice(len(wanted), size=min(len(wanted), int(rng.integers(2, 5))), replace=False):
                    spec = wanted[n]
                    if spec not in partner or rng.random() < 0.2:  # mostly their usual SKU
                        partner[spec] = int(pick(spec_pools[spec], 1)[0])
                    mission.append(partner[spec])
            size = int(rng.integers(1, 4)) if mission else int(rng.integers(3, 8))
            explore_cats = rng.choice(len(categories), size=size, p=taste)
            loyal = rng.random(size) < 0.7
            fav_draw = favourites[rng.integers(0, len(favourites), size)]
            basket = mission + [int(fav_draw[n]) if loyal[n] else int(pick(by_cat[c], 1)[0])
                                for n, c in enumerate(explore_cats)]
            for j in list(basket):
                for other in COMPLEMENTS.get(names[j], ()):
                    pool = by_name_arr.get(other.lower())
                    if pool is not None and rng.random() < complement_rate:
                        if other not in partner:
                            partner[other] = int(pick(pool, 1)[0])
                        basket.append(partner[other])
            history.append(sorted(set(basket)))
        train.append(history[:-1])
        test.append(history[-1])
    families = store.family_map(conn)
    family_keys, family = np.unique([store.family_of(families, n) for n in names], return_inverse=True)
    brand = np.unique([r[4] or "" for r in rows], return_inverse=True)[1]
    return History(user_names, item_ids, train, test, family.astype(np.int32), [str(k) for k in family_keys],
                   brand.astype(np.int32), cat_index.astype(np.int32), np.array([r[3] for r in rows], np.float32))


def _spec_pools(names: list[str]) -> dict[str, np.ndarray]:
    """Lower-cased spec name -> columns of every SKU of it, variants included ("organic whole milk")."""
    from voiceshop_common import vocab

    specs = {spec.name.lower() for _category, spec in vocab.all_specs()}
    pools: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        words = name.lower().split()
        for start in range(len(words)):  # the longest spec name the product name ends with
            tail = " ".join(words[start:])
            if tail in specs:
                pools.setdefault(tail, []).append(j)
                break
    return {k: np.array(v) for k, v in pools.items()}
