"""The Mandarin dialogue (issue 20, part 4): replies in the seed's style, a strict Chinese yes, a PIN said
in Chinese digits, and no order without a clear yes.

The engine is fed Understanding events directly (what the Chinese NLU emits: intents and slots as in
English, quantities as ints), over a real order outbox and PIN guard in a temp dir and a small shelf of
Chinese products (the test bed's catalog port; the real Chinese catalog, NLU, ASR and voice are the zh
scenario's end-to-end proof in tests/test_simulate_zh.py).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from edge.catalog.search import Product
from edge.config import load_settings
from edge.dialog import Dialog, PurchaseGuard
from edge.dialog.assent import explicit_yes
from edge.dialog.guard import is_hesitation, spoken_digits
from edge.dialog.replies import Replies, replies_for
from edge.dialog.replies_zh import RepliesZh
from edge.dialog.state import CartLine, DialogState, Item
from edge.dialog.wording_zh import money
from edge.dialog.words_zh import count_words
from edge.events import Understanding
from edge.orders import Outbox

PIN = "1234"


def Row(*fields: object) -> Product:  # noqa: N802 - reads as the rows below
    """A zh product row as the catalog returns it (edge.catalog.search.Product), in stock, priced in CNY."""
    return Product(*fields, currency="CNY", in_stock=True, popularity=0.0)


SHELF = (
    Row(1, "ZH-APL-1", "红富士苹果", "阳光农场", "produce", "袋", "3斤", 3900),
    Row(2, "ZH-APL-2", "嘎啦苹果", "果园", "produce", "袋", "5斤", 7900),
    Row(3, "ZH-JUC-1", "橙汁", "果园", "drinks", "瓶", "1升", 1290),
    Row(4, "ZH-BAN-1", "香蕉", "阳光农场", "produce", "斤", "2斤", 990),
    Row(5, "ZH-MLK-1", "纯牛奶", "草原", "dairy", "盒", "1升", 1250),
)


@dataclasses.dataclass(frozen=True)
class Hit:
    product: Product
    score: float = 1.0
    reason: str = "test"


class Shelf:
    """The catalog port over SHELF: substring search, and "goes with" = the other fruit."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.conn.execute("CREATE TABLE products (id, sku, name, brand, category, unit, pack_size, price_cents, "
                          "in_stock, currency)")
        self.conn.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?,?,?,?)",
                              [(r.id, r.sku, r.name, r.brand, r.category, r.unit, r.pack_size, r.price_cents,
                                int(r.in_stock), r.currency) for r in SHELF])

    def search(self, query: str, max_price: float | None = None, brand: str | None = None,
               limit: int = 5) -> list[Hit]:
        words = [w for w in re.split(r"\s+", query) if w]
        hits = [r for r in SHELF if all(w in f"{r.brand}{r.name}" for w in words)
                and (brand is None or r.brand == brand) and (max_price is None or r.price_cents <= max_price * 100)]
        return [Hit(r) for r in hits[:limit]]

    def recommend(self, user: str, context_products: Any = (), k: int = 5, focus: int | None = None) -> list[Hit]:
        return [Hit(r) for r in SHELF if r.name == "香蕉" and r.id not in context_products][:k]

    def often_bought_with(self, product_id: int, k: int = 3) -> list[Hit]:
        return []

    def alternatives(self, product_id: int, k: int = 3, *, cheaper: bool = False) -> list[Hit]:
        return []

    def faq(self) -> list[Any]:
        return []

    def brands(self) -> list[str]:
        return sorted({r.brand for r in SHELF})


def zh_dialog(tmp_path: Path, *, limit_cents: int = 100000, pin: str = "") -> tuple[Dialog, Outbox]:
    base = load_settings(environ={})
    settings = dataclasses.replace(
        base, device=dataclasses.replace(base.device, language="zh"),
        dialog=dataclasses.replace(base.dialog, spending_limit_cents=limit_cents, pin=pin))
    outbox = Outbox(tmp_path / "outbox.sqlite")
    guard = PurchaseGuard(tmp_path / "dialog.sqlite", settings.dialog.pin)
    return Dialog(settings, Shelf(), outbox, guard), outbox


def heard(text: str, intent: str, confidence: float = 0.97, **slots: Any) -> Understanding:
    return Understanding(text=text, intent=intent, confidence=confidence, slots=slots)


def kinds(reply: Any) -> list[str]:
    return [a["type"] for a in reply.actions]


