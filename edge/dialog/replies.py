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

import re
from collections.abc import Sequence

from edge.dialog.state import CartLine, DialogState, Item

# Shelf abbreviations in pack sizes -> the word said in an adjectival size ("a 3 pound bag").
SIZE_WORDS: dict[str, str] = {
    "lb": "pound", "lbs": "pound", "oz": "ounce", "fl oz": "fluid ounce", "kg": "kilo", "g": "gram",
    "l": "liter", "ml": "milliliter", "gal": "gallon", "qt": "quart", "pt": "pint", "ct": "count",
    "sq ft": "square foot", "ft": "foot", "in": "inch", "rolls": "roll", "roll": "roll", "pr": "pair",
}

ORDINAL_WORDS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth")

STATUS_WORDS = {
    "draft": "is not confirmed yet",
    "confirmed": "is confirmed and waiting on this device to be sent",
    "queued": "is queued on this device and will be sent as soon as it is back online",
    "sent": "has been sent, and the store has not confirmed it yet",
    "acked": "has been received by the store",
    "shipped": "is on its way",
    "delivered": "has been delivered",
    "cancelled": "was cancelled",
}


def money(cents: int) -> str:
    """$4.99 / $12 (whole dollars without cents, the way people say prices)."""
    dollars, rest = divmod(int(cents), 100)
    return f"${dollars:,}" if rest == 0 else f"${dollars:,}.{rest:02d}"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z ]*?)\s*$")


def _parse_size(text: str) -> tuple[float, str] | None:
    """"3 lb" -> (3.0, "lb"); None when the size is not "<number> <unit>"."""
    match = _SIZE.match(text.lower())
    if not match:
        return None
    return float(match.group(1)), match.group(2).strip()


def _expand(text: str) -> str:
    """Shelf abbreviations to words, longest first ("fl oz" before "oz"): "half gal" -> "half gallon"."""
    words = text.lower().split()
    out: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i:i + 2])
        if pair in SIZE_WORDS:
            out.append(SIZE_WORDS[pair])
            i += 2
            continue
        out.append(SIZE_WORDS.get(words[i], words[i]))
        i += 1
    return " ".join(out)


def size(item: Item) -> str:
    """The pack as said aloud: "3 pound bag", "12 fluid ounce cup", "half gallon", "" for one item.

    Adjectival form throughout (a "3 pound bag", not "3 pounds bag"); a single item sold "each"
    has nothing worth saying, and the selling unit is not repeated ("1 gallon", not "1 gallon gallon").
    """
    unit = "" if item.unit in ("each", "") else item.unit
    parsed = _parse_size(item.size)
    if parsed is not None and parsed[1] == "ct" and parsed[0] == 1:
        return f"1 {unit}" if unit else ""
    if parsed is not None:
        amount, abbrev = parsed
        number = str(int(amount)) if amount.is_integer() else f"{amount:g}"
        spoken = f"{number} {_expand(abbrev)}".strip()
    else:
        spoken = _expand(item.size)
    if unit and spoken.split()[-1:] == [unit]:
        return spoken
    return " ".join(part for part in (spoken, unit) if part)


def title(item: Item) -> str:
    """Brand and name ("Green Valley Fuji apples"): the catalog sells one name under several brands."""
    return f"{item.brand} {item.name}" if item.brand else item.name


def counted(quantity: int, item: Item) -> str:
    """"2 Green Valley Fuji apples": the catalog name already says what it is."""
    return f"{quantity} {title(item)}"


def named(item: Item) -> str:
    """Name, size and price as one phrase, no full stop: "Green Valley Fuji apples, 3 pound bag, $4.99"."""
    spoken_size = size(item)
    return ", ".join([title(item), *([spoken_size] if spoken_size else []), money(item.price_cents)])


def spoken_list(phrases: Sequence[str], conjunction: str = "or") -> str:
    """Join phrases the way a person lists them. Phrases that hold commas themselves (name, size,
    price) are kept apart by semicolons, and the last one comes after ", or": "A, 1 pound bag,
    $2.99; B, 2 pound bunch, $2.39, or C, $1.99". Plain words: "milk, eggs and bread"."""
    parts = [p.strip().rstrip(".;,") for p in phrases if p.strip()]
    if len(parts) <= 1:
        return "".join(parts)
    if not any("," in p for p in parts):
        return f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"
    return f"{'; '.join(parts[:-1])}, {conjunction} {parts[-1]}"


def intro(item: Item, *, verdict: str = "") -> str:
    """The seed's product introduction: "Green Valley Fuji apples, 3 pound bag, $4.99. Good value."."""
    text = named(item) + "."
    if not item.in_stock:
        text += " Out of stock right now."
    return f"{text} {verdict}".strip()


def best_value(items: Sequence[Item]) -> Item | None:
    """The item with the lowest price per unit of size, when several share a size unit; else None."""
    sized = [(i, _parse_size(i.size)) for i in items if i.in_stock]
    comparable = [(i, p) for i, p in sized if p is not None and p[0] > 0]
    if len(comparable) < 2 or len({p[1] for _i, p in comparable}) != 1:
        return None
    return min(comparable, key=lambda pair: pair[0].price_cents / pair[1][0])[0]


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

    def price(self, item: Item) -> str:
        return intro(item)

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
