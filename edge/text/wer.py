"""Word error rate with a small, explicit text normalizer: one definition for every WER we report.

Whisper writes "10" where the shopper said "ten", capitalises and punctuates; none of that is a
recognition error for our purposes (the NLU reads digits and words alike), so both sides are
normalized the same way before counting: lower case, digits spelt out, punctuation dropped,
hyphens split. Anything else that differs is counted, so the figure stays honest.

The model toolchain (export/, bench/) scores a whole corpus with `wer`; the simulator scores each
spoken turn against its script with `word_error_rate`. Both count the same way, so a turn the
simulator passes is measured like the export's parity runs. It lives on the device side because
device code may not import export/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from voiceshop_common.numbers import cardinal


def number_words(n: int) -> str:
    """0 <= n < 1,000,000 as English words ("twenty one", "three hundred five"); larger numbers stay digits."""
    return cardinal(n, hyphen=" ") if n < 1_000_000 else str(n)


def _spell_numbers(text: str) -> str:
    def money(match: re.Match[str]) -> str:
        dollars, cents = int(match.group(1)), match.group(2)
        spoken = number_words(dollars) + " dollars"
        return spoken + (f" {number_words(int(cents))} cents" if cents and int(cents) else "")

    text = re.sub(r"\$(\d+)(?:\.(\d\d))?", money, text)
    text = re.sub(r"(\d+)(st|nd|rd|th)\b", lambda m: m.group(1), text)
    return re.sub(r"\d+", lambda m: " " + number_words(int(m.group(0))) + " ", text)


def normalize(text: str) -> list[str]:
    """The words of text after the normalization described in the module docstring."""
    text = _spell_numbers(text.lower().replace(",", ""))
    text = re.sub(r"[-/]", " ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    return [word.strip("'") for word in text.split() if word.strip("'")]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions all cost 1)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def corpus_error_rate(pairs: Iterable[tuple[str, str]], units: Callable[[str], list[str]]) -> float:
    """Total edits / total reference units over (reference, hypothesis) pairs, units being words or characters."""
    edits = total = 0
    for ref, hyp in pairs:
        ref_units = units(ref)
        edits += edit_distance(ref_units, units(hyp))
        total += len(ref_units)
    return edits / total if total else 0.0


def utterance_error_rate(reference: str, hypothesis: str, units: Callable[[str], list[str]]) -> float:
    """Error rate of one utterance; 0 for two empty texts, 1 when only the reference is empty."""
    ref_units, hyp_units = units(reference), units(hypothesis)
    if not ref_units:
        return 0.0 if not hyp_units else 1.0
    return edit_distance(ref_units, hyp_units) / len(ref_units)


def wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Corpus WER over (reference, hypothesis) pairs: total edits / total reference words."""
    return corpus_error_rate(pairs, normalize)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of one utterance; 0 for two empty texts, 1 when only the reference is empty."""
    return utterance_error_rate(reference, hypothesis, normalize)
