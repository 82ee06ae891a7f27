"""Generate a realistic demo catalog from the vocabulary, vectorized so 1,000,000 SKUs take seconds.

Every product is a spec from ``vocab`` (what it is, its unit, sizes, price range, tags) crossed
with a brand, a pack size and sometimes a variant ("organic", "unscented"). With N at least the
number of specs, the first rows are one canonical SKU per spec (first brand, first size, the
middle of the price range: "Green Valley Fuji apples, 3 lb bag, $4.99"), so a small catalog
still covers the whole vocabulary and tests can rely on those rows. Beyond that, specs are drawn
with a Zipf-like weight (some things sell far more than others), brands from the category's
list plus invented ones for large catalogs, prices scale with pack size and brand, and about 5 %
of SKUs are out of stock. All randomness comes from one seeded numpy Generator.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np

from cloud.catalog import store
from voiceshop_common import vocab

VARIANTS: dict[str, tuple[tuple[str, float], ...]] = {
    # category -> (prefix, price factor); the empty prefix is the plain product.
    "produce": (("", 1.0), ("organic", 1.35)),
    "dairy": (("", 1.0), ("organic", 1.4), ("lactose free", 1.25)),
    "bakery": (("", 1.0), ("gluten free", 1.5)),
    "meat": (("", 1.0), ("organic", 1.5), ("family pack", 1.8)),
    "pantry": (("", 1.0), ("organic", 1.3)),
    "drinks": (("", 1.0), ("organic", 1.3)),
    "snacks": (("", 1.0), ("family size", 1.6)),
    "cleaning": (("", 1.0), ("unscented", 1.0), ("lavender", 1.05)),
    "pet": (("", 1.0), ("grain free", 1.3)),
    "baby": (("", 1.0), ("organic", 1.3)),
    "coffee to go": (("", 1.0), ("decaf", 1.0)),
    "car accessories": (("", 1.0),),
    "household": (("", 1.0), ("unscented", 1.0)),
}
VARIANT_TAGS = {"organic", "juice", "tea", "coffee", "milk", "cheese", "yogurt", "eggs", "butter", "cream",
                "bread", "chicken", "beef", "pork", "laundry", "dishes", "surfaces", "personal care",
                "dog", "cat", "feeding", "fruit", "vegetable", "chips", "nuts", "espresso", "rice",
                "pasta", "cereal", "bars", "paper", "bathroom"}
"""A variant applies only to specs carrying one of these tags ("decaf" espresso, not "decaf scone")."""

BRAND_WORDS_A = ("Maple", "Silver", "Golden", "River", "Blue", "Red", "Green", "Stone", "Oak", "Pine", "Cedar",
                 "Sunny", "Morning", "Harbor", "Prairie", "Summit", "Willow", "Copper", "North", "Bright",
                 "Misty", "Wild", "Honey", "Clear", "True", "Little", "Grand", "Amber", "Rose", "Valley")
BRAND_WORDS_B = ("Creek", "Farms", "Table", "Market", "Kitchen", "Works", "Fields", "Ridge", "Grove", "Hollow",
                 "Harvest", "Goods", "Co", "Brothers", "Basics", "Pantry", "Mill", "Orchard", "Lane", "Garden",
                 "Point", "Springs", "Home", "Select", "Essentials", "Trail", "Bay", "Meadow", "Peak", "House")
CURRENCY = "USD"
IN_STOCK_RATE = 0.95

FAQ: tuple[tuple[str, str, str], ...] = (
    ("What is your return policy?", "Unopened items can be returned within 30 days with the receipt; fresh "
     "food within 7 days if it was not as expected.", "returns refunds"),
    ("How much is delivery?", "Delivery is free on orders over $35; below that it costs $4.99.",
     "delivery fees shipping"),
    ("When do you deliver?", "We deliver every day from 8 am to 9 pm in two-hour windows.", "delivery hours times"),
    ("What are your store hours?", "Stores are open 7 am to 10 pm, seven days a week.", "hours opening"),
    ("Can I cancel my order?", "Yes, within 15 minutes of confirming it, or any time before it is packed.",
     "cancel orders"),
    ("What happens if an item is out of stock?", "We substitute the closest match at the same or lower price, "
     "unless you asked for no substitutions.", "substitutions stock"),
    ("How do I pay?", "Orders are charged to the card saved in your account when they are packed.",
     "payment card billing"),
    ("Is there a minimum order?", "There is no minimum order; delivery is free over $35.", "minimum order"),
    ("Can I pick up my order?", "Yes, choose curbside pickup and we will bring it to your car.",
     "pickup curbside"),
    ("Do you sell alcohol?", "Not through the voice assistant; please order it in the app with ID checks.",
     "alcohol policy"),
    ("How do I change my delivery address?", "Say 'change my address' in the app or update it online; "
     "the voice assistant uses the address saved in your account.", "address delivery account"),
    ("How do I track my order?", "Ask 'where is my order' and I will tell you its status.", "tracking status"),
)

_QTY = re.compile(r"^(half|\d+(?:\.\d+)?)\s*(.*)$")


def _size_factor(first: str, other: str) -> float:
    """Price multiplier of a pack size relative to the spec's first size (bulk is cheaper per unit)."""
    a, b = _QTY.match(first.strip()), _QTY.match(other.strip())
    if not a or not b or a.group(2) != b.group(2):
        return 1.0 if first == other else 1.6
    qa = 0.5 if a.group(1) == "half" else float(a.group(1))
    qb = 0.5 if b.group(1) == "half" else float(b.group(1))
    return float((qb / qa) ** 0.8) if qa > 0 else 1.0


