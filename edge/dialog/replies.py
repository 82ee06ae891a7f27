"""How the device says things: reply wording in the seed's style, for the speaker and the car.

The seed's product introduction is name, size and price, then a short verdict ("Fuji apples,
3 pound bag, $4.99. Good value."). Replies are written as display text, which the car's screen can
show as is and the TTS front end speaks: prices as "$4.99" (TTS reads it "four ninety-nine"),
counts and sizes as digits ("2", "3 pound"), units always as words, never abbreviations ("lb",
"oz" are expanded here, because a TTS normalizer cannot know that "oz" in a product size is
"ounces"). One convention, everywhere: every reply in this module goes through `money()` and
`size()`.

The car profile reads fewer results (settings) and drops the extras (verdicts, recommendations,
per-line prices): a driver hears the essentials and the total. "Good value." is said only when
it is true: the item has the lowest price per unit among several results read out together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge.dialog.state import CartLine, DialogState, Item
from edge.dialog.wording import (  # noqa: F401 (re-exported: the dialogue's modules and tests import them here)
    ORDINAL_WORDS,
    SIZE_WORDS,
    STATUS_WORDS,
    best_value,
    counted,
    intro,
    money,
    named,
    size,
    spoken_list,
    title,
)


class Replies:
    """Reply wording for one profile; `short` is the car's terse style."""

    def __init__(self, *, max_results: int, short: bool) -> None:
        self.max_results = max_results
        self.short = short

    # --- browsing -------------------------------------------------------------------------
    def results(self, items: Sequence[Item], query: str) -> str:
        shown = list(items[: self.max_results])
        if len(shown) == 1:
            return f"{intro(shown[0])} Shall I add it?"
        cheapest = None if self.short else best_value(shown)
        lines = []
        for n, item in enumerate(shown):
            verdict = "Good value." if item is cheapest else ""
            lines.append(f"{ORDINAL_WORDS[n]}, {intro(item, verdict=verdict)}")
        head = f"I found {len(shown)} for {query}." if not self.short else ""
        return " ".join([head, *lines, "Which one would you like?"]).strip()

    def single(self, item: Item, verdict: str = "") -> str:
        """The seed's answer to "I want to buy apples": one product introduced, then the offer."""
        return f"{intro(item, verdict=verdict)} How many would you like?"

    def not_found(self, query: str) -> str:
        if self.short:
            return f"I couldn't find {query}."
        return f"Sorry, I couldn't find {query}. You can try another name or a brand."

    def price(self, item: Item, verdict: str = "") -> str:
        return intro(item, verdict=verdict)

    def recommendations(self, items: Sequence[Item]) -> str:
        shown = list(items[: self.max_results])
        if not shown:
            return "I have no suggestions right now."
        return f"You may like {spoken_list([named(i) for i in shown])}. Shall I add one?"

    # --- cart -------------------------------------------------------------------------------
    def ask_quantity(self, item: Item) -> str:
        return f"How many {item.name}?" if self.short else f"{intro(item)} How many would you like?"

    def confirm_quantity(self, quantity: int, item: Item) -> str:
        return (f"Did you really mean {quantity} of {title(item)}? That's a lot. "
                "Say yes to add them, or tell me how many.")

    def confirm_reorder_quantity(self, quantity: int, item: Item) -> str:
        return (f"Did you really mean to order {quantity} of {title(item)} again? That's a lot. "
                "Say yes, or tell me how many.")

    def added(self, line: CartLine, quantity: int, suggestion: Item | None) -> str:
        item = line.item
        text = f"Added {counted(quantity, item)}."
        if self.short:
            return f"{text} Anything else?"
        text += f" That's {money(item.price_cents * quantity)}."
        if suggestion is not None:
            text += f" You may also like {intro(suggestion)}"
        return f"{text} Anything else?"

    def removed(self, item: Item, state: DialogState) -> str:
        if not state.cart:
            return f"Removed {title(item)}. Your cart is empty."
        return f"Removed {title(item)}. Your cart total is {money(state.cart_total_cents)}."

    def reduced(self, line: CartLine) -> str:
        return f"Now {counted(line.quantity, line.item)} in your cart."

    def not_in_cart(self, what: str) -> str:
        return f"{what} isn't in your cart."

    def cart(self, state: DialogState) -> str:
        if not state.cart:
            return "Your cart is empty."
        count = state.cart_count
        noun = "item" if count == 1 else "items"
        if self.short:
            names = ", ".join(counted(ln.quantity, ln.item) for ln in state.cart)
            return f"{count} {noun}: {names}. Total {money(state.cart_total_cents)}."
        lines = "; ".join(f"{counted(ln.quantity, ln.item)}, {money(ln.total_cents)}" for ln in state.cart)
        return f"Your cart has {count} {noun}: {lines}. The total is {money(state.cart_total_cents)}."

    # --- orders -----------------------------------------------------------------------------
    def read_back(self, lines: Sequence[CartLine], total_cents: int, *, reorder: bool = False) -> str:
        """Everything that will be ordered and the total, then the explicit question."""
        if self.short:
            items = ", ".join(counted(ln.quantity, ln.item) for ln in lines)
        else:
            items = "; ".join(f"{counted(ln.quantity, ln.item)}, {money(ln.total_cents)}" for ln in lines)
        head = "Ordering again:" if reorder else "You're ordering"
        return f"{head} {items}. The total is {money(total_cents)}. Shall I place the order? Say yes or no."

    def ask_pin(self, total_cents: int, limit_cents: int, spent_cents: int = 0) -> str:
        if spent_cents:
            return (f"With {money(spent_cents)} already ordered recently, {money(total_cents)} more is over your "
                    f"spending limit of {money(limit_cents)}. Please say your 4-digit PIN.")
        return (f"{money(total_cents)} is over your spending limit of {money(limit_cents)}. "
                "Please say your 4-digit PIN.")

    def placed(self, order_id: int, total_cents: int) -> str:
        """Spoken confirmation, true as soon as the order is durable in the outbox.

        Whether it has reached the store is a second sentence (`sync_outcome`), so a device can
        say this one while the cloud's ack is still on its way.
        """
        return f"Done. Order number {order_id}, {money(total_cents)}, is placed."

    def sync_outcome(self, state: str) -> str:
        """Says honestly whether a placed order has left the device yet."""
        if state in ("sent", "acked", "shipped", "delivered"):
            return "It's sent to the store."
        return "It's queued on this device and will be sent as soon as it's online."

    def cheaper(self, charged_cents: int) -> str:
        """The store's prices came down since the read-back: it charges less, and the user hears so."""
        return f"The store's total is lower than I said: {money(charged_cents)}."

    def status(self, order_id: int, state: str, age_minutes: int) -> str:
        if age_minutes < 1:
            when = "just now"
        elif age_minutes < 120:
            when = f"{age_minutes} minutes ago"
        else:
            when = f"{age_minutes // 60} hours ago"
        return f"Your order number {order_id}, placed {when}, {STATUS_WORDS.get(state, f'is {state}')}."

    def ask_cancel(self, order_id: int, total_cents: int) -> str:
        return f"Cancel order number {order_id}, {money(total_cents)}? Say yes or no."

    def cancelled(self, order_id: int) -> str:
        return f"Order number {order_id} is cancelled."

    # --- conversation -------------------------------------------------------------------------
    def anything_else(self) -> str:
        return "OK. Anything else?"

    def help(self) -> str:
        if self.short:
            return "Say what you need, like: add milk, what's in my cart, or check out."
        return ("You can ask me to find a product, tell you a price, add or remove items, read your cart, "
                "and check out. I can also tell you about your order, reorder, cancel a recent order, suggest "
                "products, and answer questions about returns, delivery and opening hours.")

    def reprompt(self, question: str) -> str:
        return f"Sorry, I didn't catch that. {question}".strip() if question else \
            "Sorry, I didn't catch that. Could you say it again?"

    def fallback(self) -> str:
        return "I'm not sure I can help with that. Say help to hear what I can do."

    def join(self, *sentences: str) -> str:
        """Sentences said one after another (English puts a space between them)."""
        return " ".join(part.strip() for part in sentences if part.strip())

    # --- the handlers' own sentences (one method each, so every language words them) -------------
    def verdict(self) -> str:
        """Said after a product only when it is the best value among the results (best_value)."""
        return "Good value."

    def error(self) -> str:
        return "Sorry, something went wrong on my side. Please try again."

    def timeout(self, pending: str | None, cart_kept: bool) -> str:
        """Nobody answered the question `pending` (a Pending kind); "" when nothing was asked."""
        if pending is None:
            return ""
        if pending in ("checkout", "pin"):
            return f"I didn't hear an answer, so I haven't placed the order.{' Your cart is saved.' if cart_kept else ''}"
        if pending == "cancel_order":
            return "I didn't hear an answer, so your order stays as it is."
        return "I didn't hear an answer. Just ask when you need me."

    # cart
    def unclear_quantity(self, value: float, most: int) -> str:
        heard = f"minus {-value:g}" if value < 0 else f"{value:g}"
        return f"I heard {heard}, but I can only use whole numbers from 1 to {most}."

    def ask_again(self, unclear: str, item: Item) -> str:
        return f"{unclear} How many {item.name} would you like?"

    def out_of_stock(self, item: Item) -> str:
        return f"Sorry, {item.name} is out of stock right now."

    def at_most(self, most: int) -> str:
        return f"I can add at most {most} of one product. How many would you like?"

    def unclear_what_to_add(self, unclear: str) -> str:
        return f"{unclear} What would you like to add, and how many?"

    def which_one(self) -> str:
        return "Which one would you like?"

    def which_one_again(self, count: int) -> str:
        options = ", ".join(("first", "second", "third", "fourth", "fifth")[: min(count, 5)])
        return f"Which one? Say {options}, or the brand."

    def still_which(self) -> str:
        return "Sorry, I still didn't get which one. Ask again any time."

    def what_to_add(self) -> str:
        return "What would you like to add?"

    def offer(self, item: Item, verdict: str, quantity: int) -> str:
        """A product heard with a quantity but not by its own name: introduce it, then ask."""
        return f"{self.price(item)} {verdict} Shall I add {quantity}?".replace("  ", " ")

    def in_packs(self, item: Item) -> str:
        """An amount that is no whole number of the item's packs was asked for."""
        return f"{title(item)} comes in a {size(item)}. How many would you like?"

    def not_added(self, item: Item) -> str:
        return f"OK, I didn't add {item.name}. Anything else?"

    def say_a_number(self, item: Item) -> str:
        return f"How many {item.name}? Say a number."

    def cart_empty(self) -> str:
        return "Your cart is empty."

    def which_to_remove(self, state: DialogState) -> str:
        return "Which item should I remove? " + self.cart(state)

    def confirm_remove(self, item: Item) -> str:
        """A remove request read from words that only sound like one: ask before the cart changes."""
        return f"Shall I remove {title(item)} from your cart?"

    def cart_unchanged(self, unclear: str, state: DialogState) -> str:
        return f"{unclear} I left your cart as it is: {self.cart(state)}"

    # browsing
    def what_looking_for(self) -> str:
        return "What are you looking for?"

    def under_price(self, query: str, max_price: float) -> str:
        """A search's words with its price cap, as said back in "I couldn't find ..."."""
        return f"{query} under ${max_price:g}"

    def no_faq_answer(self) -> str:
        return "I don't have an answer to that. I can tell you about returns, delivery fees and opening hours."

    def nothing_to_confirm(self) -> str:
        return "There's nothing to confirm right now. What would you like to do?"

    def ok(self) -> str:
        return "OK."

    # orders
    def purchasing_off(self) -> str:
        return "Ordering is switched off on this device. You can still browse and build a cart."

    def purchasing_locked(self) -> str:
        return "Purchasing is locked after too many wrong PINs. The device owner can unlock it."

    def over_limit_no_pin(self, total_cents: int, limit_cents: int, spent_cents: int) -> str:
        so_far = f" (with {money(spent_cents)} already ordered in this period)" if spent_cents else ""
        return (f"Your total of {money(total_cents)} is over the spending limit of {money(limit_cents)}{so_far}, "
                "and no PIN is set up on this device, so I can't place this order. You could remove something "
                "from the cart.")

    def over_limit_now(self, after_cents: int, limit_cents: int) -> str:
        return (f"That would bring your spending to {money(after_cents)}, over the limit of {money(limit_cents)}, "
                "and no PIN is set up, so I haven't placed it.")

    def nothing_to_check_out(self) -> str:
        return "Your cart is empty, so there's nothing to check out. What would you like to add?"

    def not_placed(self, cart_kept: bool) -> str:
        return f"OK, I won't place the order.{' Your cart is saved.' if cart_kept else ''}"

    def no_clear_yes(self, cart_kept: bool) -> str:
        return f"I didn't hear a clear yes, so I haven't placed the order.{' Your cart is saved.' if cart_kept else ''}"

    def clear_yes_please(self, question: str) -> str:
        return f"Sorry, I didn't catch that. I need a clear yes or no. {question}"

    def no_pin_heard(self) -> str:
        return "I didn't hear a 4-digit PIN, so I haven't placed the order."

    def pin_locked_now(self) -> str:
        return ("That PIN is wrong again. Purchasing is now locked until the device owner unlocks it. "
                "Nothing was ordered.")

    def pin_again(self) -> str:
        return "That PIN didn't match. Please say it again, or say cancel."

    def order_refused(self, detail: str) -> str:
        return f"Sorry, I couldn't place that order: {detail}. Nothing was ordered."

    def not_recorded(self, reason: str, cart_kept: bool) -> str:
        """The outbox could not store a confirmed order; reason is storage_full, outbox_damaged or outbox_failed."""
        why = {"storage_full": "this device's storage is full",
               "outbox_damaged": "the device's order store is damaged"}.get(reason, "the device could not save it")
        return f"Sorry, I couldn't place that order: {why}. Nothing was ordered.{' Your cart is still there.' if cart_kept else ''}"

    def price_rose(self, new_cents: int, quoted_cents: int) -> str:
        return (f"But the store's total is now {money(new_cents)}, not {money(quoted_cents)}: its prices went up, "
                f"so the order did not go through. Shall I order it at {money(new_cents)}? Say yes or no.")

    def store_refused(self, why: str) -> str:
        return f"But the store could not take it ({why or 'no reason given'}), so nothing was ordered."

    def no_orders(self) -> str:
        return "You don't have any orders yet."

    def status_refused(self, charged_cents: int | None, quoted_cents: int) -> str:
        """Added to a cancelled order's status: the store refused it (at a higher total, when given)."""
        if charged_cents:
            return (f" The store did not take it: its total was {money(charged_cents)}, more than the "
                    f"{money(quoted_cents)} you said yes to. Check out again to order at today's price.")
        return " The store did not take it, so nothing was charged."

    def status_cancel_pending(self) -> str:
        return " You asked to cancel it, and the store hasn't answered yet."

    def no_history(self, product: str) -> str:
        return f"I can't find {product} in your past orders." if product else "I don't have a previous order to repeat."

    def reorder_unclear(self, unclear: str) -> str:
        return f"{unclear} Say the reorder again with a whole number."

    def none_available(self) -> str:
        return "None of those items are available right now."

    def reorder_at_most(self, most: int) -> str:
        return f"I can order at most {most} of one product, so I haven't reordered."

    def left_out(self, missing: Sequence[str]) -> str:
        return f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not available, so I left them out. "

    def not_reordered(self, unclear: str = "") -> str:
        return f"{unclear} I haven't reordered." if unclear else "OK, I haven't reordered. Anything else?"

    def nothing_to_cancel(self) -> str:
        return "You don't have an order that can be cancelled."

    def already_shipped(self, order_id: int) -> str:
        return f"Your order {order_id} has already shipped, so it can't be cancelled."

    def cancel_too_late(self, order_id: int, minutes: int) -> str:
        return f"Your order {order_id} was placed more than {minutes} minutes ago, so it can't be cancelled by voice anymore."

    def order_stays(self) -> str:
        return "OK, your order stays as it is."

    def cancel_failed(self, detail: str) -> str:
        return f"Sorry, I couldn't cancel it: {detail}."

    def cancel_requested(self, order_id: int) -> str:
        return f"I've asked the store to cancel order {order_id}. I'll know once they answer."


def replies_for(language: str, *, max_results: int, short: bool) -> Any:
    """The reply wording for the device's language ([device] language): English, or Mandarin (RepliesZh)."""
    if language == "zh":
        from edge.dialog.replies_zh import RepliesZh

        return RepliesZh(max_results=max_results, short=short)
    return Replies(max_results=max_results, short=short)
