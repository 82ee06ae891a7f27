"""What counts as a yes to "Shall I place the order?": a closed list of affirmative phrases.

An order is an irreversible act with money, so the model's guess is not enough on its own: the
joint NLU was measured reading "maybe", "hold on", "perhaps", "mmm", "x" and a 10,000-letter line
as `confirm` at ~0.7 (issue 15). At a read-back only an answer that is *made entirely of* phrases
from the list below (with politeness and a leading "um" allowed) counts as the words of a yes;
the dialogue also needs the model to read it as `confirm` with high confidence. Both, never one.

By construction a negation, a question ("yes?"), a hedge ("yes maybe"), an extra request ("yes but
remove the milk"), a partial word ("ye-") or noise is not a yes: any word outside the list, or a
question mark anywhere, makes the whole answer "not a yes". The device speaks English only; a new
language adds its own entry to AFFIRMATIVES (and its politeness words) rather than loosening these.
"""

from __future__ import annotations

import re
import unicodedata

AFFIRMATIVES: dict[str, frozenset[str]] = {
    "en": frozenset({
        "yes", "yeah", "yep", "yup", "yea", "ya", "sure", "ok", "okay", "alright", "all right",
        "correct", "that's correct", "that is correct", "that's right", "that is right", "right",
        "absolutely", "definitely", "certainly", "of course", "affirmative", "indeed",
        "uh huh", "mm hmm", "mhm", "yes indeed", "you bet", "sure thing",
        "confirm", "i confirm", "confirmed", "go ahead", "go for it", "do it", "please do",
        "let's do it", "let's go", "sounds good", "that sounds good", "looks good", "perfect",
        "that works", "all good", "i'm sure", "i am sure",
        "place the order", "place my order", "place it", "place order", "order it", "buy it",
        "send it", "send the order", "submit it", "submit the order", "complete the order",
        "that's all correct",
    }),
}
"""Per language, the phrases whose words make an explicit yes (all lower case, straight apostrophes)."""

POLITE: dict[str, frozenset[str]] = {
    "en": frozenset({"please", "thanks", "thank you", "now", "just", "and", "then", "um", "uh", "oh", "well",
                     "so", "hey"}),
}
"""Words that may come with a yes without changing it ("um yes please", "yes thanks")."""

MAX_WORDS = 12
"""A yes is short; a long answer is a sentence with more in it than assent."""

_WORD = re.compile(r"[a-z']+")
_CUT_OFF = re.compile(r"-(?![a-z])")
"""A hyphen not followed by a letter: a word cut off mid-way ("yes-", "go a-"), as Whisper writes it."""
_LONGEST = 4  # words in the longest phrase above


def _words(text: str) -> list[str] | None:
    """Lower-case words, or None when the text holds anything a yes cannot (digits, a question mark)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    if "?" in text or any(ch.isdigit() for ch in text) or _CUT_OFF.search(text):
        return None
    text = text.replace("-", " ")  # "uh-huh", "mm-hmm"
    rest = _WORD.sub(" ", text)
    if rest.strip(" \t\n.,!;:\"()"):  # symbols, other scripts, stray characters: not plain words
        return None
    return _WORD.findall(text)


def explicit_yes(text: str, language: str = "en") -> bool:
    """True when text is only affirmative phrases (at least one) and politeness words.

    "yes", "Yes, place the order.", "um yeah go ahead please" are; "maybe", "yes?", "yes no",
    "yes but remove the milk", "ye", "k", "true", "whatever", "hold on" and "" are not.
    """
    phrases, polite = AFFIRMATIVES[language], POLITE[language]
    words = _words(text)
    if not words or len(words) > MAX_WORDS:
        return False
    i, assent = 0, False
    while i < len(words):
        for n in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + n])
            if phrase in phrases:
                assent = True
                break
            if phrase in polite:
                break
        else:
            return False
        i += n
    return assent
