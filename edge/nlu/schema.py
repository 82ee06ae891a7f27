"""The NLU output schema shared by the training-data generator, the exporter and the runtime.

Fixed by the NLU/dialogue issue: fifteen intents and six slots. The model predicts one intent
per utterance and one BIO tag per word; the bundle's labels.json records the exact label order
the model was trained with, and the runtime trusts that file (not these constants) so an old
bundle keeps working if this list grows.

Conventions the generator and the hand-written held-out set both follow (the dialogue relies on
them):

- A bare choice among offered results ("the second one", "that one", "the Sunny Farms ones")
  and a bare quantity answer ("two please", "three bags") are ``add_to_cart``: choosing is
  asking for the item. Only assent words ("yes", "go ahead", "place the order") are
  ``confirm``, so a selection can never be read as the confirmation of a checkout.
- Purchase wishes without a verb of search ("I want apples", "I want to buy apples", "I'm out
  of coffee", "we need milk") are ``add_to_cart``; the dialogue searches first when no item is
  selected yet. Looking ("do you have", "show me", "find") is ``search``.
- "stop", "cancel", "never mind" alone are ``deny`` (abandon the current step);
  ``cancel_order`` needs the order named ("cancel my order").
- "a"/"an" is tagged ``quantity`` only directly before a unit ("a bag of", "a dozen"); a unit
  is a packaging or measure word, never the product ("two bags of Fuji apples": quantity two,
  unit bags, product Fuji apples). ``max_price`` covers the amount with its currency words
  ("fifteen dollars", "$4.99"); ``ordinal`` covers the position word only ("second", "last",
  "2" in "number 2").
"""

from __future__ import annotations

INTENTS: tuple[str, ...] = (
    "search", "add_to_cart", "remove_from_cart", "view_cart", "checkout", "confirm", "deny",
    "price_query", "recommend", "order_status", "reorder", "cancel_order", "help", "faq", "other",
)

SLOTS: tuple[str, ...] = ("product", "quantity", "unit", "brand", "max_price", "ordinal")

NUMERIC_SLOTS: frozenset[str] = frozenset({"quantity", "max_price", "ordinal"})
"""Slots the runtime turns into numbers; the rest stay the words as spoken."""


def bio_tags(slots: tuple[str, ...] = SLOTS) -> tuple[str, ...]:
    """O first, then B-/I- per slot, in slot order (the label order the model is trained with)."""
    tags = ["O"]
    for slot in slots:
        tags += [f"B-{slot}", f"I-{slot}"]
    return tuple(tags)


BIO_TAGS: tuple[str, ...] = bio_tags()
