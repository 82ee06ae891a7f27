"""Turns that buy, and everything guarding them: checkout, PIN, order status, reorder, cancel.

Purchase safety, in one place:
- An order is placed only by `place_order`, reached only from the answer to a read-back (`checkout`
  pending) that is an explicit yes (`is_yes`: a closed-list yes phrase and the model's confident
  `confirm`, both), or from a correct PIN given right after that confirm. The
  pending question lives one turn (see engine), so a "yes" later confirms nothing.
- Spending above settings.dialog.spending_limit_cents within the rolling spending_window_seconds
  (every confirmed order in the window, reorders included, plus this one) needs the 4-digit voice
  PIN; without a PIN set, such orders are refused. Three wrong PINs in a row lock purchasing (PurchaseGuard, persisted).
- settings.dialog.purchasing_enabled = false refuses checkout and reorder; browsing still works.
- Everything is re-checked at the moment of placing, not only when the read-back was made.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from edge.dialog import cart
from edge.dialog.assent import explicit_yes
from edge.dialog.guard import is_hesitation, spoken_digits
from edge.dialog.linking import NAME_MATCH, name_score
from edge.dialog.state import CartLine, Pending
from edge.events import Reply, Understanding
from edge.orders import OrderError
from edge.orders.db import damaged_message, is_damage
from edge.storage import full_message, is_disk_full
from edge.wire import MAX_QUANTITY

if TYPE_CHECKING:
    from edge.dialog.engine import Dialog

log = logging.getLogger("edge.dialog.orders")

# Order states that mean "still going" for status questions and cancellation.
OPEN_STATES = ("confirmed", "queued", "sent", "acked", "shipped")
LEAVE_INTENTS = ("deny", "cancel_order")


def _blocked(d: Dialog) -> Reply | None:
    """Why no order can be placed right now, or None when purchasing is allowed."""
    if not d.settings.dialog.purchasing_enabled:
        return d.anything_else(d.replies.purchasing_off(),
                               [{"type": "refused", "reason": "purchasing_disabled"}])
    try:
        locked = d.guard.locked
    except (sqlite3.Error, OSError) as exc:  # the PIN lock cannot be read (a full disk): refuse, don't guess
        return _not_recorded(d, exc)
    if locked:
        return d.anything_else(d.replies.purchasing_locked(),
                               [{"type": "refused", "reason": "pin_locked"}])
    return None


def _total(lines: list[CartLine]) -> int:
    return sum(line.total_cents for line in lines)


def spent(d: Dialog) -> int:
    """What confirmed orders in the rolling window add up to (cents), reorders included; an order
    the cloud charged more for counts at the charged amount."""
    return int(d.outbox.spent_since(d.clock() - d.settings.dialog.spending_window_seconds))


def _over_limit(d: Dialog, total: int) -> bool:
    return spent(d) + total > d.settings.dialog.spending_limit_cents


def _read_back(d: Dialog, lines: list[CartLine], source: str) -> Reply:
    """Read back items and total, and wait for an explicit yes in the very next turn."""
    total = _total(lines)
    limit = d.settings.dialog.spending_limit_cents
    if _over_limit(d, total) and not d.guard.has_pin:
        already = spent(d)
        return d.anything_else(
            d.replies.over_limit_no_pin(total, limit, already),
            [{"type": "refused", "reason": "over_limit_no_pin", "total_cents": total, "spent_cents": already}])
    text = d.replies.read_back(lines, total, reorder=source == "reorder")
    return d.say(text, ask=Pending("checkout", {"lines": lines, "total": total, "source": source}),
                 actions=[{"type": "read_back", "total_cents": total, "source": source}])


def checkout(d: Dialog, u: Understanding) -> Reply:
    blocked = _blocked(d)
    if blocked is not None:
        return blocked
    if not d.state.cart:
        return d.anything_else(d.replies.nothing_to_check_out(),
                               [{"type": "refused", "reason": "empty_cart"}])
    lines = [CartLine(line.item, line.quantity) for line in d.state.cart]
    return _read_back(d, lines, "cart")


def is_yes(d: Dialog, u: Understanding) -> bool:
    """An explicit yes: one of the closed list of yes phrases AND the model reading `confirm` with
    high confidence. Either alone is not enough (the model alone read "maybe" as confirm at 0.74).

    At the read-back, "checkout" read with the same confidence is a yes too when the words are all on
    the yes list: "好的，下单吧" (OK, place the order) is what a Mandarin speaker says to "确认下单吗？",
    and the zh NLU reads 下单 as checkout; the closed list still decides what counts as a yes."""
    return (u.intent in ("confirm", "checkout") and u.confidence >= d.settings.dialog.confirm_min_confidence
            and explicit_yes(u.text, d.settings.device.language))


def answer_checkout(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    """The turn right after the read-back: only an explicit yes goes on.

    A clear no stops; a clear other request (confidently not confirm/other, and not a hesitation)
    drops the order and is served (None). Anything else (a hedge, a question, a filler, noise, a
    yes the model doubts) asks again once, repeating the read-back, then drops the pending order.
    """
    sure = u.confidence >= d.settings.nlu.min_confidence and not is_hesitation(u.text)
    if is_yes(d, u):
        return _confirmed(d, pending)
    if sure and u.intent in LEAVE_INTENTS:
        return d.anything_else(d.replies.not_placed(_kept(pending)),
                               [{"type": "stopped", "pending": "checkout"}])
    if sure and u.intent not in ("confirm", "other"):
        return None
    if pending.data.get("asked_again"):
        return d.anything_else(d.replies.no_clear_yes(_kept(pending)),
                               [{"type": "stopped", "pending": "checkout", "reason": "no_clear_yes"}])
    text = pending.data.get("question") or d.replies.read_back(pending.data["lines"], pending.data["total"],
                                                               reorder=pending.data["source"] == "reorder")
    again = Pending("checkout", {**pending.data, "asked_again": True})
    return d.say(d.replies.clear_yes_please(text), ask=again,
                 actions=[{"type": "reprompt"}, {"type": "read_back", "total_cents": pending.data["total"],
                                                 "source": pending.data["source"]}])


def _kept(pending: Pending) -> bool:
    """Whether the read-back came from the cart, which stays when the order is not placed."""
    return pending.data.get("source") == "cart"


def _confirmed(d: Dialog, pending: Pending) -> Reply:
    """The user said yes to the read-back: the limit decides between placing and asking for the PIN."""
    total = pending.data["total"]
    if _over_limit(d, total):
        blocked = _blocked(d)
        if blocked is not None:
            return blocked
        already = spent(d)
        if not d.guard.has_pin:  # spending moved on since the read-back (an order from another turn)
            return d.anything_else(
                d.replies.over_limit_now(already + total, d.settings.dialog.spending_limit_cents),
                [{"type": "refused", "reason": "over_limit_no_pin", "total_cents": total, "spent_cents": already}])
        return d.say(d.replies.ask_pin(total, d.settings.dialog.spending_limit_cents, already),
                     ask=Pending("pin", pending.data),
                     actions=[{"type": "pin_required", "total_cents": total, "spent_cents": already}])
    return place_order(d, pending.data["lines"], total, pending.data["source"])


def answer_pin(d: Dialog, u: Understanding, pending: Pending) -> Reply:
    """The PIN turn: digits are checked; "cancel" leaves; anything else places nothing."""
    if not spoken_digits(u.text):
        if u.intent in LEAVE_INTENTS and u.confidence >= d.settings.nlu.min_confidence:
            return d.anything_else(d.replies.not_placed(False), [{"type": "stopped", "pending": "pin"}])
        return d.anything_else(d.replies.no_pin_heard(),
                               [{"type": "refused", "reason": "no_pin"}])
    if d.guard.check(u.text):
        return place_order(d, pending.data["lines"], pending.data["total"], pending.data["source"])
    failures = d.guard.failures
    action = {"type": "pin_failed", "failures": failures}
    if d.guard.locked:
        return d.anything_else(d.replies.pin_locked_now(), [action, {"type": "purchasing_locked"}])
    return d.say(d.replies.pin_again(), ask=pending, actions=[action])


def place_order(d: Dialog, lines: list[CartLine], total: int, source: str) -> Reply:
    """Queue the order in the outbox (the only call that does), then nudge the sync client."""
    blocked = _blocked(d)
    if blocked is not None:
        return blocked
    wire_lines = [{"sku": ln.item.sku, "name": ln.item.name, "quantity": ln.quantity,
                   "unit_price_cents": ln.item.price_cents} for ln in lines]
    try:
        # After a price rise the user agreed to the cloud's new total, not the lines' sum: that total
        # goes in the order, and the cloud charges at most it.
        order = d.outbox.confirm(wire_lines, total_cents=total if source == "price_change" else None,
                                 currency=lines[0].item.currency if lines else "USD")
    except OrderError as exc:
        return d.anything_else(d.replies.order_refused(str(exc)),
                               [{"type": "refused", "reason": "outbox", "detail": str(exc)}])
    except (sqlite3.Error, OSError) as exc:  # the outbox could not record it: say why, keep the cart
        return _not_recorded(d, exc, kept=source == "cart")
    if source == "cart":
        d.state.cart.clear()
    d.state.orders.append(str(order.id))
    if d.sync is not None:
        try:
            d.sync(order.id)
        except Exception as exc:  # offline or broker trouble: the order is safe in the outbox either way
            log.info("order %s stays queued: sync failed (%s)", order.id, exc)
    state = _state_of(d, order.id, order.state)
    action = {"type": "order_queued", "order_id": order.id, "idempotency_key": order.key,
              "total_cents": total, "state": state}
    text = d.replies.placed(order.id, total)
    if not d.outcome_later:
        text = d.replies.join(text, d.replies.sync_outcome(state))
    return d.anything_else(text, [action])


def _not_recorded(d: Dialog, exc: BaseException, *, kept: bool = False) -> Reply:
    """The reply when the outbox failed to store a confirmed order: nothing was ordered, the cart stays."""
    path = getattr(d.outbox, "path", None)
    if is_disk_full(exc, path):
        log.error("order not placed: %s", full_message(path or ".", "the order could not be saved"))
        reason = "storage_full"
    elif is_damage(exc):
        log.error("order not placed: %s", damaged_message(path, str(exc), None))
        reason = "outbox_damaged"
    else:
        log.exception("order not placed: the outbox failed")
        reason = "outbox_failed"
    return d.anything_else(d.replies.not_recorded(reason, kept),
                           [{"type": "refused", "reason": reason}])


def store_refused(d: Dialog, order: Any) -> Reply:
    """The cloud refused an order the user was told is placed: say so, and when the reason is a
    price rise, say the new total and ask again (a new order, a new explicit yes, the limit and PIN
    checked on the new total). The price confirmed is the price charged (issue 15)."""
    new_total = order.cloud_total_cents or 0
    lines = [CartLine(item, line.quantity) for line in order.lines
             if (item := d.linker.by_sku(line.sku)) is not None]
    base = {"order_id": order.id, "quoted_cents": order.total_cents}
    if order.cloud_code == "price_increased" and new_total > order.total_cents and len(lines) == len(order.lines):
        question = d.replies.price_rose(new_total, order.total_cents)
        return d.say(question, ask=Pending("checkout", {"lines": lines, "total": new_total, "source": "price_change",
                                                       "question": question}),
                     actions=[{"type": "price_changed", **base, "total_cents": new_total},
                              {"type": "read_back", "total_cents": new_total, "source": "price_change"}])
    why = order.detail.removeprefix("rejected by the cloud: ")
    return d.anything_else(d.replies.store_refused(why),
                           [{"type": "store_refused", **base, "code": order.cloud_code}])


def _state_of(d: Dialog, order_id: int, default: str) -> str:
    """The order's state now (after the sync nudge); the confirmation must go out even if this fails."""
    try:
        return str(d.outbox.get(order_id).state)
    except Exception as exc:
        log.warning("could not re-read order %s: %s", order_id, exc)
        return default


