"""Is what the user said so far already a whole request? The check behind early endpointing.

The recognizer decodes speculatively at every pause (edge.asr.stream). When that text is a complete
request, waiting out the full silence hold ([asr] min_silence_seconds) only adds half a second to
every answer; when it is not ("add two bags of ..."), ending there would cut the user off. All
of these must hold:

- the text does not end open: no trailing article, preposition, conjunction, quantifier,
  hesitation sound or object-hungry verb ("add two bags of", "I want to buy", "uh"), and no
  trailing "...", "," or "-", which Whisper writes when speech trails off mid-phrase;
- the text does not say the same sentence twice in a row ("Yes. Yes. Yes"): Whisper fills the tail
  padding with copies when the audio stops mid-utterance, as at the comma in "Yes, place the order."
  (measured on an AVX2 EPYC build: the device answered 0.7 s before the user had finished); a real
  "No. No." only waits out the full hold;
- a language-understanding callable is confident about an intent other than "other";
- and, when the device gave it the catalog (`knows`), the product the request names is one the
  catalog finds: Whisper hearing half a phrase often writes a closed, confident-looking line
  ("add a gallon of" -> "Add a Galinda.", measured on an AVX-512 EPYC build), and a product nobody
  stocks is more likely a word still being spoken than a finished request.

The understanding is injected (edge.asr never imports edge.nlu): the device builder passes the
NLU's `understand`. Anything that fails here counts as "not complete", so the worst a broken check
can do is fall back to the full silence hold.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

log = logging.getLogger("edge.asr")

OPEN_ENDINGS = frozenset({
    # articles, determiners and quantifiers: a noun must follow
    "a", "an", "the", "some", "any", "my", "your", "our", "this", "these", "those", "another", "each", "every",
    # prepositions and conjunctions: the phrase goes on
    "of", "with", "without", "for", "to", "in", "on", "at", "from", "into", "about", "by", "than", "and", "or",
    "but", "plus", "also", "like",
    # hesitation sounds: the user is still thinking
    "um", "umm", "uh", "uhh", "er", "erm", "hmm", "ah", "eh",
    # verbs of a shopping request that need their object
    "buy", "add", "get", "want", "need", "find", "remove", "put",
})
"""Last words after which a request cannot be finished (lower case)."""

TRAILING_OFF = ("...", "…", ",", "-", "–", "—", ";", ":")
"""Endings Whisper writes when the speech it heard stops mid-phrase."""

OPEN_ENDINGS_ZH = (
    "和", "跟", "与", "还有", "或者", "以及", "而且", "然后", "就是",  # a noun or clause must follow
    "买", "要", "想", "来", "加", "找", "给我", "帮我", "把", "再", "一下",  # verbs and markers needing their object
    "嗯", "呃", "额", "那个", "这个", "一", "两", "几",  # hesitation, a numeral without its measure word
)
"""Mandarin endings after which a request cannot be finished ("我想买", "来两"); Chinese has no spaces,
so these are suffixes of the text, not last words."""

_WORDS = re.compile(r"[a-z0-9']+")
_TRAILING_MARKS = "，。？！、,.?! "


def ends_open(text: str) -> bool:
    """True when the text visibly stops mid-phrase (see OPEN_ENDINGS, OPEN_ENDINGS_ZH and TRAILING_OFF)."""
    stripped = text.strip()
    if not stripped or stripped.endswith(TRAILING_OFF) or stripped.endswith(("，", "、", "……")):
        return True
    chinese = stripped.rstrip(_TRAILING_MARKS)
    if chinese and "\u3400" <= chinese[-1] <= "\u9fff":
        if chinese[-2:-1] == "不":  # "不要", "不买": a refusal is complete
            return False
        return chinese.endswith(OPEN_ENDINGS_ZH)
    words = _WORDS.findall(stripped.lower())
    return not words or words[-1] in OPEN_ENDINGS


_SENTENCES = re.compile(r"[^.?!。？！]+")


def repeats_itself(text: str) -> bool:
    """True when two sentences in a row are the same words ("Yes. Yes. Yes", "好的。好的。")."""
    sentences = [" ".join(_WORDS.findall(part.lower())) or part.strip() for part in _SENTENCES.findall(text)]
    sentences = [x for x in sentences if x]
    return any(a == b for a, b in zip(sentences, sentences[1:], strict=False))


class CompleteRequest:
    """check(text) -> bool: the text ends closed and `understand` is confident about a real intent.

    `understand(text)` returns anything with `intent` and `confidence` attributes (the NLU's
    Understanding); `min_confidence` is the probability (0-1) the intent must reach. Kept higher
    than the dialogue's reprompt threshold: a fragment the model half recognizes is not finished.
    """

    def __init__(self, understand: Callable[[str], Any], min_confidence: float,
                 knows: Callable[[str], bool] | None = None) -> None:
        self.understand = understand
        self.min_confidence = min_confidence
        self.knows = knows
        """product text -> does the catalog find it? None: any product will do (no catalog attached)."""

    def __call__(self, text: str) -> bool:
        if ends_open(text) or repeats_itself(text):
            return False
        try:
            result = self.understand(text)
        except Exception:  # a failing check must only cost latency, never the request
            log.exception("completeness check failed on %r", text)
            return False
        if result.intent == "other" or float(result.confidence) < self.min_confidence:
            return False
        product = str((getattr(result, "slots", None) or {}).get("product") or "").strip()
        if not product or self.knows is None:
            return True
        try:
            return bool(self.knows(product))
        except Exception:  # a failing catalog must only cost latency
            log.exception("catalog check failed on %r", product)
            return False
