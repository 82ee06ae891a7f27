"""Whisper's timestamp mode for greedy decoding: the rules openai-whisper applies (ApplyTimestampRules).

The device decodes a command without timestamps (<|notimestamps|>, as sherpa-onnx does): one short
sentence needs none. A packed window (edge.asr.packing: several sentences with their pauses, up to 29 s)
does: without timestamps Whisper tiny.en often wrote one sentence of a 20 s window and stopped (tune split's
long recordings: WER 0.316 packed in 20 s windows vs 0.285 one utterance at a time; with timestamps 0.284).
Whisper was trained to write long audio as timed segments, `<|t0|> text <|t1|><|t1|> text <|t2|>`, and
these rules keep a greedy decode on that form:

- the first token is a timestamp, at most MAX_INITIAL (1 s) in;
- timestamps come in pairs around text and never go back;
- when the timestamps together are likelier than any text token, a timestamp it is.

Only the text reaches the transcript (`strip`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_INITIAL = 50
"""The first timestamp at most this many 20 ms steps in (Whisper's max_initial_timestamp, 1.0 s)."""
TOKENS_PER_STAMP = 50
"""Timestamp tokens a second (Whisper's 20 ms steps)."""
TOKENS_PER_SECOND = 8
"""Token budget of a timed decode (sherpa's untimed one is 6 a second): each segment adds two timestamps."""


class TimestampRules:
    """Masks a step's logits in place; `first` is the first timestamp token (<|0.00|>), `eot` end-of-text."""

    def __init__(self, first: int, eot: int) -> None:
        self.first = first
        self.eot = eot

    def apply(self, logits: np.ndarray, sequence: Sequence[int]) -> np.ndarray:
        """logits (vocabulary,) for the token after `sequence` (the predicted tokens so far), masked."""
        first = self.first
        if not sequence:
            logits[:first] = -np.inf
            logits[first + MAX_INITIAL + 1:] = -np.inf
            return logits
        last = sequence[-1] >= first
        penultimate = len(sequence) < 2 or sequence[-2] >= first
        if last:
            if penultimate:  # a pair just closed: text (or the end) must follow
                logits[first:] = -np.inf
            else:  # text, then one timestamp: its pair (or the end) must follow
                logits[:self.eot] = -np.inf
        stamps = [t for t in sequence if t >= first]
        if stamps:  # never back in time; a new segment starts after the last one ended
            logits[first:stamps[-1] + (0 if last and not penultimate else 1)] = -np.inf
        stamped = logits[first:]
        top = stamped.max()
        if np.isfinite(top) and top + np.log(np.exp(stamped - top).sum()) > logits[:first].max():
            logits[:first] = -np.inf  # log-sum of the timestamps beats every text token (the softmax cancels)
        return logits

    def strip(self, tokens: Sequence[int]) -> list[int]:
        """The text tokens of a timed decode."""
        return [t for t in tokens if t < self.first]


class Picker:
    """Greedy's choice of the next token: the best logit, under Whisper's timestamp rules for a timed decode."""

    def __init__(self, rules: TimestampRules | None) -> None:
        self.rules = rules

    def __call__(self, logits: np.ndarray, sequence: Sequence[int]) -> int:
        if self.rules is None:
            return int(np.argmax(logits))
        return int(np.argmax(self.rules.apply(logits.copy(), sequence)))  # apply masks in place: not the caller's

    def strip(self, tokens: list[int]) -> list[int]:
        """The tokens a caller gets: a timed decode's timestamps left out."""
        return tokens if self.rules is None else self.rules.strip(tokens)