def _latest(d: Dialog, states: tuple[str, ...] | None = None) -> Any | None:
    found = d.outbox.list(states=states, limit=1)
    return found[0] if found else None


def order_status(d: Dialog, u: Understanding) -> Reply:
    order = _latest(d)
    if order is None:
        return d.anything_else(d.replies.no_orders(), [{"type": "order_status", "order_id": None}])
    age = int((d.clock() - (order.confirmed_at or order.created_at)) // 60)
    text = d.replies.status(order.id, order.state, max(age, 0))
    if order.state == "cancelled" and order.cloud_code == "price_increased" and order.cloud_total_cents:
        text += d.replies.status_refused(order.cloud_total_cents, order.total_cents)
    elif order.state == "cancelled" and order.cloud_code:
        text += d.replies.status_refused(None, order.total_cents)
    if order.cancel_pending:
        text += d.replies.status_cancel_pending()
    return d.anything_else(text, [{"type": "order_status", "order_id": order.id, "state": order.state}])


def _history_lines(d: Dialog, product: str) -> list[Any]:
    """Lines to order again: the whole last order, or the latest past line naming the product."""
    past = d.outbox.list(states=("confirmed", "queued", "sent", "acked", "shipped", "delivered"), limit=20)
    if not product:
        return list(past[0].lines) if past else []
    for order in past:
        for line in order.lines:
            if name_score(product, line.name) >= NAME_MATCH:
                return [line]
    return []


def reorder(d: Dialog, u: Understanding) -> Reply:
    """Read back the last order (or one product from history) at today's prices; it goes through
    the same confirm, limit and PIN as any checkout."""
    blocked = _blocked(d)
    if blocked is not None:
        return blocked
    product = str(u.slots.get("product") or "").strip()
    previous = _history_lines(d, product)
    if not previous:
        return d.anything_else(d.replies.no_history(product), [{"type": "refused", "reason": "no_history"}])
    heard = u.slots.get("quantity") if product else None
    unclear = cart.unclear_quantity(heard, d.replies)
    if unclear:
        return d.anything_else(d.replies.reorder_unclear(unclear),
                               [{"type": "quantity_unclear", "heard": heard}])
    quantity = cart.whole_quantity(heard)
    lines, missing = [], []
    for line in previous:
        item = d.linker.by_sku(line.sku)
        if item is None or not item.in_stock:
            missing.append(line.name)
        else:
            lines.append(CartLine(item, quantity or line.quantity))
    if not lines:
        return d.anything_else(d.replies.none_available(),
                               [{"type": "refused", "reason": "unavailable"}])
    return _check_reorder(d, lines, missing)


def _check_reorder(d: Dialog, lines: list[CartLine], missing: list[str], *, checked: bool = False) -> Reply:
    """The reorder's read-back, after the same quantity questions add-to-cart asks ("500 bags?")."""
    big = max(lines, key=lambda ln: ln.quantity)
    if big.quantity > MAX_QUANTITY:
        return d.anything_else(d.replies.reorder_at_most(MAX_QUANTITY),
                               [{"type": "refused", "reason": "quantity", "quantity": big.quantity}])
    if big.quantity > d.settings.dialog.max_quantity and not checked:
        return d.say(d.replies.confirm_reorder_quantity(big.quantity, big.item),
                     ask=Pending("confirm_reorder", {"lines": lines, "missing": missing}),
                     actions=[{"type": "confirm_quantity", "product_id": big.item.product_id, "quantity": big.quantity}])
    reply = _read_back(d, lines, "reorder")
    if missing and reply.expects_answer:
        note = d.replies.left_out(missing)
        d.state.last_question = note + reply.text
        return Reply(text=note + reply.text, actions=reply.actions, expects_answer=True)
    return reply


def answer_confirm_reorder(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    """'Did you really mean 500?' on a reorder <- 'yes' (read back) / 'no, five' / 'no'."""
    lines: list[CartLine] = pending.data["lines"]
    unclear = cart.unclear_quantity(u.slots.get("quantity"), d.replies)
    quantity = cart.whole_quantity(u.slots.get("quantity"))
    if unclear:
        return d.anything_else(d.replies.not_reordered(unclear), [{"type": "quantity_unclear"}])
    if quantity is not None and len(lines) == 1 and u.intent in cart.ANSWER_INTENTS | {"deny", "reorder"}:
        return _check_reorder(d, [CartLine(lines[0].item, quantity)], pending.data["missing"])
    if u.intent == "confirm" and u.confidence >= d.settings.nlu.min_confidence:
        return _check_reorder(d, lines, pending.data["missing"], checked=True)
    if u.intent in LEAVE_INTENTS:
        return d.anything_else(d.replies.not_reordered(), [{"type": "stopped", "pending": "confirm_reorder"}])
    return None


def cancel_order(d: Dialog, u: Understanding) -> Reply:
    order = _latest(d, OPEN_STATES)
    if order is None:
        return d.anything_else(d.replies.nothing_to_cancel(),
                               [{"type": "refused", "reason": "nothing_to_cancel"}])
    if order.state == "shipped":
        return d.anything_else(d.replies.already_shipped(order.id),
                               [{"type": "refused", "reason": "shipped", "order_id": order.id}])
    confirmed = order.confirmed_at or order.created_at
    window = d.settings.dialog.cancel_window_seconds
    if d.clock() - confirmed > window:
        return d.anything_else(
            d.replies.cancel_too_late(order.id, window // 60), [{"type": "refused", "reason": "cancel_window", "order_id": order.id}])
    return d.say(d.replies.ask_cancel(order.id, order.total_cents), ask=Pending("cancel_order", {"order_id": order.id}),
                 actions=[{"type": "cancel_asked", "order_id": order.id}])


def answer_cancel(d: Dialog, u: Understanding, pending: Pending) -> Reply | None:
    order_id = pending.data["order_id"]
    if u.intent == "deny":
        return d.anything_else(d.replies.order_stays(), [{"type": "stopped", "pending": "cancel_order"}])
    if u.intent not in ("confirm", "cancel_order"):
        return None
    try:
        order = d.outbox.cancel(order_id)
    except OrderError as exc:
        return d.anything_else(d.replies.cancel_failed(str(exc)),
                               [{"type": "refused", "reason": "cancel_failed", "order_id": order_id}])
    if order.state == "cancelled":
        text = d.replies.cancelled(order_id)
    else:
        text = d.replies.cancel_requested(order_id)
    return d.anything_else(text, [{"type": "order_cancelled", "order_id": order_id, "state": order.state,
                                   "cancel_pending": bool(order.cancel_pending)}])


INTENTS = {
    "checkout": checkout,
    "order_status": order_status,
    "reorder": reorder,
    "cancel_order": cancel_order,
}

PENDING = {
    "checkout": answer_checkout,
    "confirm_reorder": answer_confirm_reorder,
    "cancel_order": answer_cancel,
    # "pin" is answered by the engine before the confidence check (see engine._turn).
}
