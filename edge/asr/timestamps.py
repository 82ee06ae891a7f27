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

Only the text reaches the transcript (`strip`). `stopped` says where a timed decode stopped writing real
segments, for WhisperOrt.timed to decode the rest of a window again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger("edge.asr")

MAX_INITIAL = 50
"""The first timestamp at most this many 20 ms steps in (Whisper's max_initial_timestamp, 1.0 s)."""
STAMPS_PER_SECOND = 50
"""Timestamp tokens a second (Whisper's 20 ms steps)."""
MIN_REST = 2.0
"""`resumed` decodes a window again from where Whisper stopped only if an utterance has this many seconds left
after that point (the VAD's stop includes its tail of silence; 1 s re-decoded such a tail on a bench recording
and inserted "I'm going to be up.")."""
MIN_ADVANCE = 0.5
"""... and only if Whisper's segments reached this far into the window (an empty decode is not retried)."""
MAX_RESUMES = 4
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


def segments(raw: Sequence[int], first: int) -> list[tuple[float, float, list[int]]]:
    """A timed decode's (start s, end s, text tokens) segments: timestamps open and close them in turn."""
    out: list[tuple[float, float, list[int]]] = []
    opened: int | None = None
    text: list[int] = []
    for token in raw:
        if token < first:
            text.append(token)
        elif opened is None:
            opened, text = token, []
        else:
            out.append(((opened - first) / STAMPS_PER_SECOND, (token - first) / STAMPS_PER_SECOND, text))
            opened, text = None, []
    return out


def stopped(raw: Sequence[int], ended: bool, first: int) -> tuple[list[int] | None, float | None]:
    """(the text tokens to keep instead of all, or None; seconds into the window where real segments stopped, or
    None) of a timed decode's tokens as decoded, and whether it ended with end-of-text:

    - end-of-text right after a timestamp closing the last segment: the window may hold more (Whisper tiny.en
      often writes one sentence of a long noisy window and ends; openai-whisper seeks to the last timestamp
      too). Not after text left open: where it ends in the audio is unknown, and it would come out twice;
    - the token limit with one segment's text written again and again ("I'm not a clean." once a second over
      26 s of requests): the segments from the first repeat on are dropped; without such a repeat, the guard's.
    """
    parts = segments(raw, first)
    if ended:
        return None, (parts[-1][1] if parts and raw[-1] >= first else None)
    loop = next((i for i in range(1, len(parts)) if parts[i][2] == parts[i - 1][2]), None)
    if loop is None:
        return None, None
    return [t for _, _, text in parts[:loop] for t in text], parts[loop - 1][1]


def resumed(decode_from: Callable[[float], tuple[list[int], bool, list[int]]], spans: Sequence[tuple[float, float]],
            first: int, seconds: float) -> list[int]:
    """A packed window's text tokens, decoded again from where Whisper stopped (`stopped`) while an utterance
    (spans: the VAD's (start, stop), seconds into the window) has at least MIN_REST s left there, at most
    MAX_RESUMES times. decode_from(at) -> (text tokens, ended with end-of-text, tokens as decoded) of the
    window's audio from `at` seconds on. Long recordings, packed (tune split of 16): WER 0.269 -> 0.262, held
    out (16 others) 0.282 -> 0.273, the same CPU; none worse."""
    ids: list[int] = []
    at = 0.0
    for _ in range(MAX_RESUMES + 1):
        part, ended, raw = decode_from(at)
        kept, reached = stopped(raw, ended, first)
        ids += part if kept is None else kept
        if reached is None or reached < MIN_ADVANCE:
            break
        point = at + reached
        resume = next((max(start, point) for start, stop in spans if stop - max(start, point) >= MIN_REST), None)
        if resume is None:
            break
        log.info("Whisper %s at %.1f s of a %.1f s window: decoding from %.1f s", "ended" if ended else "looped",
                 point, seconds, resume)
        at = resume
    return ids
