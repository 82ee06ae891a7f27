"""Generate a realistic demo catalog from the vocabulary, vectorized so 1,000,000 SKUs take seconds.

Every product is a spec from ``vocab`` (what it is, its unit, sizes, price range, tags) crossed
with a brand, a pack size and sometimes a variant ("organic", "unscented"). With N at least the
number of specs, the first rows are one canonical SKU per spec (first brand, first size, the
middle of the price range: "Green Valley Fuji apples, 3 lb bag, $4.99"), so a small catalog
still covers the whole vocabulary and tests can rely on those rows. Beyond that, specs are drawn
with a Zipf-like weight (some things sell far more than others), brands from the category's
list plus invented ones for large catalogs, prices scale with pack size and brand, and about 5 %
of SKUs are out of stock. All randomness comes from one seeded numpy Generator.

`language="zh"` makes the Chinese shop from the same recipe (cloud.catalog.lexicon): Chinese names,
brands and measure words, prices in fen with currency CNY ("绿源果园 富士苹果 3斤 39元").
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from cloud.catalog import store
from cloud.catalog.lexicon import (  # noqa: F401  (the English tables, re-exported for their users)
    BRAND_WORDS_A,
    BRAND_WORDS_B,
    CURRENCY,
    FAQ,
    IN_STOCK_RATE,
    VARIANT_TAGS,
    VARIANTS,
    Lexicon,
    for_language,
)
from voiceshop_common.vocab_products import ProductSpec

_QTY = re.compile(r"^(half|\d+(?:\.\d+)?)\s*(.*)$")


def _size_factor(first: str, other: str) -> float:
    """Price multiplier of a pack size relative to the spec's first size (bulk is cheaper per unit)."""
    a, b = _QTY.match(first.strip()), _QTY.match(other.strip())
    if not a or not b or a.group(2) != b.group(2):
        return 1.0 if first == other else 1.6
    qa = 0.5 if a.group(1) == "half" else float(a.group(1))
    qb = 0.5 if b.group(1) == "half" else float(b.group(1))
    return float((qb / qa) ** 0.8) if qa > 0 else 1.0


def brand_pools(n_products: int, rng: np.random.Generator, lexicon: Lexicon | None = None) -> dict[str, list[str]]:
    """Category -> brands; large catalogs add invented brands so SKUs stay plausible and varied."""
    lexicon = lexicon or for_language("en")
    pools = {category: list(brands) for category, brands in lexicon.brands.items()}
    first, second = lexicon.brand_words
    extra_per_category = min(len(first) * len(second) // len(pools), n_products // 4000)
    if extra_per_category:
        invented = [f"{a}{lexicon.separator}{b}" for a in first for b in second]
        invented = [invented[i] for i in rng.permutation(len(invented))]
        known = set(lexicon.brand_names())
        invented = [b for b in invented if b not in known]
        for n, category in enumerate(pools):
            pools[category] += invented[n * extra_per_category:(n + 1) * extra_per_category]
    return pools


def spec_variants(specs: list[tuple[str, ProductSpec]],
                  lexicon: Lexicon | None = None) -> list[list[tuple[str, float]]]:
    """The variants each spec can carry: tagged for them, and never a word the name already has
    (the spec "organic bananas" gets no "organic" prefix: "organic organic bananas" is no product)."""
    lexicon = lexicon or for_language("en")
    return [[v for v in lexicon.variants[category]
             if not v[0] or (lexicon.variant_tags.intersection(spec.tags) and not lexicon.has_word(spec.name, v[0]))]
            for category, spec in specs]


def family_rows(language: str = "en") -> list[tuple[str, str]]:
    """(product name, family key) for every name the generator can write, variants included."""
    lexicon = for_language(language)
    specs = lexicon.all_specs()
    rows = {}
    for (_category, spec), variants in zip(specs, spec_variants(specs, lexicon), strict=True):
        for prefix, _factor in variants:
            rows[lexicon.name(prefix, spec.name)] = lexicon.family(spec.name)
    return sorted(rows.items())


def generate_rows(n_products: int, seed: int = 0, language: str = "en") -> list[tuple]:
    """Wire-ordered product rows (see edge.catalog.wire.PRODUCT_COLUMNS), ids 1..N."""
    lexicon = for_language(language)
    rng = np.random.default_rng(seed)
    specs = lexicon.all_specs()
    n_specs = len(specs)
    pools = brand_pools(n_products, rng, lexicon)
    categories = list(lexicon.categories)
    cat_of_spec = np.array([categories.index(c) for c, _ in specs])
    variants = spec_variants(specs, lexicon)
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
    price = lexicon.shelf_price(np.where(random_part, base * size_factor * variant_factor * brand_factor, base))
    in_stock = np.where(random_part, rng.random(n_products) < IN_STOCK_RATE, True).astype(np.int64)
    popularity = spec_weight[spec_idx] * n_specs * np.exp(rng.normal(0, 0.5, n_products))
    popularity = np.round(popularity / popularity.max(), 6)

    prefixes = lexicon.sku_prefix
    rows = []
    for i in range(n_products):
        s_i = int(spec_idx[i])
        category, spec = specs[s_i]
        prefix = variants[s_i][int(variant_idx[i])][0]
        name = lexicon.name(prefix, spec.name)
        brand = pools[category][int(brand_idx[i])]
        size = spec.sizes[int(size_idx[i])]
        tags = " ".join(sorted({*(t.replace(" ", "-") for t in spec.tags), *prefix.replace(" ", "-").split()}))
        rows.append((i + 1, f"{prefixes[category]}-{i + 1:07d}", name, brand, category, spec.unit, size,
                     int(price[i]), lexicon.currency, int(in_stock[i]), tags,
                     lexicon.describe(brand, name, size, spec.unit), float(popularity[i]), None))
    return rows


def generate(out: str | Path, n_products: int = 2000, seed: int = 0, language: str = "en") -> dict[str, Any]:
    """Write a fresh master catalog to ``out`` (language "en" or "zh"); returns counts and timings."""
    if n_products < 1:
        raise ValueError("--products must be at least 1")
    lexicon = for_language(language)
    started = time.perf_counter()
    rows = generate_rows(n_products, seed, language)
    built = time.perf_counter()
    conn = store.create(out)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    store.insert_products(conn, rows)
    conn.executemany("INSERT INTO aliases (alias, name) VALUES (?, ?)", sorted(lexicon.aliases.items()))
    conn.executemany("INSERT INTO families (name, family) VALUES (?, ?)", family_rows(language))
    conn.executemany("INSERT INTO faq (id, question, answer, tags) VALUES (?, ?, ?, ?)",
                     [(n + 1, *entry) for n, entry in enumerate(lexicon.faq)])
    conn.execute("COMMIT")
    conn.close()
    return {"products": n_products, "seed": seed, "language": language, "currency": lexicon.currency,
            "build_seconds": round(built - started, 2),
            "write_seconds": round(time.perf_counter() - built, 2)}
