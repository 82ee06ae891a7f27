"""Keep Whisper from putting words in the shopper's mouth.

Whisper was trained on subtitles, so on silence, noise or music it tends to write what subtitles
say at such moments: "Thank you.", "Thanks for watching!", "[Music]", "♪". On a shopping device an
invented "yes" or "thank you" can confirm or cancel an order, so text must be earned:

1. No decode at all without speech: only segments Silero VAD called speech reach Whisper (the
   recognizer enforces that; silence and steady noise never get here).
2. Non-speech annotations are removed: bracketed or parenthesised tags and music symbols.
3. Runaway repetition ("the the the the ...", a phrase looping) is cut to one occurrence.
4. A known hallucination phrase is dropped when the evidence for speech is weak: little VAD speech
   time or a quiet segment. A real "thank you" said to the device is loud and long enough to pass.
5. More words than anyone can say in the time (over MAX_WORDS_PER_SECOND) means invention: dropped.
"""

from __future__ import annotations

import re

import numpy as np

from edge.asr.pauses import level_dbfs

HALLUCINATIONS = frozenset({
    "thank you", "thank you very much", "thanks", "thanks for watching", "thank you for watching",
    "thanks for listening", "thank you for listening", "you", "bye", "bye bye", "goodbye", "so", "okay",
    "oh", "uh", "um", "hmm", "the end", "please subscribe", "subscribe", "like and subscribe",
    "see you next time", "i'm sorry", "silence", "music", "applause", "laughter", "yeah",
})
MIN_SPEECH_SECONDS = 0.6
"""Below this much VAD speech, a known hallucination phrase is not believed."""
MIN_SPEECH_DBFS = -45.0
"""Below this RMS level (dB re full scale) over the segment, a known hallucination phrase is not believed."""
MAX_WORDS_PER_SECOND = 6.0
"""Faster than any shopper speaks (conversational English is 2-3 words per second)."""

_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫♬♩]+")
_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def strip_annotations(text: str) -> str:
    """'[Music] add milk (coughs)' -> 'add milk'."""
    return " ".join(_ANNOTATION.sub(" ", text).split())


def cut_repetition(text: str, max_repeats: int = 3) -> str:
    """Collapse an n-gram (n <= 4) repeated more than max_repeats times in a row to one copy."""
    tokens = text.split()
    for n in range(1, 5):
        out: list[str] = []
        i = 0
        while i < len(tokens):
            gram = [t.lower().strip(".,!?") for t in tokens[i:i + n]]
            repeats = 1
            while [t.lower().strip(".,!?") for t in tokens[i + repeats * n:i + (repeats + 1) * n]] == gram:
                repeats += 1
            if len(gram) == n and repeats > max_repeats:
                out += tokens[i:i + n]
                i += repeats * n
            else:
                out.append(tokens[i])
                i += 1
        tokens = out
    return " ".join(tokens)


def accept(text: str, audio: np.ndarray, speech_seconds: float) -> str:
    """The text to believe for a decoded segment ('' when it is most likely invented)."""
    text = cut_repetition(strip_annotations(text))
    words = _words(text)
    if not words:
        return ""
    weak = speech_seconds < MIN_SPEECH_SECONDS or level_dbfs(audio) < MIN_SPEECH_DBFS
    if weak and " ".join(words) in HALLUCINATIONS:
        return ""
    if len(words) > MAX_WORDS_PER_SECOND * max(speech_seconds, 0.5) + 2:
        return ""
    return text
