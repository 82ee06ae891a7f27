"""A second look by forced decoding: how likely does Whisper find the wake phrase in the audio that fired?

The word-matching look (edge.wake.second_look.SecondLook) asks Whisper what it heard and compares
the words' sound with the phrase. It removed the false accepts but also two thirds of the true
wakes (issue 17): on voices it never trained on, tiny.en's one best guess for "hey shop" is often
"Hey sharp", "A shot" or "big fish", and one wrong guess is the end of it. Here the question is
put the other way round: given the window, what is the probability of the phrase's own tokens?
Whisper that prefers "Hey sharp" still gives "Hey shop" a fair share, while a stretch of ordinary
speech ("...put the kettle on") makes the phrase very unlikely. The score is the mean log-probability
per token of the phrase, taking the best of:

- a few spellings of the phrase ("Hey shop", "Hey, shop", "hey shop", ...): Whisper's casing and
  punctuation are part of its tokens, and the window is too short to fix them;
- every place the phrase may start in what was heard: the free decode's first k words, at each
  word start, come before it (the window may begin with the end of other speech).

On the dev split (training-like voices only: espeak training variants, Piper joe, flite awb/kal;
never the bench's held-out voices) the phrase, alone or after or before other words, scored -2.36
per token at the median (5th percentile -4.5, 58 of 60 at or above -5.0); its confusables ("hey
stop", "pay shop") -4.8 (the neighbours are what the first stage is for); 57 windows of ordinary
sentences -8.7 to -5.45 (median -7.0), so the minimum was -5.0 for "hey shop", the default then.
For "hello shopkeeper" `python -m bench.wake_look_dev` (training renderings in training rooms, training
sentences and real speech) found the phrase at -2.10 (p5 -4.72) and ordinary speech that fires the head
at -8.77 to -5.18; its rule (the loosest minimum with every such negative >= 0.5 nats below) sets
[wake] second_look_min_logprob = -4.5. Held out afterwards, once: 85.3 % of the phrase kept (97.3 %
before the look), no false accept in 0.5 h synthetic and 13.7 min real speech (docs/wake/second_look_dev.txt).
`python -m bench wake --second-look forced` measures the held-out voices and real speech.

One decode of the window (as the word look) plus one teacher-forced decoder pass per candidate
(spellings x start places, each alone: see WhisperOrt.continuation_logprobs), spent only on a
first-stage detection; `bench wake --second-look forced` prints its CPU and time per look.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from edge.wake.second_look import SAMPLE_RATE, Verdict

MAX_STARTS = 3
"""Word starts, counted from the end of what was heard, where the phrase is tried (plus the very start and end)."""


def phrase_spellings(phrase: str) -> list[str]:
    """The ways Whisper may write the phrase at the start of a transcript (leading space: a word start)."""
    words = phrase.strip().split()
    if not words:
        raise ValueError("empty wake phrase")
    lower = " ".join(w.lower() for w in words)
    first = lower[:1].upper() + lower[1:]
    titled = " ".join(w[:1].upper() + w[1:] for w in lower.split())
    forms = [first, lower, titled, f"{first}."]
    if len(words) > 1:
        head, rest = first.split(" ", 1)
        forms += [f"{head}, {rest}", f"{head}, {rest[:1].upper() + rest[1:]}"]
    return [" " + f for f in dict.fromkeys(forms)]


class ForcedLook:
    """Score the phrase under the recognizer's Whisper (edge.asr.whisper_ort.WhisperOrt) given the window."""

    def __init__(self, whisper: Any, phrase: str, min_logprob: float = -5.0, window_seconds: float = 1.8,
                 minimum_source: str = "given") -> None:
        if not hasattr(whisper, "continuation_logprobs"):
            raise ValueError('[wake] second_look_method = "forced" needs Whisper on onnxruntime ([asr] runtime = '
                             '"onnxruntime"); with the sherpa runtime set [wake] second_look = false or '
                             'second_look_method = "words"')
        self.whisper = whisper
        self.phrase = phrase
        self.min_score = min_logprob
        self.minimum_source = minimum_source
        """Why min_score is what it is (edge.wake.look_minimum: the setting, this build's calibration, or the fallback)."""
        self.window = int(window_seconds * SAMPLE_RATE)
        self._spellings = [whisper.encode_text(s) for s in phrase_spellings(phrase)]

    def score(self, audio: np.ndarray) -> tuple[float, str]:
        """(best mean log-probability per phrase token, what the free decode heard)."""
        cross, frames = self.whisper.encode(audio)
        heard, _ended, _ = self.whisper.greedy(cross, frames)
        words = [i for i, t in enumerate(heard) if self.whisper.tokens.get(t, b"").startswith(b" ")]
        # the window ends just after the phrase: it starts at the beginning or at one of the last words
        starts = sorted({0, len(heard), *words[-MAX_STARTS:]})
        begin = self.whisper.initial()
        candidates = [(begin + heard[:k], spelling) for k in starts for spelling in self._spellings]
        logps = self.whisper.continuation_logprobs(cross, [before + spelling for before, spelling in candidates])
        best = max(float(np.mean(logp[len(before) - 1:])) for (before, _), logp in zip(candidates, logps, strict=True))
        return best, self.whisper.text(heard)

    def check(self, audio: np.ndarray) -> Verdict:
        """The verdict on the last window of audio (16 kHz float32)."""
        began = time.perf_counter()
        score, heard = self.score(np.ascontiguousarray(audio[-self.window:], dtype=np.float32))
        return Verdict(score >= self.min_score, heard, round(score, 3), round(1000 * (time.perf_counter() - began), 1))