def to_read_back(d: Dialog) -> Any:
    """The seed's conversation up to the read-back: 我想买苹果 / 两袋 / 结账."""
    d.handle(heard("我想买苹果", "add_to_cart", product="苹果"))
    d.handle(heard("两袋", "add_to_cart", quantity=2, unit="袋"))
    return d.handle(heard("结账", "checkout"))


# --- the seed's conversation ---------------------------------------------------------------------
def test_the_seeds_conversation_in_chinese(tmp_path):
    d, outbox = zh_dialog(tmp_path)
    first = d.handle(heard("我想买苹果", "add_to_cart", product="苹果"))
    assert first.text == "这是新鲜的阳光农场红富士苹果，3斤39元，很实惠。要几袋？", first.text
    assert kinds(first) == ["results"] and first.expects_answer
    added = d.handle(heard("两袋", "add_to_cart", quantity=2, unit="袋"))
    assert "两袋阳光农场红富士苹果已加入购物车，78元" in added.text, added.text
    assert "您可能也喜欢" in added.text and "香蕉" in added.text, added.text
    assert kinds(added) == ["add_to_cart"] and added.actions[0]["quantity"] == 2
    back = d.handle(heard("结账", "checkout"))
    assert "一共两件，78元，确认下单吗？" in back.text, back.text
    assert kinds(back) == ["read_back"] and outbox.list() == []
    done = d.handle(heard("是的", "confirm", 0.98))
    assert kinds(done) == ["order_queued"], done.text
    assert done.text.startswith("好的，已经下单。订单号"), done.text
    orders = outbox.list()
    assert len(orders) == 1 and orders[0].total_cents == 7800 and orders[0].currency == "CNY"
    assert not re.search(r"[A-Za-z$]", first.text + added.text + back.text + done.text)


def test_prices_counts_and_the_read_back_in_the_seeds_style():
    assert money(3900) == "39元" and money(499) == "4.99元" and money(490) == "4.9元" and money(5) == "0.05元"
    assert [count_words(n) for n in (1, 2, 3, 10, 12, 20, 35, 100)] == \
        ["一", "两", "三", "十", "十二", "二十", "三十五", "100"]
    apples, milk = (Item(r.id, r.sku, r.name, r.brand, r.unit, r.pack_size, r.price_cents, r.category)
                    for r in (SHELF[0], SHELF[4]))
    lines = [CartLine(apples, 2), CartLine(milk, 1)]
    text = RepliesZh(max_results=3, short=False).read_back(lines, 9050)
    assert text == ("您要买：两袋阳光农场红富士苹果，78元；一盒草原纯牛奶，12.5元。一共三件，90.5元，"
                    "确认下单吗？请说确认或者不要。")
    english = Item(9, "S", "Fuji apples", "Green Valley", "bag", "3 lb", 499, "produce")
    assert RepliesZh(max_results=3, short=False).single(english) == "这是新鲜的Green Valley Fuji apples，3磅4.99元。要几袋？"


def sample(name: str) -> Any:
    """An argument for a Replies method, by parameter name."""
    item = Item(1, "ZH-APL-1", "红富士苹果", "阳光农场", "袋", "3斤", 3900, "produce")
    state = DialogState(cart=[CartLine(item, 2)])
    values = {"items": [item], "query": "苹果", "item": item, "verdict": "很实惠", "quantity": 2,
              "line": CartLine(item, 2), "suggestion": item, "state": state, "what": "苹果",
              "lines": [CartLine(item, 2)], "total_cents": 7800, "limit_cents": 5000, "spent_cents": 1000,
              "order_id": 7, "state_name": "sent", "charged_cents": 7000, "age_minutes": 5, "question": "确认下单吗？",
              "pending": "checkout", "cart_kept": True, "value": -2.0, "most": 999, "unclear": "我听到的是2.5。",
              "count": 3, "max_price": 20.0, "after_cents": 9000, "detail": "磁盘满了", "reason": "storage_full",
              "new_cents": 8200, "quoted_cents": 7800, "why": "缺货", "product": "苹果", "missing": ["香蕉"],
              "minutes": 15, "reorder": False}
    return values[name]


