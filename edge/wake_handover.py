"""From the wake word to the request: what the recognizer gets, and what the transcript keeps.

"Hello shopkeeper, I want to buy apples" may be said in one breath. The wake model fires a little after
the phrase, so the audio handed to the recognizer must start early enough to keep the request's
first word (`request_preroll`), and the transcript may then begin with the phrase or its tail,
which is trimmed off (`strip_wake_phrase`). `Preroll` keeps the frames the wake word heard.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable

import numpy as np
from rapidfuzz import fuzz

from edge.asr.pauses import quietest_point
from edge.events import AudioChunk

WAKE_WORD_MATCH = 70
"""rapidfuzz ratio (0-100) at which a transcript word counts as a wake-phrase word ("shop" ~ "chop")."""


def request_preroll(frames: Iterable[AudioChunk], since: float) -> AudioChunk | None:
    """The audio the wake word heard from `since` on, as one chunk that starts at its quietest 30 ms.

    The wake model fires a little after the phrase ends (~0.2 s), and a request said in the same
    breath may begin meanwhile: the recognizer must get that request's first word but not the
    phrase's tail. A fixed cut landed in "...op" and Whisper made "...op, order the same as last
    time" into "What are the same as last time?"; the quietest moment of the window is the gap
    between the two (or, with no request yet, plain silence).
    """
    kept = [f for f in frames if f.timestamp + f.duration > since]
    if not kept:
        return None
    rate = kept[0].sample_rate
    audio = np.concatenate([np.asarray(f.samples, dtype=np.float32).reshape(-1) for f in kept])
    skip = min(len(audio), max(0, round((since - kept[0].timestamp) * rate)))
    start = skip + quietest_point(audio[skip:])
    if start >= len(audio):
        return None
    return AudioChunk(audio[start:], rate, kept[0].timestamp + start / rate)


class Preroll:
    """The last `seconds` of audio the wake word heard, to hand the recognizer when it fires."""

    def __init__(self, seconds: float, frame_ms: int) -> None:
        self.seconds = seconds
        self._frames: deque[AudioChunk] = deque(maxlen=math.ceil(1000 * seconds / frame_ms) + 1)
        self._until = -1.0

    def add(self, frame: AudioChunk) -> bool:
        """Keep a frame; True when it does not follow the last one (listening or muted in between):
        the ring then starts afresh, and the wake word should too."""
        gap = frame.timestamp > self._until + 1e-3
        if gap:
            self._frames.clear()
        self._until = frame.timestamp + frame.duration
        self._frames.append(frame)
        return gap

    def clear(self) -> None:
        self._frames.clear()

    def handover(self, at: float) -> AudioChunk | None:
        """The request's start for a wake word that fired at `at` (see request_preroll); empties the ring."""
        chunk = request_preroll(self._frames, at - self.seconds)
        self._frames.clear()
        return chunk


_WORD = re.compile(r"[A-Za-z0-9']+")


def strip_wake_phrase(text: str, phrase: str) -> str:
    """The request without the wake phrase the pre-roll carried into the recognizer.

    The audio handed to the recognizer starts a little before the wake word fired, so the
    transcript often begins with the phrase or its tail ("Hey voice shop, I want...", "Shop. I
    want..."). Leading words that fuzzily match the phrase's last words are dropped, and only those.
    Whisper splits and joins words freely, so two heard words written together may stand for one phrase
    word ("shop keeper"), one heard word for two ("Voiceshop"), and a short first word may be a
    mishearing of the phrase's first ("A voice shop, ...") when the words after it are the phrase's rest.
    """
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    heard = [w[2] for w in words]
    target = [w.lower() for w in _WORD.findall(phrase)]
    for k in range(len(target), 0, -1):
        taken = _leading_match(target[-k:], heard)
        if not taken and k >= 2 and k == len(target) - 1 and heard and len(heard[0]) <= 3:
            after_first = _leading_match(target[-k:], heard[1:])
            taken = 1 + after_first if after_first else 0
        if taken:
            rest = text[words[taken - 1][1]:]
            return rest.lstrip(" ,.!?;:-").strip()
    return text.strip()


def _leading_match(tail: list[str], heard: list[str]) -> int:
    """How many leading heard words spell the phrase words `tail` (0: they do not).

    At each step the closest of three readings is taken: one heard word for one phrase word, two heard words
    written together for one phrase word ("shop keeper"), or one heard word for two phrase words ("Voiceshop").
    """
    at, i = 0, 0
    while i < len(tail):
        readings = []  # (similarity, heard words used, phrase words used)
        if at < len(heard):
            readings.append((fuzz.ratio(tail[i], heard[at]), 1, 1))
            if i + 1 < len(tail):
                readings.append((fuzz.ratio(tail[i] + tail[i + 1], heard[at]), 1, 2))
        if at + 1 < len(heard):
            readings.append((fuzz.ratio(tail[i], heard[at] + heard[at + 1]), 2, 1))
        best = max(readings, default=(0.0, 0, 0))
        if best[0] < WAKE_WORD_MATCH:
            return 0
        at, i = at + best[1], i + best[2]
    return at
