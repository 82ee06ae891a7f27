"""Beam search for WhisperOrt: several transcripts kept alive instead of greedy's one.

Greedy commits to each token as it comes: in noise, one wrong early word ("Add to bags of") sends
the rest of the request down a path the audio supports less than another would have. A beam keeps
the `size` best partial transcripts by summed log-probability, and picks among the finished ones by
log-probability per token (openai-whisper's BeamSearchDecoder with patience, and its ranker without
a length penalty). With a catalog bias (edge.asr.biasing) the bonus is added to each candidate's
log-probability, so a name the audio half supports survives as one hypothesis until the audio
after it decides, where greedy had to decide at the name's first token.

The per-layer decoder runs one sequence at a time (edge.asr.whisper_ort: its reshapes are constants,
and a batch would share the INT8 activations' scale across hypotheses), so a step costs one decoder
run per live hypothesis. Each hypothesis keeps the self-attention cache its last step returned;
siblings share their parent's (onnxruntime allocates new outputs at every run, so a cache is never
written after it is made).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.asr.whisper_ort import _log_softmax


@dataclass(frozen=True)
class _Hypothesis:
    tokens: tuple[int, ...]
    score: float
    """Summed log-probability of tokens (plus the bias's bonuses), the search's order."""
    cache: Any = None
    offset: int = 0


def _candidates(logp: np.ndarray, hypothesis: _Hypothesis, width: int, bias: Any) -> list[tuple[float, int]]:
    adjusted = bias.adjust(logp, list(hypothesis.tokens)) if bias is not None else logp
    top = np.argpartition(-adjusted, width)[:width]
    return [(hypothesis.score + float(adjusted[t]), int(t)) for t in top]


def beam_search(whisper: Any, cross: Any, frames: int, prompt: tuple[int, ...] = (), prefix: tuple[int, ...] = (),
                bias: Any = None, size: int = 4, patience: float = 1.0,
                alternatives: list[tuple[list[int], float]] | None = None) -> tuple[list[int], bool, float]:
    """(text tokens of the best finished hypothesis, whether it ended with end-of-text rather than the token
    limit, its score per token: the ranking's log-probability per token, the bias's bonuses included), over an
    encoded window (WhisperOrt.encode's output): the same token limit and first-token suppression as
    WhisperOrt.greedy, which this replaces for `size` > 1. `alternatives`, if given, receives every hypothesis
    the ranking chose among, as (tokens, score per token), best first: the N-best the dialogue may re-rank by
    what it understands (edge.dialog.hearing)."""
    eot = whisper.eot
    limit = min(int(frames / 100.0 * 6), whisper.n_text_ctx // 2)
    if limit <= 0:  # under 0.17 s of audio: greedy writes nothing either
        return list(prefix), True, float("-inf")
    wanted = round(size * patience)
    feed = whisper.initial(prompt, prefix)
    binding, cache, first = whisper.opening(cross, feed, bool(prompt) and not prefix)
    first = first.astype(np.float32, copy=True)
    first[eot + 1:] = -np.inf  # special tokens (timestamps, language, task): never text
    start = _Hypothesis(tuple(prefix), 0.0, cache, len(feed))
    live, finished = _extend([(start, _log_softmax(first))], size, bias, eot, [], wanted)
    for _ in range(1, limit):
        if not live or len(finished) >= wanted:
            break
        stepped = []
        for hypothesis in live:
            if hypothesis.offset >= whisper.n_text_ctx - 2:
                finished.append(hypothesis)
                continue
            logits, cache = whisper._step(binding, [hypothesis.tokens[-1]], hypothesis.cache, hypothesis.offset)
            row = logits[-1].astype(np.float32, copy=True)
            row[eot + 1:] = -np.inf
            stepped.append((_Hypothesis(hypothesis.tokens, hypothesis.score, cache, hypothesis.offset + 1),
                            _log_softmax(row)))
        live, finished = _extend(stepped, size, bias, eot, finished, wanted)
    # hypotheses the limit cut compete too, as openai-whisper's do, unless enough had finished
    pool = finished + (live if len(finished) < wanted else [])
    if not pool:
        return list(prefix), True, float("-inf")

    def per_token(h: _Hypothesis) -> float:
        return h.score / max(1, len(h.tokens) - len(prefix))

    best = max(pool, key=per_token)
    if alternatives is not None:
        alternatives += [(list(h.tokens), per_token(h)) for h in sorted(pool, key=per_token, reverse=True)]
    return list(best.tokens), any(best is h for h in finished), per_token(best)


def _extend(stepped: list[tuple[_Hypothesis, np.ndarray]], size: int, bias: Any, eot: int,
            finished: list[_Hypothesis], wanted: int) -> tuple[list[_Hypothesis], list[_Hypothesis]]:
    """The next live hypotheses (at most size) and the finished ones, from each hypothesis's next-token
    log-probabilities: every hypothesis offers its size + 1 best continuations, and an end-of-text counts
    only when it ranks above the size-th live continuation (openai-whisper's rule: without it, the ends of
    hopeless hypotheses fill the finished list and stop the search before the best one has ended)."""
    offers = []
    for hypothesis, logp in stepped:
        for score, token in _candidates(logp, hypothesis, size + 1, bias):
            offers.append((score, token, hypothesis))
    offers.sort(key=lambda o: -o[0])
    live: list[_Hypothesis] = []
    finished = list(finished)
    seen: set[tuple[int, ...]] = set()
    for score, token, parent in offers:  # best first, down to the size-th live one (an end below it is no candidate)
        if token == eot:
            if len(finished) < wanted:
                finished.append(_Hypothesis(parent.tokens, score))
            continue
        tokens = (*parent.tokens, token)
        if tokens in seen:
            continue
        seen.add(tokens)
        live.append(_Hypothesis(tokens, score, parent.cache, parent.offset))
        if len(live) == size:
            break
    return live, finished