def test_the_chinese_replies_answer_every_method_of_the_english_ones_in_chinese():
    english = {n: m for n, m in inspect.getmembers(Replies, inspect.isfunction) if not n.startswith("_")}
    chinese = {n: m for n, m in inspect.getmembers(RepliesZh, inspect.isfunction) if not n.startswith("_")}
    assert set(english) == set(chinese)
    replies = RepliesZh(max_results=3, short=False)
    for name, method in english.items():
        assert list(inspect.signature(method).parameters) == list(inspect.signature(chinese[name]).parameters), name
        params = [p for p in inspect.signature(method).parameters.values()
                  if p.name != "self" and p.kind is not p.VAR_POSITIONAL]
        args = {p.name: sample("state_name" if (name, p.name) in {("status", "state"), ("sync_outcome", "state")}
                               else p.name) for p in params}
        text = getattr(replies, name)(**args)
        assert isinstance(text, str) and not re.search(r"[A-Za-z$]", text), (name, text)
    assert isinstance(replies_for("zh", max_results=3, short=True), RepliesZh)
    assert isinstance(replies_for("en", max_results=3, short=True), Replies)


# --- only a clear yes buys -----------------------------------------------------------------------
YES_ZH = ["是的", "是的。", "对", "对的", "好的", "好", "确认", "可以", "下单吧", "没问题", "嗯对", "嗯，好的",
          "好的，下单吧。", "确认下单", "对，没错！", "是的，谢谢", "行", "当然可以", "请下单", "ＯＫ"]
NOT_YES_ZH = ["不", "不要", "不是", "别", "别下单", "算了", "等一下", "等等", "再想想", "我再想想", "让我想想", "好吗",
              "可以吗", "是吗？", "确认？", "对吧", "是吧", "好的吧不", "好的，不要了", "不对", "不确定", "好像是",
              "也许", "可能吧", "嗯", "嗯嗯", "呃", "那个", "好的，再加一袋香蕉", "确认，一二三四", "好的3", "是的是的是的" * 3,
              "确-", "", "。", "……", "谢谢", "随便", "我想买苹果", "是不是", "对不对", "好不好", "行不行",
              "\ufffd\ufffd", "(音乐)", "字幕由Amara.org社区提供"]


@pytest.mark.parametrize("text", YES_ZH)
def test_a_chinese_yes(text):
    assert explicit_yes(text, "zh"), text


@pytest.mark.parametrize("text", NOT_YES_ZH)
def test_no_negation_question_hedge_digit_or_other_words_is_a_chinese_yes(text):
    assert not explicit_yes(text, "zh"), text


def test_nothing_but_a_clear_yes_places_the_order_even_when_the_model_reads_confirm(tmp_path):
    d, outbox = zh_dialog(tmp_path)
    for n, text in enumerate(NOT_YES_ZH):
        if n % 2 == 0:  # a fresh read-back every other answer (the second unclear answer drops it)
            d.state.cart.clear()  # the cart is kept after each refusal; keep the total under the limit
            to_read_back(d)
        d.handle(heard(text, "confirm", 0.99))  # the model fooled: only the words can stop it
        assert outbox.list() == [], text
    d.state.cart.clear()
    to_read_back(d)
    doubted = d.handle(heard("是的", "confirm", 0.5))  # the words are a yes, the model doubts it
    assert "order_queued" not in kinds(doubted) and outbox.list() == []
    assert kinds(d.handle(heard("好的", "confirm", 0.97))) == ["order_queued"]  # asked again once: now it buys
    assert len(outbox.list()) == 1


def test_a_listed_yes_the_model_reads_as_checkout_buys_and_a_bare_checkout_does_not(tmp_path):
    """好的，下单吧 at the read-back: the zh NLU says checkout (下单 = place an order); the words are a yes."""
    d, outbox = zh_dialog(tmp_path)
    to_read_back(d)
    assert kinds(d.handle(heard("好的，下单吧", "checkout", 0.97))) == ["order_queued"]
    d.state.cart.clear()
    to_read_back(d)
    again = d.handle(heard("我要结账，再加一袋香蕉", "checkout", 0.99))  # checkout, but not a listed yes
    assert "order_queued" not in kinds(again) and len(outbox.list()) == 1


def test_a_yes_only_counts_right_after_the_read_back(tmp_path):
    d, outbox = zh_dialog(tmp_path)
    to_read_back(d)
    refused = d.handle(heard("不要", "deny", 0.97))
    assert refused.text == "好的，不下单了。购物车给您留着。"
    late = d.handle(heard("是的", "confirm", 0.99))
    assert kinds(late) == ["nothing_to_confirm"] and outbox.list() == []
    assert late.text == "现在没有需要确认的事。您想做什么？"


