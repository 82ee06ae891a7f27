"""Whisper's initial prompt for the shop: the text it reads as "what was said before" each segment.

Whisper conditions every decode on an optional previous text (after <|startofprev|>): words it
has just "seen" it writes more readily, and the sentence's style (case, punctuation, numbers in
words) carries over. A shopping device knows what a request is likely to name: the products the
dialogue just offered or holds in the cart, and its catalog. This module decides the prompt's words
and its tokens; edge.asr.stream asks for them at each decode (`AsrPrompt.ids`), the dialogue tells
it what is on screen (`AsrPrompt.update`, a callback edge.dialog.session calls after each turn).

`[asr] prompt` (edge.config):
- "off": no prompt (the decode is exactly the unprompted one);
- "style": one command-style sentence (STYLE);
- "dialog": the dialogue's products (offered, in the cart, in focus), then STYLE;
- "catalog": as "dialog", preceded by the catalog's most popular product names up to the budget.

The text is "name, name, ... STYLE": the dialogue's names last before STYLE (nearest the speech,
where Whisper's attention to the prompt is strongest), the catalog's before them, most popular
nearest. `[asr] prompt_tokens` bounds it (Whisper's prompt takes at most n_text_ctx // 2 - 1 = 223
tokens; what it takes is one more decoder pass over those tokens per decode, batched in one step).

Whisper may echo a prompt on non-speech: the recognizer decodes only what Silero called speech, and
edge.asr.guard's rules (annotations, repetition, the speaking-rate limit) apply to prompted text as
to any; tests/test_asr_prompt.py checks that noise and silence stay empty with the prompt on.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

log = logging.getLogger("edge.asr")

PromptMode = Literal["off", "style", "dialog", "catalog"]
MODES: tuple[str, ...] = ("off", "style", "dialog", "catalog")
_WORD = re.compile(r"[a-z0-9']+")
MAX_PROMPT_TOKENS = 223
"""Whisper's own limit for previous text: half its 448-token context, less <|startofprev|>."""
STYLE = "How much is the tuna? Add two cans of tuna and a box of crackers to my cart."
"""Requests the way a shopper says them (a question, numbers in words, a unit, "to my cart"): style, not
content; no product of a bench or dev command (bench/task_commands.py, bench/task_dev.py). On the dev
split (bench task --dev, tiny.en, >= 10 dB, "dialog") the question before the request measured intent
0.887 -> 0.897, product-correct 0.659 -> 0.680, WER 0.325 -> 0.311 against the request alone."""
STYLE_PRODUCTS = frozenset(("tuna", "tunas", "cracker", "crackers"))
"""STYLE's product words. In noise Whisper fills a product it did not hear with the one its prompt named ("put three
cans of chickpeas in my cart" -> "Put three cans of tuna in my cart."; bench task held-out, tiny.en, >= 10 dB: 83 of
2,268 transcripts had a "tuna" nobody said, 66 of them picked the wrong product): a transcript with one of these
words is heard again with RECHECK_STYLE (AsrPrompt.copies_style), and the word is believed only if it is heard again."""
RECHECK_STYLE = "How much are the sardines? Add two cans of sardines and a bag of lentils to my cart."
"""STYLE with other products (in no demo catalog, no bench or dev command), for the second hearing: the same form
(a question, numbers in words, a unit, "to my cart"), so the re-decode keeps the style's help."""
RECHECK_PRODUCTS = frozenset(("sardine", "sardines", "lentil", "lentils"))
ECHO_WORDS = 4
"""A run of this many transcript words that copies the prompt across two of its items ("russet
potatoes, oat milk") is Whisper echoing its prompt, not a shopper."""
ECHO_STYLE_WORDS = 7
"""... and a run this long copied from anywhere in it (STYLE itself: "two cans of tuna and a box")."""
ECHO_REPEATS = 3
"""... and a prompt name said this often in one segment ("oat milk, oat milk, oat milk")."""
MAX_CONTEXT_NAMES = 12
"""Dialogue names kept (the most recent first): a search offers at most a handful, a cart rarely more."""


