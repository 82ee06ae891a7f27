"""What the dialogue remembers between turns: cart, last results, the pending question, orders.

The state is plain data so a turn is a pure-ish function of (state, Understanding) plus the catalog
and outbox it talks to; `python -m edge chat --json` prints `DialogState.summary()` after every turn.
Products are copied into `Item` snapshots when they enter the state, so the price read out to the
user is the price in the cart and in the read-back, even if a catalog delta lands mid-conversation
(the cloud recomputes prices from its own catalog anyway; see issue 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Item:
    """A catalog product as the dialogue speaks about it (a snapshot, not a live row)."""

    product_id: int
    sku: str
    name: str
    brand: str
    unit: str
    """Spoken selling unit, singular ("bag", "gallon", "loaf", "each")."""
    size: str
    """Pack size as printed on the shelf ("3 lb", "12 fl oz", "12 ct")."""
    price_cents: int
    category: str = ""
    in_stock: bool = True
    currency: str = "USD"
    """The catalog's currency for price_cents ("USD", "CNY"); an order is placed in it (the cloud
    rejects an order whose currency is not the product's)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id, "sku": self.sku, "name": self.name, "brand": self.brand,
            "unit": self.unit, "size": self.size, "price_cents": self.price_cents,
        }


@dataclass
class CartLine:
    """One product in the cart and how many of it."""

    item: Item
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.item.price_cents * self.quantity


@dataclass(frozen=True)
class Pending:
    """The question the device last asked and is waiting for an answer to.

    kind is one of PENDING_KINDS; data carries what the answer completes (the product chosen so
    far, the quantity heard, the order lines read back). A pending question lives exactly one
    turn: whatever the next turn is, the engine clears it first and only the handler for that
    kind may put a (new) question back. That is what makes "confirm in the turn right after the
    read-back" hold by construction.
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


PENDING_KINDS = (
    "choose_product",    # results were read out; which one?
    "quantity",          # a product is chosen; how many?
    "confirm_add",       # a single product was introduced; add it?
    "confirm_quantity",  # an unusually large quantity was heard; really?
    "checkout",          # the order was read back; place it?
    "pin",               # the order is above the spending limit; say the PIN
    "cancel_order",      # cancel this order?
    "confirm_reorder",   # a reorder with an unusually large quantity; really?
    "confirm_remove",    # a remove request read from words that only sound like one; remove it?
)


@dataclass
class DialogState:
    """Everything one conversation carries from turn to turn."""

    cart: list[CartLine] = field(default_factory=list)
    last_results: list[Item] = field(default_factory=list)
    """What was last read out, in the order it was read ("the second one" indexes this)."""
    focus: Item | None = None
    """The product "it" / "that one" refers to: the last one introduced, chosen or added."""
    pending: Pending | None = None
    orders: list[str] = field(default_factory=list)
    """Order ids placed in this conversation, oldest first (the outbox holds the full history)."""
    low_confidence_turns: int = 0
    """Consecutive turns the NLU was unsure about (one reprompt, then a fallback)."""
    last_question: str = ""
    """The last question asked, repeated on a reprompt so the user hears what is expected."""
    last_question_actions: list[dict[str, Any]] = field(default_factory=list)
    """The actions that came with that question (a repeated read-back is again a read-back)."""

    @property
    def cart_total_cents(self) -> int:
        return sum(line.total_cents for line in self.cart)

    @property
    def cart_count(self) -> int:
        return sum(line.quantity for line in self.cart)

    def add(self, item: Item, quantity: int) -> CartLine:
        """Add to the cart, merging with a line for the same product."""
        for line in self.cart:
            if line.item.product_id == item.product_id:
                line.quantity += quantity
                return line
        line = CartLine(item, quantity)
        self.cart.append(line)
        return line

    def summary(self) -> dict[str, Any]:
        """A JSON-ready view of the state, for `chat --json` and for logs."""
        return {
            "cart": [
                {"product_id": ln.item.product_id, "name": ln.item.name, "quantity": ln.quantity,
                 "line_cents": ln.total_cents}
                for ln in self.cart
            ],
            "cart_total_cents": self.cart_total_cents,
            "last_results": [item.name for item in self.last_results],
            "focus": self.focus.name if self.focus else None,
            "pending": self.pending.kind if self.pending else None,
            "orders": list(self.orders),
        }