def test_chinese_hesitations_carry_no_answer():
    for text in ("嗯", "呃……", "嗯那个", "让我想想", "我想想", "啊"):
        assert is_hesitation(text), text
    for text in ("我想买苹果", "两袋", "是的", "不要"):
        assert not is_hesitation(text), text
    assert is_hesitation("um") and not is_hesitation("yes")  # English unchanged


# --- the PIN in Chinese digits ---------------------------------------------------------------------
@pytest.mark.parametrize(("said", "digits"), [
    ("一二三四", "1234"), ("幺二三四", "1234"), ("我的密码是一二三四", "1234"), ("密码是1234。", "1234"),
    ("１２３４", "1234"), ("零九八七", "0987"), ("洞幺两三", "0123"), ("一 二 三 四", "1234"),
    ("一二三四吗", ""), ("我不知道", ""), ("取消", ""), ("一千二百三十四", ""),
])
def test_a_pin_said_in_chinese_digits(said, digits):
    assert spoken_digits(said) == digits


def test_over_the_limit_the_pin_in_chinese_places_the_order_and_a_wrong_one_does_not(tmp_path):
    d, outbox = zh_dialog(tmp_path, limit_cents=5000, pin=PIN)
    to_read_back(d)
    ask = d.handle(heard("确认", "confirm", 0.98))
    assert kinds(ask) == ["pin_required"] and ask.text == "78元超过了您的消费限额50元。请说出四位数密码。"
    wrong = d.handle(heard("一二三五", "other", 0.4))
    assert kinds(wrong) == ["pin_failed"] and wrong.text == "密码不对。请再说一遍，或者说取消。"
    assert outbox.list() == []
    placed = d.handle(heard("幺二三四", "other", 0.4))
    assert kinds(placed) == ["order_queued"] and len(outbox.list()) == 1


def test_without_a_pin_said_nothing_is_ordered(tmp_path):
    d, outbox = zh_dialog(tmp_path, limit_cents=5000, pin=PIN)
    to_read_back(d)
    d.handle(heard("确认", "confirm", 0.98))
    reply = d.handle(heard("我再想想", "other", 0.6))
    assert kinds(reply) == ["refused"] and reply.text == "没有听到四位数密码，所以我没有下单。"
    assert outbox.list() == []


# --- the rest of the conversation in Chinese ------------------------------------------------------
def test_cart_status_timeout_help_and_fallback_speak_chinese(tmp_path):
    d, outbox = zh_dialog(tmp_path)
    to_read_back(d)
    assert d.timeout().text == "没有听到回答，所以我没有下单。购物车给您留着。"
    assert d.handle(heard("购物车里有什么", "view_cart")).text == \
        "购物车里有两件：两袋阳光农场红富士苹果，78元。一共78元。"
    d.handle(heard("结账", "checkout"))
    d.handle(heard("好的", "confirm", 0.97))
    status = d.handle(heard("我的订单到哪了", "order_status"))
    assert re.fullmatch(r"您的订单\d+是刚刚下的，.+。", status.text), status.text
    ask = d.handle(heard("取消订单", "cancel_order"))
    assert ask.text.startswith("要取消订单") and "78元" in ask.text
    assert "帮助" in d.handle(heard("天气怎么样", "other", 0.9)).text
    assert "找商品" in d.handle(heard("你能做什么", "help")).text
    unsure = d.handle(heard("嗯", "search", 0.9))
    assert unsure.text == "抱歉，我没听清，请再说一遍。"


def test_produce_sold_by_the_jin_in_packs_is_counted_in_packs():
    """3斤 for 39元 is one pack: "要几斤？" answered "两斤" would put 6斤 in the cart, so the pack is counted."""
    replies = RepliesZh(max_results=3, short=False)
    packed = Item(1, "S1", "富士苹果", "果园鲜生", "斤", "3斤", 3900, "水果")
    loose = Item(2, "S2", "柠檬", "", "斤", "1斤", 1200, "水果")
    assert replies.single(packed, "很实惠") == "这是新鲜的果园鲜生富士苹果，3斤39元，很实惠。要几份？"
    assert replies.single(loose) == "这是新鲜的柠檬，1斤12元。要几斤？"
    assert replies.read_back([CartLine(packed, 2)], 7800).startswith("您要买：两份果园鲜生富士苹果，78元。一共两件，78元")


