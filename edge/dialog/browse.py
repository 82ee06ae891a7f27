"""Turns that look and ask without buying: search, price, recommendations, FAQ, help, yes/no alone.

Search reads the top results in the seed's style and keeps them as `last_results`, so the next turn
can say "the second one"; a single result is introduced and offered ("Shall I add it?").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from edge.dialog.linking import to_item
from edge.dialog.replies import best_value
from edge.dialog.state import Item, Pending
from edge.events import Reply, Understanding

if TYPE_CHECKING:
    from edge.dialog.engine import Dialog

ALTERNATIVES = re.compile(r"\b((something|anything|more|ones?|others?|else)( \w+)? like (this|that|it|these|those)|"
                          r"similar|alternatives?|other (brands?|ones|kinds?|options)|cheaper|less expensive|"
                          r"lower price)\b", re.IGNORECASE)
"""A request (recommend, or a search naming nothing) for other versions of a product rather than
what goes with the cart: "something like this", "do you have cheaper ones"."""
CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price)\b|便宜|实惠一点|更实惠|价格低一点", re.IGNORECASE)
ALTERNATIVES_ZH = re.compile(r"类似|差不多的|一样的|别的牌子|其他牌子|其它牌子|别的品牌|其他品牌|换一[种个款]|便宜|"
                             r"实惠一点|更实惠|价格低一点")
"""The same requests in Mandarin ("有没有便宜一点的", "类似的还有吗"); Chinese has no word boundaries for \\b."""


def asks_alternatives(text: str) -> bool:
    """Other versions of the product in focus are wanted, in either language."""
    return bool(ALTERNATIVES.search(text) or ALTERNATIVES_ZH.search(text))


def show_results(d: Dialog, items: list[Item], query: str) -> Reply:
    """Read out results and wait for a choice (one result: offer it directly)."""
    shown = items[: d.replies.max_results]
    d.state.last_results = shown
    if len(shown) == 1:
        d.state.focus = shown[0]
        return d.say(d.replies.results(shown, query), ask=Pending("confirm_add", {"item": shown[0]}),
                     actions=[{"type": "results", "product_ids": [shown[0].product_id]}])
    # After a list, "that one" is ambiguous: nothing is in focus until the user picks.
    d.state.focus = None
    return d.say(d.replies.results(shown, query), ask=Pending("choose_product", {}),
                 actions=[{"type": "results", "product_ids": [i.product_id for i in shown]}])


def search(d: Dialog, u: Understanding) -> Reply:
    subject = d.state.focus or (d.state.cart[-1].item if d.state.cart else None)
    if subject is not None and not (u.slots.get("product") or u.slots.get("brand")) \
            and asks_alternatives(u.text or ""):
        # "Do you have cheaper ones?" reaches the NLU as a search with nothing named.
        return show_recommendations(d, _alternatives(d, subject, u.text))
    found = d.linker.lookup(u.slots, limit=d.replies.max_results, text=u.text or "")
    if not found.query:
        return d.anything_else(d.replies.what_looking_for())
    if not found.items:
        return d.anything_else(d.replies.not_found(found.query), [{"type": "not_found", "query": found.query}])
    return show_results(d, found.items, found.query)


def price_query(d: Dialog, u: Understanding) -> Reply:
    item = d.linker.refer(u.slots, d.state)
    if item is None:
        found = d.linker.lookup(u.slots, limit=d.replies.max_results, text=u.text or "")
        if not found.items:
            what = found.query or "that"
            return d.anything_else(d.replies.not_found(what), [{"type": "not_found", "query": found.query}])
        item = found.items[0]
        verdict = d.replies.verdict() if best_value(found.items) is item and not d.replies.short else ""
        d.state.last_results = [item]
    else:
        verdict = ""
    d.state.focus = item
    text = d.replies.price(item, verdict)
    return d.anything_else(text, [{"type": "price", "product_id": item.product_id, "price_cents": item.price_cents}])


def recommend(d: Dialog, u: Understanding) -> Reply:
    """Suggestions for this user that go with the cart (or the product they name); "something like
    this" / "cheaper ones" instead asks for other SKUs of the product in focus."""
    context = [line.item.product_id for line in d.state.cart]
    named = None
    if u.slots.get("product") or u.slots.get("brand"):
        found = d.linker.lookup(u.slots, limit=1)
        named = found.items[0] if found.items else None
    subject = named or d.state.focus or (d.state.cart[-1].item if d.state.cart else None)
    if subject is not None and asks_alternatives(u.text or ""):
        return show_recommendations(d, _alternatives(d, subject, u.text))
    if named is not None:
        context.append(named.product_id)
    elif d.state.focus is not None:
        context.append(d.state.focus.product_id)
    return show_recommendations(d, suggestions(d, context, d.replies.max_results))