def popular_names(conn: sqlite3.Connection, limit: int = 200) -> list[str]:
    """Distinct product names of a catalog, the most popular first (a name's best SKU counts).

    A variant ("organic bananas", "unscented rubber gloves") is left out when its plain name is a
    catalog name too: the prompt's room goes to different products (the demo catalog's 405 names
    are 295 plain ones), and the plain words are the ones Whisper has to hear."""
    rows = conn.execute("SELECT name, MAX(popularity) AS p FROM products WHERE trim(coalesce(name, '')) != '' "
                        "GROUP BY lower(name) ORDER BY p DESC, name").fetchall()
    names = [" ".join(str(r[0]).split()) for r in rows]
    known = {n.lower() for n in names}

    def variant(name: str) -> bool:
        words = name.lower().split()
        return any(" ".join(words[i:]) in known for i in range(1, len(words)))

    return [n for n in names if not variant(n)][:limit]


def _unique(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = " ".join(name.lower().split())
        if key and key not in seen:
            seen.add(key)
            out.append(" ".join(name.split()))
    return out


class AsrPrompt:
    """The prompt's text and token ids for the current dialogue context (thread-safe: the audio thread
    reads it, the dialogue updates it)."""

    def __init__(self, encode: Callable[[str], list[int]], mode: str = "dialog", budget: int = 160,
                 catalog: Sequence[str] = (), style: str = STYLE) -> None:
        if mode not in MODES:
            raise ValueError(f"prompt mode {mode!r}: one of {', '.join(MODES)}")
        if not 1 <= budget <= MAX_PROMPT_TOKENS:
            raise ValueError(f"prompt budget {budget}: 1 to {MAX_PROMPT_TOKENS} tokens")
        self.encode, self.mode, self.budget, self.style = encode, mode, budget, style
        self.catalog = _unique(catalog) if mode == "catalog" else []
        self._context: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._made: tuple[tuple[str, ...], str, tuple[int, ...]] | None = None
        self.bias: Any = None
        """The catalog bias (edge.asr.biasing.PhraseBias) every decode of a request carries along, or None."""

    def update(self, names: Iterable[str]) -> None:
        """The products the dialogue shows now (offered, cart, focus), the most relevant first."""
        context = tuple(_unique(names)[:MAX_CONTEXT_NAMES]) if self.mode in ("dialog", "catalog") else ()
        with self._lock:
            self._context = context

    def _cost(self, name: str) -> int:
        return len(self.encode(f" {name},"))

    def _build(self, context: tuple[str, ...], style: str | None = None) -> tuple[str, tuple[int, ...]]:
        """(text, ids) of the prompt for context, ending with `style` (default self.style), within the budget."""
        if self.mode == "off":
            return "", ()
        style = self.style if style is None else style
        style_ids = self.encode(" " + style)
        room = self.budget - len(style_ids)
        chosen: list[str] = []
        for name in context:  # the dialogue's names first: they must fit
            cost = self._cost(name)
            if cost <= room:
                chosen.append(name)
                room -= cost
        taken = {n.lower() for n in chosen}
        popular: list[str] = []
        for name in self.catalog:
            if name.lower() in taken:
                continue
            cost = self._cost(name)
            if cost > room:
                break
            popular.append(name)
            room -= cost
        names = [*reversed(popular), *reversed(chosen)]  # most relevant nearest the speech
        text = "".join(f" {n}," for n in names) + " " + style
        ids = self.encode(text)
        while len(ids) > self.budget and names:  # the per-name costs are exact for BPE; a guard for others
            names.pop(0)
            text = "".join(f" {n}," for n in names) + " " + style
            ids = self.encode(text)
        if len(ids) > self.budget:
            ids = ids[-self.budget:]
        return text.strip(), tuple(ids)

    def _current(self) -> tuple[str, tuple[int, ...]]:
        with self._lock:
            context, made = self._context, self._made
        if made is None or made[0] != context:
            text, ids = self._build(context)
            made = (context, text, ids)
            with self._lock:
                self._made = made
        return made[1], made[2]

    def copies_style(self, text: str, products: frozenset[str] = STYLE_PRODUCTS) -> bool:
        """Whether a transcript names one of a style sentence's products (STYLE's by default) that the dialogue's
        names (in the prompt too) do not: said, or copied from the style sentence? The decoder hears it again
        with recheck_ids (RECHECK_STYLE) to tell."""
        heard = set(_WORD.findall(text.lower())) & products
        if not heard or self.mode == "off" or self.style != STYLE:
            return False
        with self._lock:
            context = self._context
        named = {w for name in context for w in _WORD.findall(name.lower())}
        return bool(heard - named)

    def recheck_clean(self, text: str) -> bool:
        """Whether the second hearing (recheck_ids) names no style product unsaid, of either style sentence: then
        it is believed over the first."""
        return not (self.copies_style(text) or self.copies_style(text, RECHECK_PRODUCTS))

    def recheck_ids(self) -> tuple[int, ...]:
        """The prompt's ids with RECHECK_STYLE in place of STYLE (the dialogue's names before it, within the budget)."""
        with self._lock:
            context = self._context
        return self._build(context, RECHECK_STYLE)[1]

    def echoes(self, text: str) -> bool:
        """Whether a transcript looks copied from the current prompt (ECHO_*): Whisper writes its prompt
        back on noise the VAD let through; the decoder then hears the segment again without it."""
        heard = _WORD.findall(text.lower())
        prompt = self.text
        if not heard or not prompt:
            return False
        items = [_WORD.findall(item.lower()) for item in prompt.split(",")]
        words = [w for item in items for w in item]
        item_of = [n for n, item in enumerate(items) for _ in item]
        for i in range(len(heard)):
            for j in (j for j, w in enumerate(words) if w == heard[i]):
                size = 0
                while i + size < len(heard) and j + size < len(words) and heard[i + size] == words[j + size]:
                    size += 1
                if size >= ECHO_STYLE_WORDS or (size >= ECHO_WORDS and item_of[j] != item_of[j + size - 1]):
                    return True
        return any(sum(heard[k:k + len(item)] == item for k in range(len(heard))) >= ECHO_REPEATS
                   for item in items[:-1] if item)

    @property
    def text(self) -> str:
        """The prompt as text (what `ids` encodes)."""
        return self._current()[0]

    def ids(self) -> tuple[int, ...]:
        """The prompt's token ids now (empty when off)."""
        return self._current()[1]


def prompt_for(recognizer: object, mode: str, budget: int, conn: sqlite3.Connection | None = None,
               bias: tuple[float, float] = (0.0, 0.0)) -> AsrPrompt | None:
    """The prompt for a Whisper recognizer that takes one (edge.asr.whisper_ort.WhisperOrt), or None:
    mode "off" without a bias, or a runtime without prompts (sherpa-onnx's recognizer has no previous-text
    input). bias: (bonus, start bonus) of the catalog bias over conn's catalog (edge.asr.biasing)."""
    biased = conn is not None and any(bias)
    if mode == "off" and not biased:
        return None
    tokens, eot = getattr(recognizer, "tokens", None), getattr(recognizer, "eot", None)
    if not isinstance(tokens, dict) or eot is None:
        return None
    from edge.asr.bpe import ByteBpe

    catalog = popular_names(conn) if conn is not None and mode == "catalog" else []
    shared = getattr(recognizer, "token_ids", None)  # WhisperOrt's table, also its forced look's: not built twice
    encode = ByteBpe(tokens, eot, shared).encode
    prompt = AsrPrompt(encode, mode, budget, catalog)
    if biased:
        from edge.asr.biasing import catalog_bias

        assert conn is not None
        prompt.bias = catalog_bias(recognizer, conn, *bias, encode)
    return prompt


def attach_prompt(recognizer: Any, mode: str, budget: int, conn: sqlite3.Connection | None = None,
                  bias: tuple[float, float] = (0.0, 0.0)) -> Any:
    """Give a recognizer (edge.asr.stream.VadRecognizer over WhisperOrt) the prompt of `[asr] prompt` and the
    catalog bias of `[asr] bias_bonus` / `bias_start_bonus`; the prompt (an AsrPrompt; with `[asr] second_model` an
    edge.asr.pair.PairedPrompt, the same context in each model's tokens), or None when both are off or when the
    recognizer takes none (sherpa's runtime, the online engine: said once in the log)."""
    decode = getattr(recognizer, "decode", None)
    prompt = prompt_for(getattr(decode, "recognizer", None), mode, budget, conn, bias)
    second = getattr(decode, "second", None)  # [asr] second_model: its own tokens (edge.asr.pair)
    if prompt is not None and second is not None:
        from edge.asr.pair import PairedPrompt

        partner = prompt_for(second.recognizer, mode, budget, conn, bias)
        prompt = PairedPrompt(prompt, partner) if partner is not None else prompt
    if prompt is None or not hasattr(recognizer, "prompt"):
        if mode != "off" or any(bias):
            log.info("[asr] prompt %r / bias %s: this recognizer takes neither (runtime sherpa or engine online)",
                     mode, bias)
        return None
    recognizer.prompt = prompt
    return prompt
