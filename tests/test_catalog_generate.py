"""The demo catalog generator: realistic, complete, deterministic per seed."""

from __future__ import annotations

import sqlite3
from collections import Counter

from cloud.catalog import generate
from voiceshop_common import vocab


def test_rows_are_realistic_and_cover_the_vocabulary():
    rows = generate.generate_rows(20_000, seed=3)
    specs = dict((spec.name, (category, spec)) for category, spec in vocab.all_specs())
    assert len({r[1] for r in rows}) == len(rows)  # unique SKUs
    assert rows[0][2] == "Fuji apples" and rows[0][6] == "3 lb" and rows[0][5] == "bag" and rows[0][7] == 499
    names = Counter(r[2] for r in rows)
    assert set(specs) <= set(names)  # every spec has at least its canonical SKU
    for _pid, _sku, name, brand, category, unit, size, price, currency, stock, _tags, desc, pop, emb in rows[::97]:
        base = next(n for n in specs if name == n or name.endswith(" " + n))
        spec_category, spec = specs[base]
        assert category == spec_category and unit == spec.unit and size in spec.sizes
        first, _, second = brand.partition(" ")
        assert brand in vocab.BRANDS[category] or (first in generate.BRAND_WORDS_A and second in generate.BRAND_WORDS_B)
        assert price % 10 == 9 and 0 < price < 100_000 and currency == "USD"
        assert stock in (0, 1) and 0 <= pop <= 1 and emb is None and brand in desc
    in_stock = sum(r[9] for r in rows) / len(rows)
    assert 0.9 < in_stock < 0.99
    # Popularity is skewed: a few specs sell far more than the median one.
    counts = sorted(names.values(), reverse=True)
    assert counts[0] > 5 * counts[len(counts) // 2]


def test_same_seed_same_catalog_other_seed_differs():
    assert generate.generate_rows(3000, seed=1) == generate.generate_rows(3000, seed=1)
    assert generate.generate_rows(3000, seed=1) != generate.generate_rows(3000, seed=2)


def test_small_catalog_and_file_output(tmp_path):
    out = tmp_path / "m.db"
    result = generate.generate(out, 50, seed=0)
    assert result["products"] == 50
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 50
    assert conn.execute("SELECT COUNT(*) FROM aliases").fetchone()[0] == len(vocab.aliases())
    assert conn.execute("SELECT COUNT(*) FROM faq").fetchone()[0] == len(generate.FAQ)
    assert conn.execute("SELECT value FROM meta WHERE key='published_version'").fetchone()[0] == "0"
