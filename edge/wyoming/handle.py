"""The `handle` service: a transcript in, the shopping dialogue's reply out, one conversation per client.

Every conversation has its own dialogue state (cart, last results, the pending question) over the
device's one ShopSession: the same NLU, catalog, outbox, purchase guard (PIN lock) and MQTT sync
client as `python -m edge run`. So an order placed over Wyoming needs the same read-back and
explicit "yes" right after it (and the PIN over the spending limit), lands in the same outbox
and is synced the same way; only the dialogue code decides that, never this adapter.

A conversation is named by `context.conversation_id` when the client sends one (Home Assistant
does) and is the connection otherwise; the reply's context carries the id back. A request the
shopping assistant has nothing for (the NLU says "other" or is unsure, and no question of ours is
pending) gets `not-handled`, so the client can pass it to another agent, and leaves the
conversation as it was. So does a transcript the server cannot take (too long, no text): Home
Assistant's conversation client reads until `handled` or `not-handled` and would wait forever on an
`error` event, so here the reason goes into `not-handled`'s text (and the log).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from typing import Any

from wyoming.asr import Transcript
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled

from edge.dialog.engine import Dialog
from edge.dialog.session import ShopSession
from edge.wyoming.audio import WyomingInputError

log = logging.getLogger("edge.wyoming.handle")

MAX_CONVERSATIONS = 256
"""Dialogue states kept at once; the least recently used is forgotten beyond this (its cart too)."""
MAX_TRANSCRIPT_CHARS = 2000
"""Longer text is no spoken request; refused before it reaches the NLU."""


class Conversations:
    """Dialogue states by conversation id over one ShopSession; one turn at a time (the session is shared)."""

    def __init__(self, session: ShopSession) -> None:
        self.session = session
        self._dialogs: OrderedDict[str, Dialog] = OrderedDict()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def connection_id(self) -> str:
        """A conversation id for a connection whose client names none."""
        return f"wyoming-{next(self._ids)}"

    def _dialog(self, conversation: str) -> Dialog:
        dialog = self._dialogs.get(conversation)
        if dialog is None:
            shared = self.session.dialog  # the session's own: its catalog, outbox, guard, faq and sync hook
            dialog = Dialog(shared.settings, shared.catalog, shared.outbox, shared.guard, faq=shared.faq,
                            user=shared.user, sync=shared.sync)
            dialog.outcome_later = shared.outcome_later  # settle=True below adds the outcome, once
            self._dialogs[conversation] = dialog
            while len(self._dialogs) > MAX_CONVERSATIONS:
                forgotten, _ = self._dialogs.popitem(last=False)
                log.info("forgot conversation %s (over %d kept)", forgotten, MAX_CONVERSATIONS)
        self._dialogs.move_to_end(conversation)
        return dialog

    def answer(self, event: Event, default_conversation: str) -> Event:
        """One `transcript` -> `handled` / `not-handled` (blocking: call it off the event loop)."""
        request = Transcript.from_event(event)
        text = request.text if isinstance(request.text, str) else ""
        context: dict[str, Any] = dict(request.context) if isinstance(request.context, dict) else {}
        if len(text) > MAX_TRANSCRIPT_CHARS:
            raise WyomingInputError(f"transcript of {len(text)} characters is too long (at most "
                                    f"{MAX_TRANSCRIPT_CHARS})", "transcript-too-long")
        conversation = str(context.get("conversation_id") or default_conversation)
        context["conversation_id"] = conversation
        with self._lock:
            dialog = self._dialog(conversation)
            if not text.strip():  # nothing was said: no turn, the question (if any) stays pending
                return NotHandled(text=dialog.replies.fallback(), context=context).event()
            understanding = self.session.nlu.understand(text)  # cached: the turn below reuses it
            unsure = (understanding.intent == "other"
                      or understanding.confidence < dialog.settings.nlu.min_confidence)
            if dialog.state.pending is None and unsure:
                return NotHandled(text=dialog.replies.fallback(), context=context).event()
            own, self.session.dialog = self.session.dialog, dialog
            try:
                turn = self.session.turn(text, settle=True, heard=True)
            finally:
                self.session.dialog = own
        context["expects_answer"] = turn.reply.expects_answer
        log.info("conversation %s: intent %s -> %d action(s)", conversation, turn.intent, len(turn.reply.actions))
        return Handled(text=turn.reply.text, context=context).event()