def brand_pools(n_products: int, rng: np.random.Generator) -> dict[str, list[str]]:
    """Category -> brands; large catalogs add invented brands so SKUs stay plausible and varied."""
    pools = {category: list(brands) for category, brands in vocab.BRANDS.items()}
    extra_per_category = min(len(BRAND_WORDS_A) * len(BRAND_WORDS_B) // len(pools), n_products // 4000)
    if extra_per_category:
        invented = [f"{a} {b}" for a in BRAND_WORDS_A for b in BRAND_WORDS_B]
        invented = [invented[i] for i in rng.permutation(len(invented))]
        known = set(vocab.brand_names())
        invented = [b for b in invented if b not in known]
        for n, category in enumerate(pools):
            pools[category] += invented[n * extra_per_category:(n + 1) * extra_per_category]
    return pools


def spec_variants(specs: list[tuple[str, vocab.ProductSpec]]) -> list[list[tuple[str, float]]]:
    """The variants each spec can carry: tagged for them, and never a word the name already has
    (the spec "organic bananas" gets no "organic" prefix: "organic organic bananas" is no product)."""
    out = []
    for category, spec in specs:
        words = set(spec.name.lower().split())
        out.append([v for v in VARIANTS[category]
                    if not v[0] or (VARIANT_TAGS.intersection(spec.tags) and not words & set(v[0].split()))])
    return out


def family_rows() -> list[tuple[str, str]]:
    """(product name, family key) for every name the generator can write, variants included."""
    specs = vocab.all_specs()
    rows = {}
    for (_category, spec), variants in zip(specs, spec_variants(specs), strict=True):
        for prefix, _factor in variants:
            rows[f"{prefix} {spec.name}" if prefix else spec.name] = vocab.family(spec.name)
    return sorted(rows.items())


def generate_rows(n_products: int, seed: int = 0) -> list[tuple]:
    """Wire-ordered product rows (see edge.catalog.wire.PRODUCT_COLUMNS), ids 1..N."""
    rng = np.random.default_rng(seed)
    specs = vocab.all_specs()
    n_specs = len(specs)
    pools = brand_pools(n_products, rng)
    categories = list(vocab.CATEGORIES)
    cat_of_spec = np.array([categories.index(c) for c, _ in specs])
    variants = spec_variants(specs)
    n_variants = np.array([len(v) for v in variants])
    n_sizes = np.array([len(s.sizes) for _, s in specs])
    n_brands = np.array([len(pools[c]) for c in categories])[cat_of_spec]
    spec_weight = 1.0 / (1.0 + rng.permutation(n_specs)) ** 0.6  # Zipf-ish: a few bestsellers
    spec_weight /= spec_weight.sum()

    canonical = min(n_products, n_specs)
    spec_idx = np.concatenate([rng.permutation(n_specs)[:canonical] if n_products < n_specs else np.arange(n_specs),
                               rng.choice(n_specs, size=n_products - canonical, p=spec_weight)])
    random_part = np.arange(n_products) >= canonical
    # Variants are the exception: 70 % of SKUs are the plain product.
    variant_idx = np.where(random_part & (rng.random(n_products) > 0.7),
                           rng.integers(0, 1 << 30, n_products) % n_variants[spec_idx], 0)
    brand_idx = np.where(random_part, rng.integers(0, 1 << 30, n_products) % n_brands[spec_idx], 0)
    size_idx = np.where(random_part, rng.integers(0, 1 << 30, n_products) % n_sizes[spec_idx], 0)

    lo = np.array([s.price_cents[0] for _, s in specs], dtype=float)[spec_idx]
    hi = np.array([s.price_cents[1] for _, s in specs], dtype=float)[spec_idx]
    size_factor = np.array([[_size_factor(s.sizes[0], s.sizes[min(k, len(s.sizes) - 1)]) for k in range(3)]
                            for _, s in specs])[spec_idx, size_idx]
    variant_factor = np.array([[v[min(k, len(v) - 1)][1] for k in range(3)] for v in variants])[spec_idx, variant_idx]
    brand_factor = np.exp(rng.normal(0.0, 0.12, n_products))
    base = np.where(random_part, lo + rng.random(n_products) * (hi - lo), (lo + hi) / 2)
    dollars_x10 = np.floor(np.where(random_part, base * size_factor * variant_factor * brand_factor, base) / 10)
    price = (np.maximum(dollars_x10, 0) * 10 + 9).astype(np.int64)  # shelf prices end in 9
    in_stock = np.where(random_part, rng.random(n_products) < IN_STOCK_RATE, True).astype(np.int64)
    popularity = spec_weight[spec_idx] * n_specs * np.exp(rng.normal(0, 0.5, n_products))
    popularity = np.round(popularity / popularity.max(), 6)

    prefixes = {c: re.sub(r"[^A-Z]", "", c.upper())[:3] for c in categories}
    rows = []
    for i in range(n_products):
        s_i = int(spec_idx[i])
        category, spec = specs[s_i]
        prefix = variants[s_i][int(variant_idx[i])][0]
        name = f"{prefix} {spec.name}" if prefix else spec.name
        brand = pools[category][int(brand_idx[i])]
        size = spec.sizes[int(size_idx[i])]
        tags = " ".join(sorted({*(t.replace(" ", "-") for t in spec.tags), *prefix.replace(" ", "-").split()}))
        rows.append((i + 1, f"{prefixes[category]}-{i + 1:07d}", name, brand, category, spec.unit, size,
                     int(price[i]), CURRENCY, int(in_stock[i]), tags,
                     f"{brand} {name}, {size}{'' if spec.unit in ('each', 'pound') else ' ' + spec.unit}.",
                     float(popularity[i]), None))
    return rows


def generate(out: str | Path, n_products: int = 2000, seed: int = 0) -> dict[str, float]:
    """Write a fresh master catalog to ``out``; returns counts and timings."""
    if n_products < 1:
        raise ValueError("--products must be at least 1")
    started = time.perf_counter()
    rows = generate_rows(n_products, seed)
    built = time.perf_counter()
    conn = store.create(out)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    store.insert_products(conn, rows)
    conn.executemany("INSERT INTO aliases (alias, name) VALUES (?, ?)", sorted(vocab.aliases().items()))
    conn.executemany("INSERT INTO families (name, family) VALUES (?, ?)", family_rows())
    conn.executemany("INSERT INTO faq (id, question, answer, tags) VALUES (?, ?, ?, ?)",
                     [(n + 1, *entry) for n, entry in enumerate(FAQ)])
    conn.execute("COMMIT")
    conn.close()
    return {"products": n_products, "seed": seed, "build_seconds": round(built - started, 2),
            "write_seconds": round(time.perf_counter() - built, 2)}
