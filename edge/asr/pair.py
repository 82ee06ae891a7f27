"""Two Whispers hear every request; the surer one's transcript is kept (`[asr] second_model`).

tiny.en and base, given the same audio, prompt, catalog bias and beam, err on different words in noise:
on `bench task --dev` (tiny.en, >= 10 dB, 20 commands) they read the same intent and product on two
clips in three, and where they did the chain was right 0.97 / 0.96 of the time; where they did not,
one of the two was often right (an oracle choosing between them: intent 0.84 -> 0.91, product-correct
0.74 -> 0.86). Without a reference the choice is each transcript's own log-probability per token (the
ranking score of edge.asr.beam, the catalog bias's bonuses included): Whisper is surer of what it heard
clearly. Both models score with the same search, so the two numbers compare; on a tie the first wins.

The second model decodes in its own thread while the first decodes in the caller's (onnxruntime lets the
GIL go during a run): on two cores the request waits for the slower model, not for both. Packed
long-form windows (`edge transcribe`'s timestamp mode) stay with the first model alone.

The two models write with different tokenizers (GPT-2's English BPE, the multilingual one), so each gets
its own prompt and catalog bias over the same dialogue context (PairedPrompt).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from edge.asr.recognition import Scored
from edge.config import Settings

log = logging.getLogger("edge.asr")

Heard = TypeVar("Heard", bound=tuple)


def second_settings(settings: Settings) -> Settings:
    """The settings the second recognizer is built from: its model on onnxruntime (the runtime that reports a
    transcript's log-probability). Raises AsrError for a pair that cannot work."""
    from edge.asr.models import AsrError

    asr = settings.asr
    if asr.second_model == asr.model:
        raise AsrError(f'[asr] second_model = "{asr.second_model}" is [asr] model already: choose the other '
                       'model or "" for none')
    if asr.second_model == "tiny.en" and asr.language != "en":
        raise AsrError(f'[asr] second_model = "tiny.en" hears English only, not language "{asr.language}"')
    if asr.engine != "whisper":
        raise AsrError('[asr] second_model needs engine = "whisper"')
    return dataclasses.replace(settings, asr=dataclasses.replace(asr, model=asr.second_model, runtime="onnxruntime"))


def choose(first: Heard, second: Heard) -> Heard:
    """The transcript to keep of two (text, log-probability per token[, what else it carries: the beam's
    alternatives]): the surer; the first on a tie or where one has no score (a runtime that reports none)."""
    if second[1] is None or (first[1] is not None and first[1] >= second[1]):
        return first
    return second


def readings(*heard: Scored) -> tuple[tuple[str, float], ...]:
    """Both models' transcripts and beam hypotheses as one list of readings for the dialogue (edge.dialog.hearing),
    best score first, each text once at its best score: the scores compare as `choose` compares them."""
    best: dict[str, float] = {}
    for text, logprob, others in heard:
        for said, score in ((text, logprob), *others):
            if said and score is not None and score > best.get(said, float("-inf")):
                best[said] = score
    return tuple(sorted(best.items(), key=lambda item: -item[1])) if len(best) > 1 else ()


class PairedPrompt:
    """One dialogue context, two prompts: the first recognizer's (what the device's code sees) and the
    second's, in its own tokens. update() tells both."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second

    def update(self, names: Iterable[str]) -> None:
        names = list(names)
        self.first.update(names)
        self.second.update(names)

    @property
    def bias(self) -> Any:
        return self.first.bias

    @property
    def text(self) -> str:
        return self.first.text

    def ids(self) -> tuple[int, ...]:
        return self.first.ids()

    def echoes(self, text: str) -> bool:
        return self.first.echoes(text)


def _side(prompt: Any, second: bool) -> Any:
    if isinstance(prompt, PairedPrompt):
        return prompt.second if second else prompt.first
    return None if second else prompt  # a prompt in the first model's tokens means nothing to the second


def paired_decoder(first: Any, second: Any):  # -> the same decode(samples, prompt, timed, spans) -> str
    """A decode function (edge.asr.whisper_decoder's interface) over two of them: both hear each request, the
    surer transcript is kept (choose). The wake word's forced look and packing see the first recognizer."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr-second")

    def scored(samples: np.ndarray, prompt: Any = None, timed: bool = False,
               spans: Sequence[tuple[float, float]] = ()) -> Scored:
        if timed:
            return first.scored(samples, _side(prompt, False), timed, spans)
        other = worker.submit(second.scored, samples, _side(prompt, True))
        mine = first.scored(samples, _side(prompt, False))
        try:
            theirs = other.result()
        except Exception:  # the second opinion is optional: the request goes on with the first model's transcript
            log.exception("[asr] second_model failed on a request; kept the first model's transcript")
            return mine
        text, logprob, _ = choose(mine, theirs)
        return text, logprob, readings(mine, theirs)

    def decode(samples: np.ndarray, prompt: Any = None, timed: bool = False,
               spans: Sequence[tuple[float, float]] = ()) -> str:
        return scored(samples, prompt, timed, spans)[0]

    decode.scored = scored  # type: ignore[attr-defined]
    decode.recognizer = first.recognizer  # type: ignore[attr-defined]
    decode.first, decode.second = first, second  # type: ignore[attr-defined]  # attach_prompt: a prompt each
    decode.takes_timed = first.takes_timed  # type: ignore[attr-defined]
    return decode
