"""How the device says things in Mandarin: the same methods as `replies.Replies`, in the seed's style.

The seed's conversation: "我想买苹果" -> "这是新鲜的苹果，3斤39元，很实惠。要几斤？" -> "已加入购物车……
您可能也喜欢……". Replies are display text for the zh voice: prices "39元" / "4.99元", sizes with digits
("3斤"), counts as words before a measure word ("两袋"), full-width Chinese punctuation (the voice
pauses on "，" and "。", and splits clauses on them so the first one is spoken sooner), and no quotation
marks (the voice has nothing to say for them). `Dialog` picks
the class by `[device] language` (`replies_for`); tests/test_dialog_zh.py checks that this class
answers every method `Replies` has, with the same parameters, so no English sentence slips through.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.dialog.state import CartLine, DialogState, Item
from edge.dialog.wording import best_value
from edge.dialog.wording_zh import ORDINALS, counted, fresh, intro, measure, money, spoken_list, title
from edge.dialog.wording_zh import size as zh_size
from edge.dialog.words_zh import count_words

STATUS_WORDS = {
    "draft": "还没有确认",
    "confirmed": "已确认，正在等本机发送",
    "queued": "保存在本机，联网后马上发送",
    "sent": "已经发出，商家还没有确认",
    "acked": "商家已经收到",
    "shipped": "正在配送",
    "delivered": "已经送达",
    "cancelled": "已经取消",
}
_KEPT = "购物车给您留着。"


class RepliesZh:
    """Mandarin reply wording for one profile; `short` is the car's terse style."""

    def __init__(self, *, max_results: int, short: bool) -> None:
        self.max_results = max_results
        self.short = short

    # --- browsing -------------------------------------------------------------------------
    def results(self, items: Sequence[Item], query: str) -> str:
        shown = list(items[: self.max_results])
        if len(shown) == 1:
            return f"这是{fresh(shown[0])}{intro(shown[0])}。要加入购物车吗？"
        cheapest = None if self.short else best_value(shown)
        lines = [f"{ORDINALS[n]}种，{intro(item, self.verdict() if item is cheapest else '')}"
                 for n, item in enumerate(shown)]
        head = "" if self.short else f"{query}找到{count_words(len(shown))}种。"
        return f"{head}{'；'.join(lines)}。您要哪一种？"

    def single(self, item: Item, verdict: str = "") -> str:
        """The seed's answer to "我想买苹果": "这是新鲜的苹果，3斤39元，很实惠。要几袋？"."""
        return f"这是{fresh(item)}{intro(item, verdict)}。要几{measure(item)}？"

    def not_found(self, query: str) -> str:
        if self.short:
            return f"没有找到{query}。"
        return f"抱歉，没有找到{query}。可以换个名字或者品牌试试。"

    def price(self, item: Item, verdict: str = "") -> str:
        return f"{intro(item, verdict)}。"

    def recommendations(self, items: Sequence[Item]) -> str:
        shown = list(items[: self.max_results])
        if not shown:
            return "现在没有可以推荐的商品。"
        return f"您可能也喜欢：{spoken_list([intro(i) for i in shown])}。要加哪一种？"

    # --- cart -------------------------------------------------------------------------------
    def ask_quantity(self, item: Item) -> str:
        if self.short:
            return f"{item.name}要几{measure(item)}？"
        return f"这是{intro(item)}。要几{measure(item)}？"

    def confirm_quantity(self, quantity: int, item: Item) -> str:
        return (f"您真的要{counted(quantity, item)}吗？数量有点多。"
                f"要加的话请说是的，或者告诉我要几{measure(item)}。")

    def confirm_reorder_quantity(self, quantity: int, item: Item) -> str:
        return (f"您真的要再订{counted(quantity, item)}吗？数量有点多。"
                f"请说是的，或者告诉我要几{measure(item)}。")

    def added(self, line: CartLine, quantity: int, suggestion: Item | None) -> str:
        item = line.item
        text = f"好的，{counted(quantity, item)}已加入购物车"
        if self.short:
            return f"{text}。还要别的吗？"
        text += f"，{money(item.price_cents * quantity)}。"
        if suggestion is not None:
            text += f"您可能也喜欢{intro(suggestion)}。"
        return f"{text}还需要别的吗？"

    def removed(self, item: Item, state: DialogState) -> str:
        if not state.cart:
            return f"已经删掉{title(item)}，购物车空了。"
        return f"已经删掉{title(item)}，购物车一共{money(state.cart_total_cents)}。"

    def reduced(self, line: CartLine) -> str:
        return f"购物车里现在是{counted(line.quantity, line.item)}。"

    def not_in_cart(self, what: str) -> str:
        return f"购物车里没有{what}。"

    def cart(self, state: DialogState) -> str:
        if not state.cart:
            return "购物车是空的。"
        count = count_words(state.cart_count)
        total = money(state.cart_total_cents)
        if self.short:
            names = "、".join(counted(ln.quantity, ln.item) for ln in state.cart)
            return f"{count}件：{names}，一共{total}。"
        lines = "；".join(f"{counted(ln.quantity, ln.item)}，{money(ln.total_cents)}" for ln in state.cart)
        return f"购物车里有{count}件：{lines}。一共{total}。"

    # --- orders -----------------------------------------------------------------------------
    def read_back(self, lines: Sequence[CartLine], total_cents: int, *, reorder: bool = False) -> str:
        """Everything that will be ordered, "一共三件，78元", then the explicit question."""
        if self.short:
            items = "、".join(counted(ln.quantity, ln.item) for ln in lines)
        else:
            items = "；".join(f"{counted(ln.quantity, ln.item)}，{money(ln.total_cents)}" for ln in lines)
        head = "再订一次：" if reorder else "您要买："
        count = count_words(sum(ln.quantity for ln in lines))
        return f"{head}{items}。一共{count}件，{money(total_cents)}，确认下单吗？请说确认或者不要。"

    def ask_pin(self, total_cents: int, limit_cents: int, spent_cents: int = 0) -> str:
        if spent_cents:
            return (f"最近已经下单{money(spent_cents)}，再加{money(total_cents)}就超过了您的消费限额"
                    f"{money(limit_cents)}。请说出四位数密码。")
        return f"{money(total_cents)}超过了您的消费限额{money(limit_cents)}。请说出四位数密码。"

    def placed(self, order_id: int, total_cents: int) -> str:
        """True as soon as the order is durable in the outbox; the store's answer is `sync_outcome`."""
        return f"好的，已经下单。订单号{order_id}，{money(total_cents)}。"

    def sync_outcome(self, state: str) -> str:
        if state in ("sent", "acked", "shipped", "delivered"):
            return "订单已经发给商家了。"
        return "订单先保存在本机，联网后马上发送。"

    def cheaper(self, charged_cents: int) -> str:
        return f"商家的总价比我说的低，是{money(charged_cents)}。"

    def status(self, order_id: int, state: str, age_minutes: int) -> str:
        if age_minutes < 1:
            when = "刚刚"
        elif age_minutes < 120:
            when = f"{age_minutes}分钟前"
        else:
            when = f"{age_minutes // 60}小时前"
        return f"您的订单{order_id}是{when}下的，{STATUS_WORDS.get(state, f'状态是{state}')}。"

    def ask_cancel(self, order_id: int, total_cents: int) -> str:
        return f"要取消订单{order_id}吗？{money(total_cents)}。请说是或者不是。"

    def cancelled(self, order_id: int) -> str:
        return f"订单{order_id}已经取消了。"

    # --- conversation -------------------------------------------------------------------------
    def anything_else(self) -> str:
        return "好的。还需要别的吗？"

    def help(self) -> str:
        if self.short:
            return "直接说您要什么，比如：加一瓶牛奶、购物车里有什么、结账。"
        return ("您可以让我找商品、问价格、把商品加入或者移出购物车、念一下购物车，还有结账。"
                "我也可以查订单、再买一次、取消刚下的订单、推荐商品，回答退货、配送和营业时间的问题。")

    def reprompt(self, question: str) -> str:
        return f"抱歉，我没听清。{question}" if question else "抱歉，我没听清，请再说一遍。"

    def fallback(self) -> str:
        return "这个我可能帮不上忙。您可以说帮助，听听我能做什么。"

    def join(self, *sentences: str) -> str:
        """Chinese sentences follow each other without a space."""
        return "".join(part.strip() for part in sentences if part.strip())

    # --- the handlers' own sentences ------------------------------------------------------------
    def verdict(self) -> str:
        return "很实惠"

    def error(self) -> str:
        return "抱歉，我这边出了点问题，请再试一次。"

    def timeout(self, pending: str | None, cart_kept: bool) -> str:
        if pending is None:
            return ""
        if pending in ("checkout", "pin"):
            return f"没有听到回答，所以我没有下单。{_KEPT if cart_kept else ''}"
        if pending == "cancel_order":
            return "没有听到回答，订单保持不变。"
        return "没有听到回答。需要的时候再叫我。"

    # cart
    def unclear_quantity(self, value: float, most: int) -> str:
        heard = f"负{-value:g}" if value < 0 else f"{value:g}"
        return f"我听到的是{heard}，但数量只能是1到{most}的整数。"

    def ask_again(self, unclear: str, item: Item) -> str:
        return f"{unclear}{item.name}要几{measure(item)}？"

    def out_of_stock(self, item: Item) -> str:
        return f"抱歉，{item.name}现在缺货。"

    def at_most(self, most: int) -> str:
        return f"一种商品最多只能加{most}件。要几件？"

    def unclear_what_to_add(self, unclear: str) -> str:
        return f"{unclear}您想加什么，要多少？"

    def which_one(self) -> str:
        return "您要哪一种？"

    def which_one_again(self, count: int) -> str:
        options = "、".join(ORDINALS[: min(count, 5)])
        return f"哪一种？请说{options}，或者说品牌。"

    def still_which(self) -> str:
        return "抱歉，我还是没听出是哪一种。随时可以再问我。"

    def what_to_add(self) -> str:
        return "您想加什么？"

    def offer(self, item: Item, verdict: str, quantity: int) -> str:
        return f"这是{intro(item, verdict)}。要加{count_words(quantity)}{measure(item)}吗？"

    def in_packs(self, item: Item) -> str:
        return f"{item.name}一份是{zh_size(item)}，要几份？"

    def not_added(self, item: Item) -> str:
        return f"好的，没有加{item.name}。还需要别的吗？"

    def say_a_number(self, item: Item) -> str:
        return f"{item.name}要几{measure(item)}？请说一个数。"

    def cart_empty(self) -> str:
        return "购物车是空的。"

    def which_to_remove(self, state: DialogState) -> str:
        return "要删掉哪一件？" + self.cart(state)

    def confirm_remove(self, item: Item) -> str:
        return f"要把{title(item)}从购物车删掉吗？"

    def cart_unchanged(self, unclear: str, state: DialogState) -> str:
        return f"{unclear}购物车没有改动：{self.cart(state)}"

    # browsing
    def what_looking_for(self) -> str:
        return "您想找什么？"

    def under_price(self, query: str, max_price: float) -> str:
        return f"{max_price:g}元以内的{query}"

    def no_faq_answer(self) -> str:
        return "这个问题我回答不了。我可以介绍退货、配送费和营业时间。"

    def nothing_to_confirm(self) -> str:
        return "现在没有需要确认的事。您想做什么？"

    def ok(self) -> str:
        return "好的。"

    # orders
    def purchasing_off(self) -> str:
        return "这台设备关闭了下单功能。您还可以浏览商品、加购物车。"

    def purchasing_locked(self) -> str:
        return "密码错误次数太多，购买已经锁定。设备主人可以解锁。"

    def over_limit_no_pin(self, total_cents: int, limit_cents: int, spent_cents: int) -> str:
        over = (f"这段时间已经下单{money(spent_cents)}，再加{money(total_cents)}就超过了消费限额{money(limit_cents)}"
                if spent_cents else f"总价{money(total_cents)}超过了消费限额{money(limit_cents)}")
        return f"{over}，这台设备没有设置密码，所以不能下单。可以从购物车里删掉一些商品。"

    def over_limit_now(self, after_cents: int, limit_cents: int) -> str:
        return (f"这样消费就到了{money(after_cents)}，超过了限额{money(limit_cents)}，"
                "而且没有设置密码，所以我没有下单。")

    def nothing_to_check_out(self) -> str:
        return "购物车是空的，没有可以结账的。您想加点什么？"

    def not_placed(self, cart_kept: bool) -> str:
        return f"好的，不下单了。{_KEPT if cart_kept else ''}"

    def no_clear_yes(self, cart_kept: bool) -> str:
        return f"没有听到明确的确认，所以我没有下单。{_KEPT if cart_kept else ''}"

    def clear_yes_please(self, question: str) -> str:
        return f"抱歉，我没听清。需要您明确说确认或者不要。{question}"

    def no_pin_heard(self) -> str:
        return "没有听到四位数密码，所以我没有下单。"

    def pin_locked_now(self) -> str:
        return "密码又错了。购买已经锁定，需要设备主人解锁。没有下单。"

    def pin_again(self) -> str:
        return "密码不对。请再说一遍，或者说取消。"

    def order_refused(self, detail: str) -> str:
        return f"抱歉，这个订单下不了：{detail}。没有下单。"

    def not_recorded(self, reason: str, cart_kept: bool) -> str:
        why = {"storage_full": "设备存储空间满了",
               "outbox_damaged": "设备的订单存储坏了"}.get(reason, "设备没能保存订单")
        return f"抱歉，这个订单下不了：{why}。没有下单。{'购物车还在。' if cart_kept else ''}"

    def price_rose(self, new_cents: int, quoted_cents: int) -> str:
        return (f"不过商家的总价现在是{money(new_cents)}，不是{money(quoted_cents)}：价格涨了，订单没有成功。"
                f"要按{money(new_cents)}下单吗？请说是或者不是。")

    def store_refused(self, why: str) -> str:
        return f"不过商家没有接受这个订单（{why or '没有说明原因'}），所以没有下单。"

    def no_orders(self) -> str:
        return "您还没有订单。"

    def status_refused(self, charged_cents: int | None, quoted_cents: int) -> str:
        if charged_cents:
            return (f"商家没有接受：它的总价是{money(charged_cents)}，比您确认的{money(quoted_cents)}高。"
                    "按今天的价格重新结账就可以。")
        return "商家没有接受，所以没有扣款。"

    def status_cancel_pending(self) -> str:
        return "您已经申请取消，商家还没有回复。"

    def no_history(self, product: str) -> str:
        return f"以前的订单里没有找到{product}。" if product else "没有可以重复的订单。"

    def reorder_unclear(self, unclear: str) -> str:
        return f"{unclear}请用整数再说一次要订多少。"

    def none_available(self) -> str:
        return "这些商品现在都没有货。"

    def reorder_at_most(self, most: int) -> str:
        return f"一种商品最多只能订{most}件，所以没有再订。"

    def left_out(self, missing: Sequence[str]) -> str:
        return f"{'、'.join(missing)}现在没有货，先不算在里面。"

    def not_reordered(self, unclear: str = "") -> str:
        return f"{unclear}没有再订。" if unclear else "好的，没有再订。还需要别的吗？"

    def nothing_to_cancel(self) -> str:
        return "您没有可以取消的订单。"

    def already_shipped(self, order_id: int) -> str:
        return f"订单{order_id}已经发货了，不能取消。"

    def cancel_too_late(self, order_id: int, minutes: int) -> str:
        return f"订单{order_id}是{minutes}分钟以前下的，已经不能用语音取消了。"

    def order_stays(self) -> str:
        return "好的，订单保持不变。"

    def cancel_failed(self, detail: str) -> str:
        return f"抱歉，取消不了：{detail}。"

    def cancel_requested(self, order_id: int) -> str:
        return f"已经请商家取消订单{order_id}，有回复我再告诉您。"
