"""Split a normalized reply into clauses so the first audio plays while the rest is synthesized.

The voice computes a clause's latent whole before its first decoder chunk plays (edge.tts.vocoder;
time ~ a fraction of the clause's length), so the time to first sound is still set by the *first*
clause: it is kept to a few words, cut at a natural break ("Sure, | I added two bags | of coffee
to your cart."). Later clauses only have to be ready before the previous one finishes playing,
which any length does at RTF ~0.05, so they are kept whole up to `max_words` for better prosody; commas inside them stay and
the voice pauses there itself. Clauses never span a sentence end, so question intonation holds.
"""

from __future__ import annotations

import re

# Words a phrase can start with: a cut before them sounds like a breath, not a stumble.
_BREAK_BEFORE = frozenset({
    "and", "or", "but", "so", "because", "to", "for", "with", "of", "in", "on", "at", "from", "into",
    "onto", "that", "which", "who", "when", "if", "than", "then", "about", "after", "before", "while",
    "until",
})
# Number words: never cut between them ("twelve | dollars", "four | ninety-nine").
_NUMBER_WORDS = frozenset({
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million",
    "billion", "point", "oh", "dollars", "dollar", "cents", "cent", "percent", "and", "a", "half", "quarter",
})


def _numeric(word: str) -> bool:
    return all(part in _NUMBER_WORDS for part in word.lower().strip(",;:.").split("-"))


_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+[\"')\]]*|$)")
_PIECE = re.compile(r"[^,;:]+(?:[,;:]|$)")
_SPOKEN = re.compile(r"[A-Za-z0-9]")


def _cut(words: list[str], limit: int) -> int:
    """Where to cut `words` so the first part has at most `limit` words (>= 1), at the best break."""
    best = 0
    for i in range(1, min(limit, len(words) - 1) + 1):
        nxt = words[i].lower().strip(",;:")
        if _numeric(words[i - 1]) and _numeric(words[i]):
            continue
        if words[i - 1].endswith((",", ";", ":")) or nxt in _BREAK_BEFORE:
            best = i
    if best:
        return best
    # No natural break within the limit: cut at the limit unless it splits a number phrase.
    cut = min(limit, len(words) - 1)
    while cut > 1 and _numeric(words[cut - 1]) and _numeric(words[cut]):
        cut -= 1
    # A run of number words longer than the limit (a long id read digit by digit) has to be cut
    # somewhere: at the limit, not into one-word clauses.
    return cut if cut > 1 or not _numeric(words[0]) else min(limit, len(words) - 1)


def _split_long(words: list[str], limit: int) -> list[list[str]]:
    parts = []
    while len(words) > limit:
        cut = _cut(words, limit)
        parts.append(words[:cut])
        words = words[cut:]
    return [*parts, words] if words else parts


def split_clauses(text: str, first_max_words: int = 4, max_words: int = 14) -> list[str]:
    """Clauses of a normalized reply: the first at most first_max_words, the others at most max_words.

    Pieces between commas are merged up to max_words within a sentence; then the first clause is
    cut at its best break. Text with nothing speakable (only punctuation) gives an empty list.
    """
    if first_max_words < 1 or max_words < first_max_words:
        raise ValueError("need 1 <= first_max_words <= max_words")
    clauses: list[list[str]] = []
    for sentence in _SENTENCE.findall(text):
        pending: list[str] = []
        for piece in _PIECE.findall(sentence):
            words = piece.split()
            if pending and len(pending) + len(words) > max_words:
                clauses.append(pending)
                pending = []
            parts = _split_long(words, max_words)
            clauses.extend(parts[:-1])
            pending += parts[-1] if parts else []
        if pending:
            clauses.append(pending)
    clauses = [c for c in clauses if _SPOKEN.search(" ".join(c))]
    if clauses and len(clauses[0]) > first_max_words:
        cut = _cut(clauses[0], first_max_words)
        clauses[:1] = [clauses[0][:cut], clauses[0][cut:]]
    return [" ".join(c) for c in clauses]
