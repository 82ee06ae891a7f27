"""Second stage of the wake word: Whisper confirms the phrase before the device wakes.

The first stage (the small head over openWakeWord-style embeddings, edge.wake.detector) is cheap
enough to run on every 80 ms frame but was trained on synthetic voices only, and on held-out
speech it fires tens of times an hour, mostly on confusables ("hey stop", "hey shawn"). A false
wake on a shopping device opens the microphone to a stranger's sentence, so every proposal of the
first stage is checked by the recognizer the device already has loaded: the last
`window_seconds` of audio are transcribed (Whisper tiny.en, sherpa-onnx, a ~2 s clip) and the
device wakes only if the transcript contains the phrase, compared word by word ("hey shop",
"Hey, Shop!", "hay shop" match; "hey stop", "hey chop", "workshop", "hey Sean" do not).

Whisper runs only on proposals (a few per hour of ordinary speech), so listening still costs what
the first stage costs. A rejected proposal re-arms the first stage after `retry_steps`, up to
`max_retries` times while its score stays high: the head sometimes fires on "hey sh..." before
the phrase is over, and the later look then sees all of it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import jellyfish
import numpy as np

from edge.events import AudioChunk, WakeDetected
from edge.wake.detector import WakeDetector, check_frame
from edge.wake.features import SAMPLE_RATE, STEP_SAMPLES

log = logging.getLogger("edge.wake")

Decode = Callable[[np.ndarray], str]
TAIL = int(0.3 * SAMPLE_RATE)
"""Audio after the firing step included in the check, when the frame holds it (samples)."""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower().replace("-", " "))


def _same(heard: str, expected: str) -> bool:
    """The same word, or one that sounds the same and starts with the same letter ("hay"/"hey";
    not "chop"/"shop", which metaphone alone would merge)."""
    return heard == expected or (heard[:1] == expected[:1]
                                 and jellyfish.metaphone(heard) == jellyfish.metaphone(expected))


def phrase_heard(transcript: str, phrase: str) -> bool:
    """The transcript contains the phrase: word by word (see _same), or a run of words that spells
    the phrase run together ("Heyshop" for "hey shop", "voice shop" for "voiceshop")."""
    target = [w.strip("'") for w in _words(phrase) if w.strip("'")]
    words = [w.strip("'") for w in _words(transcript) if w.strip("'")]
    if not target or not words:
        return False
    n = len(target)
    if any(all(_same(words[i + j], target[j]) for j in range(n)) for i in range(len(words) - n + 1)):
        return True
    joined = "".join(target)
    return any("".join(words[i:i + span]) == joined
               for i in range(len(words)) for span in range(1, n + 3) if i + span <= len(words))


@dataclass
class VerifierStats:
    """What the second stage did: proposals from the head, how many it accepted, and its cost."""

    proposals: int = 0
    accepted: int = 0
    rejected: int = 0
    decode_seconds: float = 0.0
    rejected_texts: list[str] = field(default_factory=list)


class VerifiedWakeWord:
    """A WakeDetector whose detections are confirmed by a transcript. Same interface as the detector."""

    def __init__(self, detector: WakeDetector, decode: Decode, *, window_seconds: float = 2.0,
                 retry_steps: int = 2, max_retries: int = 3) -> None:
        if window_seconds <= 0.5:
            raise ValueError(f"window_seconds must be above 0.5 s (the phrase must fit), got {window_seconds}")
        self.detector = detector
        self.decode = decode
        self.window = int(window_seconds * SAMPLE_RATE)
        self.retry_steps = retry_steps
        self.max_retries = max_retries
        self.stats = VerifierStats()
        self.reset()

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
        self._audio = np.zeros(0, dtype=np.float32)
        self._end = 0
        """Samples seen since the reset (the stream clock, in samples)."""
        self._retries = 0

    def process(self, chunk: AudioChunk) -> list[WakeDetected]:
        samples = check_frame(chunk)
        proposals = self.detector.process(chunk)
        keep = self.window + len(samples) + STEP_SAMPLES
        self._audio = np.concatenate([self._audio, samples])[-keep:]
        self._end += len(samples)
        accepted = []
        for proposal in proposals:
            verdict = self._verify(proposal, chunk)
            if verdict is not None:
                accepted.append(verdict)
        if self.detector.last_score < self.detector.threshold:
            self._retries = 0
        return accepted

    def _verify(self, proposal: WakeDetected, chunk: AudioChunk) -> WakeDetected | None:
        self.stats.proposals += 1
        # the window ends a little after the step that fired (the phrase's last sound may still be in it)
        after = int(round((chunk.timestamp + chunk.duration - proposal.timestamp) * SAMPLE_RATE))
        end = len(self._audio) - max(0, after - TAIL)
        clip = self._audio[max(0, end - self.window): end]
        began = time.perf_counter()
        try:
            text = self.decode(clip)
        except Exception as exc:  # a failing recognizer must not make the device deaf: wake and say so
            log.error("wake verification failed (%s); accepting the first stage's detection", exc)
            text = self.phrase
        self.stats.decode_seconds += time.perf_counter() - began
        if phrase_heard(text, self.phrase):
            self.stats.accepted += 1
            self._retries = 0
            return replace(proposal, transcript=text)
        self.stats.rejected += 1
        if len(self.stats.rejected_texts) < 200:
            self.stats.rejected_texts.append(text)
        log.debug("wake proposal (score %.2f) rejected: heard %r", proposal.score, text)
        if self._retries < self.max_retries:
            self._retries += 1
            self.detector.trigger.rearm(self.retry_steps)
        return None
