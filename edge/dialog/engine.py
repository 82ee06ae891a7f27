"""The dialogue engine: one Understanding in, one Reply out, with the state carried in between.

A turn goes:
1. The pending question (if any) is taken off the state: it lives exactly one turn. Only a handler
   can ask a new one, so an answer ("yes") counts only in the turn right after its question.
2. A PIN answer is checked before anything else (the NLU has no PIN intent; digits are the answer),
   and so is the answer to a read-back (only an explicit yes buys: `orders.answer_checkout`).
3. Low NLU confidence gets one reprompt that repeats the question, then a graceful fallback.
4. If a question was pending, its answer handler (PENDING table) gets the turn first; it returns
   None when the turn is not an answer but a new request ("what's in my cart?" mid-choice).
5. Otherwise the intent's handler (INTENTS table) runs.

Transcripts and product names are data: nothing in them is interpreted except through the NLU's
intent and slots, and only the `checkout`/`pin` answer handlers ever call `place_order`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from edge.config import Settings
from edge.dialog import browse, cart, orders
from edge.dialog.faq import FaqMatcher
from edge.dialog.guard import PurchaseGuard, is_hesitation
from edge.dialog.linking import Linker
from edge.dialog.ports import CatalogPort, OutboxPort
from edge.dialog.replies import replies_for
from edge.dialog.state import DialogState, Pending
from edge.events import Reply, Understanding

log = logging.getLogger("edge.dialog")

Handler = Callable[["Dialog", Understanding], Reply]
AnswerHandler = Callable[["Dialog", Understanding, Pending], "Reply | None"]

INTENTS: dict[str, Handler] = {**browse.INTENTS, **cart.INTENTS, **orders.INTENTS}
PENDING: dict[str, AnswerHandler] = {**cart.PENDING, **orders.PENDING}


class Dialog:
    """One conversation with one user on one device."""

    def __init__(self, settings: Settings, catalog: CatalogPort, outbox: OutboxPort, guard: PurchaseGuard,
                 *, faq: FaqMatcher | None = None, user: str | None = None,
                 sync: Callable[[int], None] | None = None, clock: Callable[[], float] = time.time,
                 spot: Callable[..., list[Any]] | None = None) -> None:
        """spot: text[, among] -> catalog products heard in the line by sound (edge.catalog.spotting via
        CatalogCorrector.spot); the linker falls back on it when the NLU's product slot names nothing well."""
        self.settings = settings
        profile = settings.profile
        self.replies = replies_for(settings.device.language, max_results=profile.max_results,
                                   short=profile.short_replies)
        self.catalog = catalog
        self.outbox = outbox
        self.guard = guard
        self.linker = Linker(catalog, self.replies, spot)
        self.faq = faq
        self.user = user or settings.device.id
        self.sync = sync
        """Called with the order id right after an order is confirmed, to push it out now when online."""
        self.outcome_later = False
        """True: an order's confirmation leaves out whether it reached the store; the caller adds that
        once the cloud answers (ShopSession.settle), so the user is not kept waiting on the network."""
        self.clock = clock
        self.state = DialogState()

    # --- helpers the handlers use ----------------------------------------------------------
    def say(self, text: str, *, actions: list[dict[str, Any]] | None = None, ask: Pending | None = None) -> Reply:
        """A reply; with `ask`, the question stays pending for exactly the next turn."""
        self.state.pending = ask
        if ask is not None:
            self.state.last_question = text
            self.state.last_question_actions = list(actions or [])
        return Reply(text=text, actions=list(actions or []), expects_answer=ask is not None)

    def anything_else(self, text: str, actions: list[dict[str, Any]] | None = None) -> Reply:
        """A finished step that invites the next request (the mic stays open, nothing pending)."""
        self.state.pending = None
        self.state.last_question = ""
        return Reply(text=text, actions=list(actions or []), expects_answer=True)

    # --- turns ------------------------------------------------------------------------------
    def handle(self, u: Understanding) -> Reply:
        """Answer one user turn. Never raises on bad input: a failure becomes an apology."""
        pending, self.state.pending = self.state.pending, None
        try:
            return self._turn(u, pending)
        except Exception:  # the device loop must survive any single bad turn
            log.exception("dialogue turn failed for intent %s", u.intent)
            self.state.pending = None
            return Reply(text=self.replies.error(), actions=[{"type": "error"}])

    def timeout(self) -> Reply:
        """Nobody answered within settings.dialog.turn_timeout_seconds: drop the question."""
        pending, self.state.pending = self.state.pending, None
        self.state.low_confidence_turns = 0
        if pending is None:
            return Reply(text="", actions=[{"type": "timeout", "pending": None}])
        text = self.replies.timeout(pending.kind, cart_kept=pending.data.get("source", "cart") == "cart")
        return Reply(text=text, actions=[{"type": "timeout", "pending": pending.kind}])

    def _turn(self, u: Understanding, pending: Pending | None) -> Reply:
        if pending is not None and pending.kind == "pin":
            return orders.answer_pin(self, u, pending)
        if pending is not None and pending.kind == "checkout":
            # The read-back's answer has its own policy (explicit yes, else ask once, then drop),
            # which also covers low confidence and hesitations.
            self.state.low_confidence_turns = 0
            reply = orders.answer_checkout(self, u, pending)
            if reply is not None:
                return reply
            return INTENTS.get(u.intent, browse.other)(self, u)
        if u.confidence < self.settings.nlu.min_confidence or is_hesitation(u.text):
            return self._unsure(pending)
        self.state.low_confidence_turns = 0
        if pending is not None:
            handler = PENDING.get(pending.kind)
            reply = handler(self, u, pending) if handler else None
            if reply is not None:
                return reply
        return INTENTS.get(u.intent, browse.other)(self, u)

    def _unsure(self, pending: Pending | None) -> Reply:
        """One reprompt repeating the question (it stays pending), then a graceful fallback.

        The reprompt repeats the whole question with its actions, so a read-back repeated this way
        is again a read-back: the explicit "yes" must still come in the turn right after it.
        """
        self.state.low_confidence_turns += 1
        if self.state.low_confidence_turns == 1:
            self.state.pending = pending
            question = self.state.last_question if pending is not None else ""
            actions = [{"type": "reprompt"}, *(self.state.last_question_actions if pending is not None else [])]
            return Reply(text=self.replies.reprompt(question), actions=actions, expects_answer=True)
        self.state.low_confidence_turns = 0
        self.state.last_question = ""
        return Reply(text=self.replies.fallback(), actions=[{"type": "fallback"}])
