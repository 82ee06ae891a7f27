"""Beam search for WhisperOrt (edge/asr/beam.py): it finds what greedy's first choice hides, and on the real
bundle it decodes the device's requests no worse than greedy."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from edge.asr.beam import beam_search
from edge.asr.whisper_ort import WhisperOrt

EOT, START, VOCAB = 50, 55, 60
A, B, C, D, E, F = 1, 2, 3, 4, 5, 6


class Scripted:
    """A stand-in decoder: the next-token probabilities after each transcript so far (WhisperOrt's step calls)."""

    eot, n_text_ctx, _blank, _wide_run = EOT, 64, [], None
    opening = WhisperOrt.opening  # the real first step, over the scripted _begin and _step

    def __init__(self, table: dict[tuple[int, ...], dict[int, float]]) -> None:
        self.table, self.steps = table, 0

    def initial(self, prompt: Sequence[int] = (), prefix: Sequence[int] = ()) -> list[int]:
        return [START, *prefix]

    def _begin(self, cross: object) -> tuple[None, tuple[int, ...]]:
        return None, ()

    def _step(self, binding: object, tokens: Sequence[int], cache: tuple[int, ...], offset: int,
              run: object = None) -> tuple[np.ndarray, tuple[int, ...]]:
        self.steps += 1
        seen = (*cache, *tokens)
        assert len(cache) == offset, "a hypothesis's cache must hold exactly the tokens before its offset"
        probs = self.table.get(tuple(t for t in seen if t != START), {EOT: 1.0})
        row = np.full(VOCAB, -30.0, np.float32)
        for token, p in probs.items():
            row[token] = math.log(p)
        return np.stack([row] * len(tokens)), seen


TABLE = {(): {A: 0.55, B: 0.45}, (A,): {C: 0.3, D: 0.3, E: 0.4}, (B,): {F: 0.95, C: 0.05}}


def greedy(whisper: Scripted) -> list[int]:
    out: list[int] = []
    while True:
        probs = whisper.table.get(tuple(out), {EOT: 1.0})
        token = max(probs, key=probs.get)
        if token == EOT:
            return out
        out.append(token)


def test_the_beam_keeps_the_path_greedy_drops_at_its_first_token():
    whisper = Scripted(TABLE)
    assert greedy(whisper) == [A, E]  # 0.55 * 0.4 = 0.22
    tokens, ended, logprob = beam_search(whisper, None, 500, size=2)
    assert tokens == [B, F] and ended  # 0.45 * 0.95 = 0.43
    # the score per token: B, F and the end-of-text (probability 1), over the two text tokens
    assert logprob == pytest.approx((math.log(0.45) + math.log(0.95)) / 2, abs=1e-4)


def test_one_hypothesis_is_greedy():
    tokens, ended, _ = beam_search(Scripted(TABLE), None, 500, size=1)
    assert tokens == [A, E] and ended


def test_special_tokens_never_enter_a_transcript():
    table = {(): {START + 1: 0.9, A: 0.1}}  # a timestamp-like token above end-of-text scores best
    tokens, *_ = beam_search(Scripted(table), None, 500, size=3)
    assert tokens == [A]


def test_the_token_limit_ends_a_search_that_never_finishes():
    class Endless(dict):
        def get(self, key: object, default: object = None) -> dict[int, float]:
            return {A: 0.6, B: 0.4}  # never end-of-text, as a repetition loop

    tokens, ended, _ = beam_search(Scripted(Endless()), None, 200, size=2)  # 2 s: at most 12 tokens
    assert tokens == [A] * 12 and not ended


def test_a_prefix_is_kept_and_not_counted_as_decoded():
    table = {(A,): {B: 0.5, C: 0.5}, (A, B): {EOT: 1.0}, (A, C): {EOT: 1.0}}
    tokens, *_ = beam_search(Scripted(table), None, 500, prefix=(A,), size=2)
    assert tokens[0] == A and len(tokens) == 2


def test_the_bias_bonus_enters_the_search_score():
    class Lean:
        def adjust(self, logp: np.ndarray, out: list[int]) -> np.ndarray:
            row = logp.copy()
            if not out:
                row[A] += 2.0  # as if A began a catalog name
            return row

    tokens, *_ = beam_search(Scripted(TABLE), None, 500, bias=Lean(), size=2)
    assert tokens[0] == A


@pytest.mark.slow
def test_the_device_recognizer_with_a_beam_hears_clean_requests_no_worse_than_greedy(bundle, monkeypatch):
    import dataclasses

    from edge.asr import beam as beam_module
    from edge.asr import recognizer_for_settings
    from edge.asr.files import final_transcripts
    from edge.config import load_settings
    from export.speech_corpus import ESPEAK_VOICES, PIPER_VOICES, SENTENCES, clip, read_wav_16k
    from export.wer import wer
    from tests.conftest import MODELS_DIR

    bundle("vad")
    bundle("asr")
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)})
    searches = []
    search = beam_module.beam_search

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        searches.append(1)
        return search(*args, **kwargs)

    monkeypatch.setattr(beam_module, "beam_search", counting)
    hearers = {size: recognizer_for_settings(dataclasses.replace(settings, asr=dataclasses.replace(
        settings.asr, beam_size=size)), partials=False, speculative=False, threads=1) for size in (1, 4)}
    utterances = [clip(text, voice) for voice in (PIPER_VOICES[0], ESPEAK_VOICES[0]) for text in SENTENCES[:20]]
    heard: dict[int, list[tuple[str, str]]] = {1: [], 4: []}
    for u in utterances:
        audio = read_wav_16k(u.path)
        for size, recognizer in hearers.items():
            before = len(searches)
            text = " ".join(e.text for e in final_transcripts(recognizer, audio, 1280))
            assert size > 1 or len(searches) == before, "greedy must not search"
            heard[size].append((u.text, text))
    assert len(searches) >= len(utterances), "the beam never ran"
    assert wer(heard[4]) <= wer(heard[1]) + 0.02, list(zip(heard[1], heard[4], strict=True))


def test_an_end_ranked_below_the_live_hypotheses_does_not_finish_the_search():
    """openai-whisper's rule: the unlikely end-of-text offers of every step would otherwise fill the finished list
    and stop the search with a truncated transcript ("What is a pound" for "what does a pound of ... cost")."""

    class Long(dict):
        def get(self, key: tuple[int, ...], default: object = None) -> dict[int, float]:
            if key == (A,) * 5:
                return {EOT: 0.95, C: 0.05}
            if key and key[-1] != A:
                return {EOT: 0.6, D: 0.4}
            return {A: 0.7, C: 0.2, EOT: 0.05, D: 0.05}

    tokens, ended, _ = beam_search(Scripted(Long()), None, 500, size=2)
    assert tokens == [A] * 5 and ended


def test_too_short_for_a_token_writes_nothing_as_greedy():
    assert beam_search(Scripted(TABLE), None, 10, size=4)[:2] == ([], True)
