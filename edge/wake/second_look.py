"""A second look at a wake detection: does the recognizer hear the phrase in the audio that fired?

The wake head listens to every 80 ms of the day on a few percent of a core, so it is small, and a small
head fires on neighbours of its phrase ("hey stop", "pay shop") and on odd stretches of ordinary
speech (issue 17: tens of false accepts per hour). The device already holds a far larger model of
speech, the Whisper recognizer, idle while the device waits for its phrase. A detection is therefore
held for a moment (`tail_seconds`, so the phrase's last syllable is in), the last `window_seconds`
of audio are decoded once, and the wake is confirmed only if some run of the words heard *sounds*
like the phrase. Sound, not spelling: espeak-ng phonemes of the words (as the catalog correction
uses them) reduced to a consonant skeleton, every vowel run one "V" and "h" dropped, compared by
normalized Levenshtein similarity. Whisper tiny.en writes an unstressed "hey" as "a" or "I"
("a shop had two apples"): on full phonemes that is 0.5 alike, on the skeleton 1.0, while "hey
stop" stays at 0.6 and "a chef" at 0.75; spelling would reject "Hey, Shop!" and accept nothing better.

A decode costs ~0.1-0.3 s of one core, but only on a first-stage detection, so the listening CPU
barely moves; in exchange the first stage may run at a lower threshold (more of the household's
voices heard) while the second look removes what is not the phrase. `python -m bench wake
--second-look` measures both sides.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from edge.catalog.correction import sound
from edge.events import AudioChunk, WakeDetected
from edge.wake.detector import WakeDetector, check_frame

SAMPLE_RATE = 16000
_VOWELS = re.compile("[aeiouəɪɜæʌɐᵻɔɑɒɛʊyøœɨʉ]+")


def skeleton(ipa: str) -> str:
    """Consonants as said, each vowel run one "V", no "h": what survives Whisper's way with "hey"."""
    return _VOWELS.sub("V", sound(ipa).replace("h", ""))


@dataclass(frozen=True)
class Verdict:
    """What the second look heard and decided."""

    accepted: bool
    heard: str
    score: float
    """The look's score: the best phoneme similarity of a run of heard words to the phrase (0-1), or,
    for the forced look (edge.wake.phrase_score), the phrase's mean log-probability per token."""
    decode_ms: float


class SecondLook:
    """Decode a short window with the recognizer and compare what it heard with the phrase."""

    def __init__(self, transcribe: Callable[[np.ndarray], str], phrase: str, pronounce: Callable[[str], str],
                 min_similarity: float = 0.75, window_seconds: float = 1.8) -> None:
        self._transcribe = transcribe
        self._pronounce = pronounce
        self.phrase = phrase
        self.min_similarity = min_similarity
        self.window = int(window_seconds * SAMPLE_RATE)
        self._target = skeleton(pronounce(phrase))
        self._words = len(phrase.split())

    def similarity(self, text: str) -> float:
        """Best similarity of any run of one to (phrase words + 1) heard words to the phrase's sound."""
        words = ["".join(ch for ch in w.lower() if ch.isalnum() or ch == "'") for w in text.split()]
        words = [w for w in words if w]
        best = 0.0
        for size in range(1, self._words + 2):
            for start in range(0, max(0, len(words) - size) + 1):
                run = " ".join(words[start:start + size])
                if run:
                    best = max(best, Levenshtein.normalized_similarity(skeleton(self._pronounce(run)), self._target))
        return best

    def check(self, audio: np.ndarray) -> Verdict:
        """The verdict on the last window of audio (16 kHz float32)."""
        began = time.perf_counter()
        heard = self._transcribe(np.ascontiguousarray(audio[-self.window:], dtype=np.float32))
        score = self.similarity(heard)
        return Verdict(score >= self.min_similarity, heard, round(score, 3),
                       round(1000 * (time.perf_counter() - began), 1))


class ConfirmedWakeDetector:
    """A WakeDetector whose detections a SecondLook must confirm; same process() as the detector.

    Keeps the last window + tail of audio in a ring; a first-stage detection is held until
    `tail_seconds` more audio has arrived, then checked. Not thread-safe, like the detector.
    """

    def __init__(self, detector: WakeDetector, look: SecondLook, tail_seconds: float = 0.24) -> None:
        self.detector = detector
        self.look = look
        self.tail = int(tail_seconds * SAMPLE_RATE)
        self._ring = np.zeros(look.window + self.tail, np.float32)
        self._held: WakeDetected | None = None
        self._since = 0
        self.verdicts: list[Verdict] = []
        """The last few verdicts (for logs and the bench)."""
        self.checked = 0
        """First-stage detections looked at so far (the ones refused are checked minus confirmed)."""
        self.confirmed = 0

    @property
    def phrase(self) -> str:
        return self.detector.phrase

    @property
    def threshold(self) -> float:
        return self.detector.threshold

    @property
    def last_score(self) -> float:
        return self.detector.last_score

    def reset(self) -> None:
        self.detector.reset()
        self._ring[:] = 0.0
        self._held = None

    def process(self, chunk: AudioChunk) -> list[WakeDetected]:
        """Feed one frame; return the confirmed detections (a held one may confirm a frame later)."""
        samples = check_frame(chunk)
        fired = self.detector.process(chunk)
        self._push(samples)
        out: list[WakeDetected] = []
        if self._held is not None:
            self._since += len(samples)
            if self._since >= self.tail:
                out += self._confirm()
        if fired and self._held is None:
            self._held, self._since = fired[0], 0
            if self.tail == 0:
                out += self._confirm()
        return out

    def _push(self, samples: np.ndarray) -> None:
        n = min(len(samples), len(self._ring))
        if n:  # shifted in place: no new array on the audio thread every frame
            self._ring[:-n] = self._ring[n:]
            self._ring[-n:] = samples[-n:]

    def _confirm(self) -> list[WakeDetected]:
        held, self._held = self._held, None
        verdict = self.look.check(self._ring.copy())  # a snapshot: the ring moves on with the next frame
        self.verdicts = [*self.verdicts[-9:], verdict]
        self.checked += 1
        self.confirmed += verdict.accepted
        return [held] if held is not None and verdict.accepted else []