def _alternatives(d: Dialog, subject: Item, text: str) -> list[Item]:
    """Other products of the subject's family; cheaper ones, cheapest first, if the words say so."""
    recs = d.catalog.alternatives(subject.product_id, d.replies.max_results, cheaper=bool(CHEAPER.search(text)))
    return [to_item(rec.product) for rec in recs]


def show_recommendations(d: Dialog, items: list[Item]) -> Reply:
    """Read suggestions out as one spoken list and wait for a choice."""
    if not items:
        return d.anything_else(d.replies.recommendations([]), [{"type": "recommendations", "product_ids": []}])
    d.state.last_results = items
    d.state.focus = items[0] if len(items) == 1 else None
    return d.say(d.replies.recommendations(items), ask=Pending("choose_product", {}),
                 actions=[{"type": "recommendations", "product_ids": [i.product_id for i in items]}])


def suggestions(d: Dialog, context: list[int], k: int, *, like: Item | None = None) -> list[Item]:
    """In-stock suggestions that go with the cart: the recommender blends the user's taste with what
    is bought with the cart's product families, and never returns a cart item, another product of
    a cart item's family, or two of one family. With `like` (the product just added) what goes with
    it leads: the seed's "you may also like ..." is about the product just bought."""
    in_cart = {line.item.product_id for line in d.state.cart} | set(context)
    context = list(dict.fromkeys([*context, *(line.item.product_id for line in d.state.cart)]))
    if like is not None:
        context = [pid for pid in context if pid != like.product_id]
    recs = d.catalog.recommend(d.user, context, k, focus=like.product_id if like is not None else None)
    items = [to_item(getattr(rec, "product", rec)) for rec in recs]
    return [item for item in items if item.in_stock and item.product_id not in in_cart][:k]


def faq(d: Dialog, u: Understanding) -> Reply:
    answer = d.faq.answer(u.text) if d.faq is not None else None
    if answer is None:
        return d.anything_else(d.replies.no_faq_answer(), [{"type": "faq", "matched": None}])
    return d.anything_else(answer.answer, [{"type": "faq", "matched": answer.question, "score": answer.score}])


def help_(d: Dialog, u: Understanding) -> Reply:
    return d.anything_else(d.replies.help(), [{"type": "help"}])


def confirm(d: Dialog, u: Understanding) -> Reply:
    """A "yes" with no question pending: it confirms nothing, least of all an order."""
    return d.anything_else(d.replies.nothing_to_confirm(),
                           [{"type": "nothing_to_confirm"}])


def deny(d: Dialog, u: Understanding) -> Reply:
    """"Stop", "never mind", "no" with no question pending."""
    return Reply(text=d.replies.ok(), actions=[{"type": "stopped"}], expects_answer=False)


def other(d: Dialog, u: Understanding) -> Reply:
    return Reply(text=d.replies.fallback(), actions=[{"type": "fallback"}], expects_answer=False)


INTENTS = {
    "search": search,
    "price_query": price_query,
    "recommend": recommend,
    "faq": faq,
    "help": help_,
    "confirm": confirm,
    "deny": deny,
    "other": other,
}
