"""Two hearings of every request; the surer transcript is kept (`[asr] second_model`, `[asr] second_hearing`).

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

`[asr] second_hearing = "slower"` is the pair without a second model: the same Whisper (the same onnxruntime
sessions: no second model in memory) hears the request a second time, played SLOWER times as long (every sample's time
stretched: the voice 10 % slower and lower). Its transcript alone is worse (dev 0.847 / 0.753 -> 0.830 / 0.719),
but it errs on other words: an oracle over the two 0.896 / 0.817, and both hearings' readings, the surer kept and
the rest handed to the dialogue, 0.855 / 0.775 (`bench task --dev`, tiny.en, >= 10 dB, 20 commands; intent 41
fixed / 29 broken, product 54 / 28). Tried beside it on the same clips: a Wiener-filtered copy (oracle 0.864 /
0.774, merged 0.851 / 0.756: too close to the original to disagree usefully) and choosing by agreement between
the hearings instead of the higher score (0.858 / 0.763). Held-out, read once (`bench task --models tiny.en --snr 20
--snr 10 --hearing-changes [--second-hearing slower]`, a Zen 4 build): 0.806 / 0.653 -> 0.828 / 0.688 (intent 94
fixed / 43 broken, product 83 / 23), every held-out voice and every noise better. Its cost is the second decode's
CPU and, the two running at once, working memory: off by default (edge.config AsrSettings.second_hearing).
`[asr] second_hearing_below` hears again only a request the first hearing was unsure of, one hearing after the
other on the caller's thread: the memory of one hearing, the accuracy of nearly two (held-out 0.824 / 0.682 at 0,
55 % of requests heard twice), but a request heard twice waits for both decodes (bench e2e p95 ~820 ms).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from edge.asr.recognition import Scored
from edge.config import Settings

log = logging.getLogger("edge.asr")

Heard = TypeVar("Heard", bound=tuple)


def _one_second_opinion(asr: Any) -> None:
    """Raises AsrError when [asr] asks for both a second model and a second hearing."""
    from edge.asr.models import AsrError

    if asr.second_model and asr.second_hearing:
        raise AsrError(f'[asr] second_hearing = "{asr.second_hearing}" and second_model = "{asr.second_model}": '
                       'choose one second opinion')


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
    _one_second_opinion(asr)
    if asr.engine != "whisper":
        raise AsrError('[asr] second_model needs engine = "whisper"')
    return dataclasses.replace(settings, asr=dataclasses.replace(asr, model=asr.second_model, runtime="onnxruntime"))


SLOWER = 1.1
"""How much longer the second hearing plays a request (`[asr] second_hearing = "slower"`)."""


def slower(samples: np.ndarray) -> np.ndarray:
    """The request played SLOWER times as long (linear interpolation between samples: a gentle low-pass)."""
    if len(samples) < 2:
        return samples
    stretched = int(round(len(samples) * SLOWER))
    return np.interp(np.linspace(0.0, len(samples) - 1, stretched), np.arange(len(samples)),
                     samples).astype(np.float32)


def second_hearing(settings: Settings) -> Callable[[np.ndarray], np.ndarray]:
    """What the second hearing does to the audio. Raises AsrError for one that cannot work."""
    from edge.asr.models import AsrError
    from edge.config import whisper_runtime

    asr = settings.asr
    _one_second_opinion(asr)
    if asr.engine != "whisper" or whisper_runtime(asr) != "onnxruntime":
        raise AsrError('[asr] second_hearing needs engine = "whisper" on runtime "onnxruntime" (whose transcripts '
                       'carry the log-probability the two hearings are compared by)')
    return slower


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


def paired_decoder(first: Any, second: Any, second_audio: Callable[[np.ndarray], np.ndarray] | None = None,
                   below: float | None = None):
    """A decode function (edge.asr.whisper_decoder's interface) over two of them: both hear each request, the
    surer transcript is kept (choose). The wake word's forced look and packing see the first recognizer.
    second may be first itself, hearing `second_audio(samples)` (`[asr] second_hearing`): then one prompt serves
    both. below: the second hears a request only when the first's score is below it, after the first on the
    caller's thread (one decode's working memory at a time); None: always, at once in a second thread."""
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr-second")
    same = second is first
    change = second_audio or (lambda samples: samples)
    counts = {"requests": 0, "twice": 0}

    def merged(mine: Scored, theirs: Callable[[], Scored]) -> Scored:
        """The surer of the two hearings, with both hearings' readings; the first's alone if the second failed."""
        try:
            heard = theirs()
        except Exception:  # the second opinion is optional: the request goes on with the first's transcript
            log.exception("[asr] the second hearing failed on a request; kept the first's transcript")
            return mine
        text, logprob, _ = choose(mine, heard)
        return text, logprob, readings(mine, heard)

    def scored(samples: np.ndarray, prompt: Any = None, timed: bool = False,
               spans: Sequence[tuple[float, float]] = ()) -> Scored:
        if timed:
            return first.scored(samples, _side(prompt, False), timed, spans)
        counts["requests"] += 1

        def again() -> Scored:
            return second.scored(change(samples), _side(prompt, not same))

        if below is None:  # both at once, the second in the worker
            other = worker.submit(again)
            counts["twice"] += 1
            return merged(first.scored(samples, _side(prompt, False)), other.result)
        mine = first.scored(samples, _side(prompt, False))
        if mine[1] is None or mine[1] >= below:
            return mine
        counts["twice"] += 1
        return merged(mine, again)  # unsure: heard again after the first, on this thread

    def decode(samples: np.ndarray, prompt: Any = None, timed: bool = False,
               spans: Sequence[tuple[float, float]] = ()) -> str:
        return scored(samples, prompt, timed, spans)[0]

    def scored_once(samples: np.ndarray, prompt: Any = None, timed: bool = False,
                    spans: Sequence[tuple[float, float]] = ()) -> Scored:
        return first.scored(samples, _side(prompt, False), timed, spans)

    def once(samples: np.ndarray, prompt: Any = None, timed: bool = False,
             spans: Sequence[tuple[float, float]] = ()) -> str:
        return scored_once(samples, prompt, timed, spans)[0]

    once.scored = scored_once  # type: ignore[attr-defined]
    decode.once = once  # type: ignore[attr-defined]  # the first alone, for partials (edge.asr.stream)
    decode.scored = scored  # type: ignore[attr-defined]
    decode.counts = counts  # type: ignore[attr-defined]  # requests decoded, and how many of them twice
    decode.recognizer = first.recognizer  # type: ignore[attr-defined]
    decode.first = first  # type: ignore[attr-defined]
    decode.second = None if same else second  # type: ignore[attr-defined]  # attach_prompt: a prompt each
    decode.takes_timed = first.takes_timed  # type: ignore[attr-defined]
    return decode
