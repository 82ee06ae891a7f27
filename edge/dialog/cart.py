"""Turns that change the cart, and the answers to the questions they ask (which one, how many).

The seed's flow lives here: "I want to buy apples" introduces the best match with its price and
asks how many; the answer adds it and offers "you may also like ...". Quantities above
settings.dialog.max_quantity are questioned before they reach the cart ("500 TVs?").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.dialog.browse import suggestions
from edge.dialog.linking import NAME_MATCH, cart_pick, name_score
from edge.dialog.replies import Replies, best_value
from edge.dialog.state import CartLine, Item, Pending
from edge.dialog.wording_zh import pack_of
from edge.events import Reply, Understanding
from edge.wire import MAX_QUANTITY

if TYPE_CHECKING:
    from edge.dialog.engine import Dialog

# Intents a turn can carry and still be the answer to "which one?" / "how many?". A choice among
# results is add_to_cart by the NLU's convention; "how much is the second one" is a price question
# about a result; "yes" to "shall I add it" is confirm.
ANSWER_INTENTS = frozenset({"add_to_cart", "confirm", "price_query", "search", "other"})


def whole_quantity(value: Any) -> int | None:
    """A whole, positive quantity from the slot, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not value >= 1 or float(value) != int(value):  # `not >=` also catches NaN
        return None
    return int(value)


_quantity = whole_quantity


def _unit(u: Understanding) -> str:
    return str(u.slots.get("unit") or "").strip()


