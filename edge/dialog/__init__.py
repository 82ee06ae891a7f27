"""The shopping dialogue: Understanding events in, Reply events out, over the catalog and outbox.

`Dialog` (engine) holds a `DialogState` (cart, last results, pending question, orders) and routes
each turn through a dispatch table of per-intent handlers (browse, cart, orders); `linking` maps
product and brand words to catalog products; `replies` words the answers per profile; `guard`
keeps the PIN lock; `faq` answers customer-service questions.
"""

from edge.dialog.engine import Dialog
from edge.dialog.faq import FaqEntry, FaqMatcher
from edge.dialog.guard import PurchaseGuard
from edge.dialog.state import DialogState, Item

__all__ = ["Dialog", "DialogState", "FaqEntry", "FaqMatcher", "Item", "PurchaseGuard"]
