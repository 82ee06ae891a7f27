"""The Chinese demo catalog: generation, search on characters, pinyin homophones, English unaffected."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cloud.catalog import generate, publish, signing, store
from edge.catalog import chinese
from edge.catalog.apply import apply_delta, load_public_key
from edge.catalog.catalog import Catalog
from edge.catalog.matching import content_words
from edge.catalog.schema import open_catalog
from voiceshop_common import catalog_zh


@pytest.fixture(scope="module")
def zh_catalog(tmp_path_factory) -> Catalog:
    """A device catalog bootstrapped from a signed zh snapshot, as `edge chat --demo-catalog` makes it."""
    root = tmp_path_factory.mktemp("zh")
    generate.generate(root / "m.db", 1500, seed=5, language="zh")
    signing.generate_keypair(root / "keys")
    conn = store.open_master(root / "m.db")
    result = publish.publish(conn, signing.load_private_key(root / "keys"), root / "out", bundle_dir=None)
    conn.close()
    device = open_catalog(root / "device.db")
    applied = apply_delta(device, Path(result["snapshot"]).read_bytes(),
                          load_public_key(root / "keys" / signing.PUBLIC_NAME))
    assert applied.status == "applied", applied
    device.close()
    catalog = Catalog(root / "device.db")
    yield catalog
    catalog.close()


def _names(catalog: Catalog, query: str, limit: int = 3) -> list[str]:
    return [hit.product.name for hit in catalog.search(query, limit=limit)]


def test_zh_rows_are_chinese_with_measure_words_and_yuan():
    rows = generate.generate_rows(6000, seed=3, language="zh")
    first = rows[0]
    assert (first[2], first[5], first[6], first[7], first[8]) == ("富士苹果", "斤", "3斤", 3900, "CNY")  # 3斤 39元
    assert len({r[1] for r in rows}) == len(rows)
    specs = {spec.name: (category, spec) for category, spec in catalog_zh.all_specs()}
    assert set(specs) <= {r[2] for r in rows}
    for _id, sku, name, brand, category, unit, size, price, currency, _stock, _tags, desc, _pop, _emb in rows[::53]:
        base = next(n for n in specs if name.endswith(n))
        assert specs[base][0] == category and unit == specs[base][1].unit and size in specs[base][1].sizes
        assert chinese.has_cjk(name) and chinese.has_cjk(brand) and brand in desc and sku[:3].isupper()
        assert currency == "CNY" and price % 10 == 0 and price > 0
        assert unit in catalog_zh.UNITS
    units = Counter(r[5] for r in rows)
    assert {"斤", "个", "瓶", "袋", "盒", "箱", "包"} <= set(units)
    produce = {r[5] for r in rows if r[4] == "水果" and r[2] != "西瓜"} - {"盒"}
    assert produce == {"斤"}
    assert generate.generate_rows(500, seed=1, language="zh") == generate.generate_rows(500, seed=1, language="zh")
    with pytest.raises(ValueError, match="language"):
        generate.generate_rows(10, language="fr")


def test_english_generation_is_unchanged_by_the_language_switch():
    rows = generate.generate_rows(2000, seed=3)
    assert rows == generate.generate_rows(2000, seed=3, language="en")
    assert rows[0][2] == "Fuji apples" and rows[0][7] == 499 and rows[0][8] == "USD"


def test_chinese_text_is_indexed_per_character_and_english_text_is_not_touched():
    assert chinese.fts_text("绿源果园 富士苹果") == "绿 源 果 园 富 士 苹 果"
    for text in ("Green Valley Fuji apples", "oat milk 64 fl oz", "", "2% milk"):
        assert chinese.fts_text(text) == text
    assert content_words("I want two bags of Fuji apples") == ["two", "bags", "fuji", "apples"]
    assert content_words("我想买两斤富士苹果吧") == ["富士苹果"]
    assert chinese.request_core("有没有有机大米") == "有机大米"  # 有机 is part of the name, not "have"


def test_search_on_characters_finds_the_product_and_ranks_exact_names_first(zh_catalog):
    assert _names(zh_catalog, "富士苹果") == ["富士苹果"] * 3
    assert _names(zh_catalog, "苹果", 1) == ["富士苹果"]  # alias 苹果 -> 富士苹果
    assert _names(zh_catalog, "我想买两斤富士苹果", 1) == ["富士苹果"]
    assert _names(zh_catalog, "鲜牛奶")[0] == "鲜牛奶"  # the exact name before 纯牛奶 (alias 牛奶)
    assert _names(zh_catalog, "牛奶", 1) == ["纯牛奶"]
    assert _names(zh_catalog, "番茄", 1) == ["西红柿"]  # alias
    assert _names(zh_catalog, "有机苹果", 1) == ["有机富士苹果"]  # every character, not a substring
    hits = zh_catalog.search("绿源果园香蕉", limit=5)
    assert hits and all(h.product.brand == "绿源果园" and h.product.name.endswith("香蕉") for h in hits)
    cheap = zh_catalog.search("香蕉", max_price=11.0, limit=10)
    assert cheap and all(h.product.price_cents <= 1100 for h in cheap)
    assert zh_catalog.search("电脑", limit=3) == []  # nothing in the shop sounds or reads like it


@pytest.mark.parametrize(("heard", "meant"), [("平果", "富士苹果"), ("香焦", "香蕉"), ("鸡旦", "鸡蛋"),
                                               ("流奶", "纯牛奶"), ("矿全水", "矿泉水"), ("来两斤平果", "富士苹果")])
def test_homophones_from_the_recognizer_still_find_the_product(zh_catalog, heard, meant):
    hits = zh_catalog.search(heard, limit=3)
    assert hits and hits[0].product.name == meant, [(h.product.name, h.why) for h in hits]


def test_pinyin_keys_are_toneless_and_shared_by_homophones():
    assert chinese.pinyin_key("苹果") == chinese.pinyin_key("平果") == "ping guo"
    assert chinese.pinyin_key("绿茶") == "lv cha"
    assert chinese.pinyin("a苹b") == ["ping"]


def test_correction_passes_chinese_transcripts_through(zh_catalog):
    from edge.catalog.correction import CatalogCorrector

    corrector = CatalogCorrector(zh_catalog.conn, pronounce=lambda text: pytest.fail("phonemized a zh catalog"))
    assert corrector.warm() is None
    corrected = corrector.correct("我想买平果")
    assert corrected.text == corrected.raw_text == "我想买平果" and not corrected.changed


def test_zh_mode_keeps_its_data_apart_and_installs_the_zh_demo_catalog(tmp_path):
    from edge.config import load_settings
    from edge.dialog.demo import install_demo_catalog

    en = load_settings(environ={"VOICESHOP_DEVICE__DATA_DIR": str(tmp_path)})
    zh = load_settings(environ={"VOICESHOP_DEVICE__DATA_DIR": str(tmp_path), "VOICESHOP_DEVICE__LANGUAGE": "zh"})
    assert zh.device.data_path == en.device.data_path / "zh"
    assert (zh.asr.model, zh.asr.language) == ("base", "zh")
    db = install_demo_catalog(zh.device.data_path, products=300, recs=False, language="zh")
    catalog = Catalog(db)
    try:
        assert catalog.search("苹果", limit=1)[0].product.currency == "CNY"
        assert catalog.stats()["embeddings"] == 0  # the English encoder cannot place Chinese names
    finally:
        catalog.close()
    assert not (en.device.data_path / "catalog.db").exists()