def unclear_quantity(value: Any, replies: Replies) -> str:
    """What to say about a quantity that was heard but cannot be used ("minus two", "2.5", "half"),
    or "" when it is fine or absent. Such a number is said back and asked about, never rounded or
    turned into something else (issue 15: "-2" and "two and a half" silently became 2)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or whole_quantity(value) is not None:
        return ""
    return replies.unclear_quantity(value, MAX_QUANTITY)


def _ask_again(d: Dialog, item: Item, unclear: str, heard: Any) -> Reply:
    return d.say(d.replies.ask_again(unclear, item), ask=Pending("quantity", {"item": item}),
                 actions=[{"type": "quantity_unclear", "heard": heard, "product_id": item.product_id}])


def add_item(d: Dialog, item: Item, quantity: int | None, *, checked: bool = False, unit: str = "") -> Reply:
    """Put item x quantity in the cart, asking first when the quantity is missing or unusual.

    unit: the unit the quantity was said in; "六斤" of 3斤 packs is two packs (wording_zh.pack_of),
    and an amount that is no whole number of packs ("四斤") is asked about, never rounded.
    """
    d.state.focus = item
    pack = pack_of(item, unit)
    if quantity is not None and pack is not None:
        if quantity % pack:
            return d.say(d.replies.in_packs(item), ask=Pending("quantity", {"item": item}),
                         actions=[{"type": "quantity_unclear", "heard": f"{quantity}{unit}",
                                   "product_id": item.product_id}])
        quantity //= pack
    if quantity is None:
        return d.say(d.replies.ask_quantity(item), ask=Pending("quantity", {"item": item}))
    if not item.in_stock:
        return d.anything_else(d.replies.out_of_stock(item),
                               [{"type": "out_of_stock", "product_id": item.product_id}])
    if quantity > MAX_QUANTITY:
        return d.say(d.replies.at_most(MAX_QUANTITY),
                     ask=Pending("quantity", {"item": item}))
    if quantity > d.settings.dialog.max_quantity and not checked:
        return d.say(d.replies.confirm_quantity(quantity, item),
                     ask=Pending("confirm_quantity", {"item": item, "quantity": quantity}))
    line = d.state.add(item, quantity)
    suggestion = None
    if not d.replies.short:
        found = suggestions(d, [ln.item.product_id for ln in d.state.cart if ln.item is not item] + [item.product_id],
                            1, like=item)
        suggestion = found[0] if found else None
    action = {"type": "add_to_cart", "product_id": item.product_id, "sku": item.sku, "name": item.name,
              "quantity": quantity, "unit_price_cents": item.price_cents}
    if suggestion is not None:
        d.state.last_results = [suggestion]
    return d.anything_else(d.replies.added(line, quantity, suggestion), [action])


def add_to_cart(d: Dialog, u: Understanding) -> Reply:
    """'Add two bags of Fuji apples', 'I want to buy apples', 'the second one', 'add it'."""
    quantity = _quantity(u.slots.get("quantity"))
    unclear = unclear_quantity(u.slots.get("quantity"), d.replies)
    item = d.linker.refer(u.slots, d.state)
    if item is not None and u.repaired and not unclear:  # "add" was not heard, only read: ask first
        d.state.focus = item
        return d.say(d.replies.offer(item, "", quantity or 1),
                     ask=Pending("confirm_add", {"item": item, "quantity": quantity or 1}))
    if item is not None:
        return _ask_again(d, item, unclear, u.slots.get("quantity")) if unclear else add_item(d, item, quantity)
    if unclear:
        found = d.linker.lookup(u.slots, limit=1) if u.slots.get("product") or u.slots.get("brand") else None
        if found is not None and found.items:
            d.state.last_results = [found.items[0]]
            d.state.focus = found.items[0]
            return _ask_again(d, found.items[0], unclear, u.slots.get("quantity"))
        return d.anything_else(d.replies.unclear_what_to_add(unclear),
                               [{"type": "quantity_unclear", "heard": u.slots.get("quantity")}])
    named_nothing = not (u.slots.get("product") or u.slots.get("brand"))
    if named_nothing and d.state.last_results and u.slots.get("ordinal") is None:
        return d.say(d.replies.which_one(), ask=Pending("choose_product", {"quantity": quantity}))
    found = d.linker.refine(u.slots, d.state, d.replies.max_results)
    if not found.items:  # the line's text: a product heard outside the (garbled or empty) product slot
        found = d.linker.lookup(u.slots, limit=d.replies.max_results, text=u.text or "")
    if named_nothing and not found.items:
        return d.anything_else(d.replies.what_to_add())
    if not found.items:
        return d.anything_else(d.replies.not_found(found.query), [{"type": "not_found", "query": found.query}])
    top = found.items[0]
    d.state.last_results = [top]
    d.state.focus = top
    spoken = str(u.slots.get("product") or "") if found.spoken is None else found.spoken
    # Only words that name the product put it straight in the cart; a product heard like them is offered.
    named = found.sure and spoken and name_score(spoken, top.name) >= NAME_MATCH and not u.repaired
    if quantity is not None and named:
        return add_item(d, top, quantity, unit=_unit(u))
    verdict = d.replies.verdict() if best_value(found.items) is top and not d.replies.short else ""
    if quantity is not None:
        return d.say(d.replies.offer(top, verdict, quantity),
                     ask=Pending("confirm_add", {"item": top, "quantity": quantity}))
    # The seed's flow: introduce the product with its price, then ask for the amount.
    return d.say(d.replies.single(top, verdict), ask=Pending("quantity", {"item": top}),
                 actions=[{"type": "results", "product_ids": [top.product_id]}])


def _cart_line(d: Dialog, slots: dict[str, Any]) -> CartLine | None:
    """The cart line a remove request names (product or brand words, else the item in focus)."""
    cart = d.state.cart
    words = " ".join(str(slots.get(k) or "") for k in ("brand", "product")).strip()
    if words:
        index = cart_pick(words, [(ln.item.brand, ln.item.name) for ln in cart])
        return None if index is None else cart[index]
    ordinal = slots.get("ordinal")
    if isinstance(ordinal, (int, float)) and 1 <= int(ordinal) <= len(cart):
        return cart[int(ordinal) - 1]
    if d.state.focus is not None:
        for line in cart:
            if line.item.product_id == d.state.focus.product_id:
                return line
    return cart[0] if len(cart) == 1 else None


def remove_from_cart(d: Dialog, u: Understanding) -> Reply:
    if not d.state.cart:
        return d.anything_else(d.replies.cart_empty())
    line = _cart_line(d, u.slots)
    if line is None and u.text:  # the slot named no cart line: one the whole request sounds like
        index = d.linker.in_cart(u.text, [ln.item.name for ln in d.state.cart])
        line = None if index is None else d.state.cart[index]
    if line is None:
        what = str(u.slots.get("product") or "").strip()
        if what:
            return d.anything_else(d.replies.not_in_cart(what), [{"type": "not_in_cart", "query": what}])
        return d.anything_else(d.replies.which_to_remove(d.state))
    unclear = unclear_quantity(u.slots.get("quantity"), d.replies)
    if unclear:
        return d.anything_else(d.replies.cart_unchanged(unclear, d.state),
                               [{"type": "quantity_unclear", "heard": u.slots.get("quantity")}])
    quantity = _quantity(u.slots.get("quantity"))
    if u.repaired:  # "remove" was not heard, only read from words that sound like it: ask first
        return d.say(d.replies.confirm_remove(line.item),
                     ask=Pending("confirm_remove", {"item": line.item, "quantity": quantity}))
    return _remove_line(d, line, quantity)


def _remove_line(d: Dialog, line: CartLine, quantity: int | None) -> Reply:
    """Take quantity (all when None or not less than the line's) of a cart line out of the cart."""
    item = line.item
    action = {"type": "remove_from_cart", "product_id": item.product_id, "sku": item.sku}
    if quantity is not None and quantity < line.quantity:
        line.quantity -= quantity
        return d.anything_else(d.replies.reduced(line), [{**action, "quantity": quantity}])
    d.state.cart.remove(line)
    if d.state.focus is not None and d.state.focus.product_id == item.product_id:
        d.state.focus = None
    return d.anything_else(d.replies.removed(item, d.state), [{**action, "quantity": line.quantity}])


def view_cart(d: Dialog, u: Understanding) -> Reply:
    return d.anything_else(d.replies.cart(d.state), [{"type": "view_cart", "total_cents": d.state.cart_total_cents}])


# --- answers to this module's questions ----------------------------------------------------------
def answer_choose(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    """'Which one would you like?' <- 'the second one' / 'the Sunny Farms one' / a name again."""
    if u.intent == "deny":
        return d.anything_else(d.replies.anything_else(), [{"type": "stopped"}])
    if u.intent not in ANSWER_INTENTS:
        return None
    item = d.linker.refer(u.slots, d.state)
    if item is None and u.slots.get("brand") and not u.slots.get("product"):
        refined = d.linker.refine(u.slots, d.state, d.replies.max_results)
        item = refined.items[0] if refined.items else None
    if item is None:
        if u.slots.get("product") or u.slots.get("brand"):
            return None  # a different product: a new request, handled by its intent
        if pending.data.get("asked_again"):
            return d.anything_else(d.replies.still_which())
        n = len(d.state.last_results)
        heard = _quantity(u.slots.get("quantity")) or pending.data.get("quantity")
        return d.say(d.replies.which_one_again(n),
                     ask=Pending("choose_product", {"quantity": heard, "asked_again": True}))
    if u.intent == "price_query":
        d.state.focus = item
        return d.anything_else(d.replies.price(item), [{"type": "price", "product_id": item.product_id}])
    unclear = unclear_quantity(u.slots.get("quantity"), d.replies)
    if unclear:
        return _ask_again(d, item, unclear, u.slots.get("quantity"))
    quantity = _quantity(u.slots.get("quantity")) or pending.data.get("quantity")
    return add_item(d, item, quantity, unit=_unit(u))


def answer_quantity(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    """'How many would you like?' <- 'two', 'three bags', 'two please'."""
    item: Item = pending.data["item"]
    if u.intent in ("deny", "cancel_order"):
        return d.anything_else(d.replies.not_added(item), [{"type": "stopped"}])
    quantity = _quantity(u.slots.get("quantity"))
    product = str(u.slots.get("product") or "")
    if product and name_score(product, item.name) < NAME_MATCH:
        return None  # another product named: a new request
    if quantity is not None and u.intent in ANSWER_INTENTS:
        return add_item(d, item, quantity, unit=_unit(u))
    unclear = unclear_quantity(u.slots.get("quantity"), d.replies)
    if unclear and u.intent in ANSWER_INTENTS | {"deny"}:
        return _ask_again(d, item, unclear, u.slots.get("quantity"))
    if u.intent == "confirm":
        return d.say(d.replies.say_a_number(item), ask=Pending("quantity", {"item": item}))
    return None


def answer_confirm_add(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    """'Shall I add it?' <- 'yes' / 'two of them' / 'no'."""
    item: Item = pending.data["item"]
    quantity = _quantity(u.slots.get("quantity"))
    unclear = unclear_quantity(u.slots.get("quantity"), d.replies)
    if unclear and u.intent in ANSWER_INTENTS | {"deny"}:
        return _ask_again(d, item, unclear, u.slots.get("quantity"))
    if u.intent == "confirm":
        return add_item(d, item, quantity or pending.data.get("quantity") or 1)
    if u.intent in ("deny", "cancel_order"):
        return d.anything_else(d.replies.anything_else(), [{"type": "stopped"}])
    if u.intent == "add_to_cart" and not u.slots.get("product") and not u.slots.get("ordinal"):
        return add_item(d, item, quantity or pending.data.get("quantity"), unit=_unit(u) if quantity else "")
    return None


def answer_confirm_quantity(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    """'Did you really mean 500?' <- 'yes' (adds them) / 'no, five' / 'no'."""
    item: Item = pending.data["item"]
    quantity = _quantity(u.slots.get("quantity"))
    unclear = unclear_quantity(u.slots.get("quantity"), d.replies)
    if unclear and u.intent in ANSWER_INTENTS | {"deny"}:
        return _ask_again(d, item, unclear, u.slots.get("quantity"))
    if u.intent == "confirm" and quantity is None:
        return add_item(d, item, pending.data["quantity"], checked=True)
    if quantity is not None and u.intent in ANSWER_INTENTS | {"deny"}:
        return add_item(d, item, quantity)
    if u.intent in ("deny", "cancel_order"):
        return d.anything_else(d.replies.not_added(item), [{"type": "stopped"}])
    return None


def answer_confirm_remove(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    """'Shall I remove the chickpeas?' <- 'yes' (removes them, if still in the cart) / 'no'."""
    item: Item = pending.data["item"]
    if u.intent == "confirm":
        line = next((ln for ln in d.state.cart if ln.item.product_id == item.product_id), None)
        if line is None:
            return d.anything_else(d.replies.cart(d.state))
        return _remove_line(d, line, pending.data.get("quantity"))
    if u.intent in ("deny", "cancel_order"):
        return d.anything_else(d.replies.anything_else(), [{"type": "stopped"}])
    return None


INTENTS = {
    "add_to_cart": add_to_cart,
    "remove_from_cart": remove_from_cart,
    "view_cart": view_cart,
}

PENDING = {
    "choose_product": answer_choose,
    "quantity": answer_quantity,
    "confirm_add": answer_confirm_add,
    "confirm_quantity": answer_confirm_quantity,
    "confirm_remove": answer_confirm_remove,
}
