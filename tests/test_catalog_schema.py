"""Schema migrations: a catalog written by an older release opens, upgrades and keeps its data."""

from __future__ import annotations

import sqlite3

import pytest

from edge.catalog.schema import LATEST, MIGRATIONS, connect, migrate, open_catalog, schema_version
from edge.catalog.search import Searcher
from voiceshop_common import vocab


def test_new_catalog_is_latest_and_wal(tmp_path):
    conn = open_catalog(tmp_path / "c.db")
    assert schema_version(conn) == LATEST == MIGRATIONS[-1][0]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"products", "aliases", "faq", "catalog_meta", "products_fts", "embeddings", "item_factors",
            "user_factors", "user_recent", "schema_version", "families", "complements"} <= tables
    migrate(conn)  # idempotent
    assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == LATEST


def test_v1_catalog_with_data_migrates_and_still_searches(tmp_path):
    path = tmp_path / "old.db"
    old = connect(path)
    assert migrate(old, target=1) == 1
    columns = [r[1] for r in old.execute("PRAGMA table_info(products)")]
    assert "embedding_id" not in columns  # really the old layout
    old.execute("INSERT INTO products (id, sku, name, brand, category, unit, pack_size, price_cents, currency, "
                "in_stock, tags, description, popularity, version) VALUES "
                "(1, 'PRO-1', 'Fuji apples', 'Green Valley', 'produce', 'bag', '3 lb', 499, 'USD', 1, 'fruit', "
                "'', 0.5, 1)")
    old.execute("INSERT INTO products_fts (rowid, name, brand, category, aliases, tags) VALUES "
                "(1, 'Fuji apples', 'Green Valley', 'produce', 'fuji', 'fruit')")
    old.execute("INSERT INTO catalog_meta (key, value) VALUES ('version', '4')")
    old.close()

    conn = open_catalog(path)
    assert schema_version(conn) == LATEST
    assert "embedding_id" in [r[1] for r in conn.execute("PRAGMA table_info(products)")]
    assert conn.execute("SELECT name, price_cents FROM products").fetchall() == [("Fuji apples", 499)]
    assert conn.execute("SELECT value FROM catalog_meta WHERE key='version'").fetchone()[0] == "4"
    hits = Searcher(conn).search("fugi apples")
    assert hits and hits[0].product.sku == "PRO-1"


def test_newer_schema_is_refused(tmp_path):
    conn = open_catalog(tmp_path / "future.db")
    conn.execute("INSERT INTO schema_version (version, description) VALUES (?, 'from the future')", (LATEST + 1,))
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this software"):
        open_catalog(tmp_path / "future.db")


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    from edge.catalog import schema

    def broken(db):
        db["half_made"].create({"id": int}, pk="id")
        raise sqlite3.OperationalError("disk on fire")

    conn = connect(tmp_path / "c.db")
    migrate(conn, target=2)
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS[:2], (3, "broken", broken)))
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn, target=3)
    assert schema_version(conn) == 2
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='half_made'").fetchone() is None


def test_vocabulary_is_rich_and_consistent():
    names = vocab.product_names()
    assert len(names) >= 250 and len({n.lower() for n in names}) == len(names)
    assert set(vocab.CATEGORIES) == set(vocab.BRANDS)
    assert {"produce", "dairy", "bakery", "meat", "pantry", "drinks", "snacks", "cleaning", "pet", "baby",
            "coffee to go", "car accessories", "household"} <= set(vocab.CATEGORIES)
    for _category, spec in vocab.all_specs():
        assert spec.unit in vocab.UNITS and spec.sizes and spec.price_cents[0] <= spec.price_cents[1]
    category, fuji = vocab.spec_by_name("fuji apples")
    assert category == "produce" and fuji.unit == "bag" and fuji.sizes[0] == "3 lb"
    assert fuji.price_cents[0] <= 499 <= fuji.price_cents[1]
    assert vocab.aliases()["oj"] == "orange juice"
    assert set(vocab.UNIT_PLURALS) == set(vocab.UNITS)
    assert len(vocab.brand_names()) == len(set(vocab.brand_names()))
