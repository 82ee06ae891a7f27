"""A text shopping session with every real part wired in: NLU, dialogue, catalog, outbox, sync.

`python -m edge chat` is a thin loop around this; the device pipeline uses the same wiring with
transcripts instead of typed lines. Loading order is checks first, with messages that say what to
run (sherpa-onnx examples style): no catalog, an empty catalog or no NLU bundle stop here with the
command that fixes it, before any model is loaded.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.catalog.chinese import has_cjk
from edge.catalog.correction import CatalogCorrector, Correction, Edit
from edge.config import Settings
from edge.dialog import hearing, orders
from edge.dialog.demo import CATALOG_DB, PUBLIC_KEY
from edge.dialog.engine import Dialog
from edge.dialog.faq import FaqMatcher, entries_from_catalog
from edge.dialog.guard import PurchaseGuard
from edge.events import Reply, Understanding

log = logging.getLogger("edge.dialog.session")

GUARD_DB = "dialog.sqlite"
OUTBOX_DB = "outbox.sqlite"
SETTLED_STATES = ("acked", "shipped", "delivered", "cancelled")


class SessionError(RuntimeError):
    """Something the session needs is missing; the message says how to get it."""


def catalog_problem(data_dir: Path) -> str | None:
    """Why the catalog in data_dir cannot serve a dialogue (missing, empty), or None if it can."""
    db = data_dir / CATALOG_DB
    how = (f"Load one with:\n  python -m edge chat --db {data_dir} --demo-catalog   (builds and applies the demo "
           f"catalog)\nor by hand: python -m cloud catalog generate --out master.db; python -m cloud catalog keygen "
           f"--out keys; python -m cloud catalog publish --catalog master.db --key keys --out pub; copy "
           f"keys/{PUBLIC_KEY} to {data_dir}/; python -m edge catalog --db {db} apply pub/snapshot-000001.vscat")
    if not db.is_file():
        return f"No catalog at {db}.\n{how}"
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            count = conn.execute("SELECT COUNT(*) FROM products").fetchone()[0]
    except sqlite3.Error as exc:
        from edge.storage import full_message, is_disk_full

        if is_disk_full(exc, db):  # the catalog is fine: rebuilding it would not help (nor fit)
            message = full_message(data_dir, "the catalog cannot be opened")
            return message[0].upper() + message[1:]
        return f"The catalog at {db} cannot be read ({exc}).\n{how}"
    if count == 0:
        return f"The catalog at {db} has no products.\n{how}"
    return None


@dataclass
class Turn:
    """One exchange, as `chat --json` prints it."""

    user: str
    intent: str | None
    confidence: float | None
    slots: dict[str, Any]
    reply: Reply
    state: dict[str, Any] = field(default_factory=dict)
    raw_text: str | None = None
    """What the recognizer heard, when catalog-aware correction rewrote it into `user`."""
    corrections: list[dict[str, Any]] = field(default_factory=list)
    """The rewritten spans (heard, written, kind, confidence), when there were any."""
    passed_over: str | None = None
    """The recognizer's first transcript, when another reading of the same audio was answered
    (edge.dialog.hearing): `raw_text` (or `user`) is then that reading."""
    unsettled_order: int | None = None
    """An order placed in this turn whose way to the store the reply does not tell yet:
    `ShopSession.settle` waits for the cloud and adds it (the device speaks the reply meanwhile)."""

    def to_record(self) -> dict[str, Any]:
        record = {"user": self.user, "intent": self.intent, "confidence": self.confidence, "slots": self.slots,
                  "reply": self.reply.text, "expects_answer": self.reply.expects_answer, "state": self.state,
                  "actions": self.reply.actions}
        if self.raw_text is not None:
            record.update(raw_text=self.raw_text, corrections=self.corrections)
        if self.passed_over is not None:
            record.update(passed_over=self.passed_over)
        return record


class ShopSession:
    """NLU + dialogue over one device data dir (catalog.db, outbox.sqlite, dialog.sqlite)."""

    def __init__(self, settings: Settings, data_dir: Path, *, user: str | None = None,
                 broker_url: str | None = None, nlu: Any = None) -> None:
        """nlu: an already loaded understander (the device shares its own with the recognizer's
        early-endpoint check); None loads one from settings."""
        problem = catalog_problem(data_dir)
        if problem:
            raise SessionError(problem)
        from edge.catalog.catalog import Catalog
        from edge.nlu import NluBundleError, Understander
        from edge.orders import Outbox

        try:
            self.nlu = nlu if nlu is not None else Understander.from_settings(settings)
        except (NluBundleError, FileNotFoundError, OSError, ValueError) as exc:
            raise SessionError(f"No usable NLU bundle under {settings.models.path} ({exc}).\n"
                               "Build it with: python -m export nlu") from None
        self.settings = settings
        self.catalog = Catalog.from_settings(settings, data_dir / CATALOG_DB)
        self.catalog.public_key_file = data_dir / PUBLIC_KEY
        try:
            self.outbox = Outbox(data_dir / OUTBOX_DB, cancel_window_seconds=settings.dialog.cancel_window_seconds)
        except OSError:  # OutboxDamaged (set aside, message says what to do) or unwritable storage
            self.catalog.close()
            raise
        self.guard = PurchaseGuard(data_dir / GUARD_DB, settings.dialog.pin)
        # The sentence encoder is the English MiniLM: a Chinese question is matched on its characters.
        encode = self.catalog.searcher.encode if settings.device.language == "en" else None
        faq = FaqMatcher(entries_from_catalog(self.catalog.faq()), encode=encode)
        self.sync_client = self._start_sync(broker_url if broker_url is not None else settings.broker.url)
        self.corrector = CatalogCorrector(self.catalog.conn) if settings.asr.correction else None
        self.dialog = Dialog(settings, self.catalog, self.outbox, self.guard, faq=faq, user=user,
                             sync=self._push if self.sync_client is not None else None,
                             spot=self._spot if self.corrector is not None else None)
        self.dialog.outcome_later = self.sync_client is not None
        self._placed: list[int] = []
        self.on_context: Callable[[list[str]], None] | None = None
        """Told the products the dialogue shows (`context_names`) after every turn: the ASR prompt's
        update (edge.asr.prompt.AsrPrompt.update) on a device; None tells no one."""
        self.read_commands = True
        """Re-read a line whose command word sounds misheard (edge.catalog.heard_commands); bench task
        turns it off to count what it fixed and broke."""

    def context_names(self) -> list[str]:
        """The product names the dialogue has on screen: just offered, in the cart, in focus."""
        state = self.dialog.state
        context = [item.name for item in state.last_results] + [line.item.name for line in state.cart]
        return context + ([state.focus.name] if state.focus is not None else [])

    def _tell_context(self) -> None:
        if self.on_context is not None:
            try:
                self.on_context(self.context_names())
            except Exception:  # the listener's failure must never cost the turn
                log.exception("context listener failed")

    def _corrected(self, text: str) -> Correction:
        """The line after catalog-aware correction, with what the dialogue has on screen as context."""
        if self.corrector is None or not text.strip():
            return Correction(text, text)
        context = self.context_names()
        try:
            return self.corrector.correct(text, context)
        except Exception:  # a correction failure must never cost the turn: the heard text stands
            log.exception("transcript correction failed on %r", text)
            return Correction(text, text)

    def _command_read(self, text: str, heard: Understanding,
                      corrected: Correction) -> tuple[Understanding, Correction]:
        """The line read with a misheard command word repaired (edge.catalog.heard_commands), when the NLU
        reads that as another intent more confidently; marked `repaired`, with the edit beside the
        correction's. Only outside a question: an answer ("yes", "two", a PIN) is never re-read."""
        if not self.read_commands or self.corrector is None or heard.confidence <= 0.0:
            return heard, corrected
        try:
            reader = self.corrector.command_reader()
            if reader is None or has_cjk(text):
                return heard, corrected
            understanding, reading = reader.choose(self.nlu.understand, text, heard)
        except Exception:  # a failed re-reading must never cost the turn: the heard reading stands
            log.exception("command re-reading failed on %r", text)
            return heard, corrected
        if reading is None:
            return heard, corrected
        edit = Edit(reading.heard, reading.written, "command", reading.similarity)
        log.info("heard %r read as %r (%s %.2f -> %s %.2f)", text, reading.text, heard.intent, heard.confidence,
                 understanding.intent, understanding.confidence)
        return (dataclasses.replace(understanding, repaired=True),
                Correction(reading.text, corrected.raw_text, (*corrected.edits, edit)))

    def _spot(self, text: str, among: list[str] | None = None) -> list[Any]:
        """Products heard in a line by sound, for the dialogue's linker; a failure finds nothing."""
        try:
            return self.corrector.spot(text, among) if self.corrector is not None else []
        except Exception:  # a spotting failure must never cost the turn: the NLU's slot stands
            log.exception("spotting failed on %r", text)
            return []

    def _start_sync(self, url: str) -> Any:
        if not url:
            log.info("no broker configured: confirmed orders stay queued in the outbox "
                     "until `python -m edge orders sync`")
            return None
        from edge.sync import SyncClient
        from edge.sync.deltas import catalog_delta_handler

        try:
            client = SyncClient.for_settings(self.settings, self.outbox, url=url,
                                             on_catalog_delta=catalog_delta_handler(self.catalog))
        except ValueError as exc:  # a malformed broker URL: say so instead of a traceback
            self.outbox.close()
            self.catalog.close()
            raise SessionError(str(exc)) from None  # names the URL, its password masked
        client.start()
        return client

    def _push(self, order_id: int) -> None:
        """The dialogue's sync hook: wake the sync client now; `settle` waits for the answer.

        Not waiting here lets the confirmation be spoken the moment the order is durable in the
        outbox (the dialogue leaves its last sentence to settle), instead of after a network
        round trip.
        """
        self._placed.append(order_id)  # first: whatever wake() does, settle still tells the outcome
        self.sync_client.wake()

    def _wait_for_store(self, order_id: int) -> str:
        """The order's state once the cloud acks it, or after settings.dialog.sync_wait_seconds."""
        client = self.sync_client
        if client is not None and client.connected.wait(0.2):  # offline: no ack will come
            deadline = time.monotonic() + self.settings.dialog.sync_wait_seconds
            while time.monotonic() < deadline:
                if self.outbox.get(order_id).state in SETTLED_STATES:
                    break
                time.sleep(0.05)
        return str(self.outbox.get(order_id).state)

    def settle(self, turn: Turn) -> Turn:
        """The turn with its reply finished: whether the order placed in it reached the store.

        Waits for the cloud's ack (see `_wait_for_store`); a turn with nothing to settle comes back
        unchanged. The reply's text only grows (the added sentence is its end), and the
        order_queued action carries the state the added sentence describes.
        """
        order_id = turn.unsettled_order
        if order_id is None:
            return turn
        refused, outcome = None, ""
        try:
            state = self._wait_for_store(order_id)
            order = self.outbox.get(order_id)
            if state == "cancelled":  # the cloud refused it (a price rise, an item gone)
                refused = orders.store_refused(self.dialog, order)
            elif order.cloud_total_cents is not None and order.cloud_total_cents < order.total_cents:
                outcome = self.dialog.replies.cheaper(order.cloud_total_cents)
        except Exception as exc:  # the order is durable either way; say it is queued
            log.warning("could not read order %s back after sync: %s", order_id, exc)
            state = "queued"
        actions = [{**a, "state": state} if a.get("type") == "order_queued" and a.get("order_id") == order_id
                   else a for a in turn.reply.actions]
        if refused is not None:
            reply = Reply(text=self.dialog.replies.join(turn.reply.text, refused.text), actions=actions + refused.actions,
                          expects_answer=refused.expects_answer)
        else:
            said = self.dialog.replies.join(self.dialog.replies.sync_outcome(state), outcome)
            reply = Reply(text=self.dialog.replies.join(turn.reply.text, said), actions=actions,
                          expects_answer=turn.reply.expects_answer)
        return dataclasses.replace(turn, reply=reply, unsettled_order=None, state=self.dialog.state.summary())

    def turn(self, text: str, *, settle: bool = True, heard: bool = False,
             alternatives: Sequence[tuple[str, float]] = ()) -> Turn:
        """One typed (or transcribed) line through NLU and dialogue.

        With settle=False an order's confirmation comes back before the cloud has answered
        (`Turn.unsettled_order`); the caller speaks it and calls `settle` for the rest. heard: the
        line is a transcript, whose command words may be misheard and are re-read by sound
        (`_command_read`); typed words are what the user meant to write. alternatives: the recognizer's
        other readings of the same audio (text, log-probability per token), `text` among them; outside a
        question the one the NLU understands best may be answered instead (edge.dialog.hearing).
        """
        answering_pin = self.dialog.state.pending is not None and self.dialog.state.pending.kind == "pin"
        reread = heard and not answering_pin and self.dialog.state.pending is None
        understanding, corrected = self._read(text, answering_pin, reread)
        passed_over = None
        # measured on English requests only (edge.dialog.hearing); a Mandarin line keeps the recognizer's choice
        chosen = self._best_reading(text, understanding, corrected, alternatives) \
            if reread and alternatives and not has_cjk(text) else None
        if chosen is not None and chosen.heard != text:
            log.info("answered the beam's %r over %r (NLU confidence %.2f)", chosen.heard, text,
                     chosen.understanding.confidence)
            passed_over, understanding, corrected = text, chosen.understanding, chosen.corrected
        text = understanding.text
        self._placed.clear()
        reply = self.dialog.handle(understanding)
        shown_text, slots = text, dict(understanding.slots)
        if answering_pin:  # a PIN is a secret: never echo it into logs or --json output
            shown_text, slots = "****", {}
        placed = next((a["order_id"] for a in reply.actions if a.get("type") == "order_queued"), None)
        turn = Turn(shown_text, understanding.intent, understanding.confidence, slots, reply,
                    self.dialog.state.summary(), unsettled_order=placed if placed in self._placed else None)
        if corrected.changed:
            turn.raw_text, turn.corrections = corrected.raw_text, [e.to_json() for e in corrected.edits]
        turn.passed_over = passed_over
        self._tell_context()
        return self.settle(turn) if settle else turn

    def _read(self, text: str, answering_pin: bool, reread: bool) -> tuple[Understanding, Correction]:
        """A line as the dialogue reads it: corrected (not a PIN), understood, its command words re-read by sound."""
        corrected = Correction(text, text) if answering_pin else self._corrected(text)
        try:
            understanding = self.nlu.understand(corrected.text)
        except Exception:  # a bad line must not end the session
            log.exception("NLU failed on %r", corrected.text)
            understanding = Understanding(text=corrected.text, intent="other", confidence=0.0)
        if reread:
            understanding, corrected = self._command_read(corrected.text, understanding, corrected)
        return understanding, corrected

    def _best_reading(self, text: str, understanding: Understanding, corrected: Correction,
                      alternatives: Sequence[tuple[str, float]]) -> hearing.Reading | None:
        """Of the recognizer's readings, the one to answer (edge.dialog.hearing); `text` is already read. None when
        `text` is not among the readings worth reading (not one of them, or far below the best): it stands as
        heard, and the others are not read at all."""
        worth = hearing.worth_reading(alternatives)
        if not any(heard == text for heard, _ in worth):
            return None
        return hearing.choose([hearing.Reading(heard, score, understanding, corrected) if heard == text
                               else hearing.Reading(heard, score, *self._read(heard, False, True))
                               for heard, score in worth], text)

    def timeout(self) -> Turn:
        reply = self.dialog.timeout()
        self._tell_context()
        return Turn("", None, None, {}, reply, self.dialog.state.summary())

    def close(self) -> None:
        if self.sync_client is not None:
            self.sync_client.stop()
        self.outbox.close()
        self.catalog.close()