def test_an_amount_said_in_the_packs_unit_becomes_packs_or_is_asked_about(tmp_path):
    d, _outbox = zh_dialog(tmp_path)
    offer = d.handle(heard("我想买香蕉", "add_to_cart", product="香蕉"))
    assert offer.text.endswith("2斤9.9元。要几份？"), offer.text
    odd = d.handle(heard("三斤", "add_to_cart", quantity=3, unit="斤"))
    assert odd.text == "香蕉一份是2斤，要几份？" and d.state.cart == [], odd.text
    added = d.handle(heard("四斤", "add_to_cart", quantity=4, unit="斤"))
    assert kinds(added) == ["add_to_cart"] and added.actions[0]["quantity"] == 2, added.text
    assert added.text.startswith("好的，两份阳光农场香蕉已加入购物车，19.8元。"), added.text


def test_chinese_customer_service_questions_find_their_answer_without_sentence_vectors():
    from edge.dialog.faq import FaqEntry, FaqMatcher

    entries = [FaqEntry("退货政策是什么？", "未开封的商品三十天内可以退货。", "退货 退款"),
               FaqEntry("配送费多少钱？", "满六十九元免配送费。", "配送 运费"),
               FaqEntry("门店几点营业？", "每天早上七点到晚上十点。", "营业 时间")]
    matcher = FaqMatcher(entries)  # the zh catalog ships no sentence vectors: the lexical match answers
    assert matcher.answer("可以退货吗").question == "退货政策是什么？"
    assert matcher.answer("运费多少").question == "配送费多少钱？"
    assert matcher.answer("门店几点营业").question == "门店几点营业？"
    assert matcher.answer("我想买苹果") is None


def test_a_zh_device_joins_sentences_without_spaces_and_its_default_limit_is_in_yuan():
    assert RepliesZh(max_results=3, short=False).join("好的，已经下单。", "", "订单已经发给商家了。") == \
        "好的，已经下单。订单已经发给商家了。"
    assert Replies(max_results=3, short=False).join("Done.", "", "It's sent.") == "Done. It's sent."
    assert load_settings(environ={"VOICESHOP_DEVICE__LANGUAGE": "zh"}).dialog.spending_limit_cents == 70000
    chosen = {"VOICESHOP_DEVICE__LANGUAGE": "zh", "VOICESHOP_DIALOG__SPENDING_LIMIT_CENTS": "5000"}
    assert load_settings(environ=chosen).dialog.spending_limit_cents == 5000
    assert load_settings(environ={}).dialog.spending_limit_cents == 10000


# --- typed Chinese through `python -m edge chat` (the real Chinese NLU and catalog) --------------------
@pytest.mark.slow
def test_the_seeds_conversation_typed_through_edge_chat_in_chinese(bundle, tmp_path):
    bundle("nlu-zh")
    _typed_chat_checks(tmp_path)


def _typed_chat_checks(tmp_path: Path) -> None:
    from edge.simulation.world import demo_catalog, device_dir
    from tests.conftest import MODELS_DIR
    from tests.dialog_rig import chat, orders

    data = device_dir(demo_catalog(MODELS_DIR, "zh"), tmp_path)
    lines = ["我想买苹果", "给我来两份吧", "我要结账", "好吗", "我要结账", "再想想", "我要结账", "确认下单"]
    records = chat(data, lines, env={"VOICESHOP_DEVICE__LANGUAGE": "zh"})
    got = [(r["intent"], [a["type"] for a in r["actions"]]) for r in records]
    assert got[0] == ("add_to_cart", ["results"]) and re.search(r"这是新鲜的.*苹果，\d+斤[\d.]+元", records[0]["reply"])
    assert got[1][1] == ["add_to_cart"] and "已加入购物车" in records[1]["reply"], records[1]
    assert records[1]["slots"].get("quantity") == 2
    assert got[2] == ("checkout", ["read_back"]) and "确认下单吗" in records[2]["reply"]
    assert "order_queued" not in got[3][1] and "order_queued" not in got[5][1]  # a question, a hedge: no order
    assert got[7][1] == ["order_queued"], records[7]
    assert not re.search(r"[A-Za-z$]", "".join(r["reply"] for r in records))
    placed = orders(data)
    assert len(placed) == 1 and placed[0]["total_cents"] == records[2]["actions"][0]["total_cents"]
