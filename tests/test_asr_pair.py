"""[asr] second_model and second_hearing (edge.asr.pair): two hearings of a request, the surer transcript is kept."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from edge.asr.pair import (
    SLOWER,
    PairedPrompt,
    choose,
    paired_decoder,
    readings,
    second_hearing,
    second_settings,
    slower,
)
from edge.config import EVERY_REQUEST, load_settings


def test_the_surer_transcript_is_kept_and_the_first_on_a_tie():
    assert choose(("add oat milk", -0.2), ("add boat milk", -0.5)) == ("add oat milk", -0.2)
    assert choose(("add boat milk", -0.5), ("add oat milk", -0.2)) == ("add oat milk", -0.2)
    assert choose(("first", -0.3), ("second", -0.3))[0] == "first"
    assert choose(("first", None), ("second", -3.0))[0] == "second"  # a side without a score never wins on it
    assert choose(("first", -3.0), ("second", None))[0] == "first"


def test_both_models_readings_go_to_the_dialogue_as_one_list():
    tiny = ("add boat milk", -0.6, (("add boat milk", -0.6), ("add oat milk", -0.7)))
    base = ("add oat milk", -0.3, (("add oat milk", -0.3), ("at oat milk", -0.9)))
    assert readings(tiny, base) == (("add oat milk", -0.3), ("add boat milk", -0.6), ("at oat milk", -0.9))
    assert readings(("add milk", None, ()), ("add milk", -0.2, ())) == ()  # one reading is no choice
    assert readings(("add milk", -0.2, ()), ("add silk", -0.4, ())) == (("add milk", -0.2), ("add silk", -0.4))


class Fake:
    """A whisper_decoder stand-in: fixed (text, score), records what it was asked with and on which thread."""

    def __init__(self, text: str, logprob: float) -> None:
        self.result, self.calls = (text, logprob, ()), []
        self.recognizer, self.takes_timed = object(), True

    def scored(self, samples, prompt=None, timed=False, spans=()):  # noqa: ANN001, ANN201
        self.calls.append((prompt, timed, threading.current_thread().name))
        return self.result


class Prompt:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.bias = "bias"
        self.text = "text"

    def update(self, names):  # noqa: ANN001, ANN201
        self.names = list(names)

    def ids(self) -> tuple[int, ...]:
        return (1, 2)

    def echoes(self, text: str) -> bool:
        return text == "echo"


def test_both_hear_each_request_with_their_own_prompt_the_second_in_its_own_thread():
    first, second = Fake("add boat milk", -0.6), Fake("add oat milk", -0.3)
    decode = paired_decoder(first, second)
    prompts = PairedPrompt(Prompt(), Prompt())
    assert decode(np.zeros(16000, np.float32), prompts) == "add oat milk"
    assert decode.scored(np.zeros(16000, np.float32), prompts) == (
        "add oat milk", -0.3, (("add oat milk", -0.3), ("add boat milk", -0.6)))  # both hearings, for the dialogue
    (p1, timed1, thread1), (p2, timed2, thread2) = first.calls[0], second.calls[0]
    assert p1 is prompts.first and p2 is prompts.second and not timed1 and not timed2
    assert thread2 != thread1 and thread2.startswith("asr-second")
    # the wake word's forced look and packing see the first recognizer
    assert decode.recognizer is first.recognizer and decode.second is second and decode.takes_timed


def test_a_second_model_that_fails_leaves_the_first_models_transcript(caplog):
    class Broken(Fake):
        def scored(self, samples, prompt=None, timed=False, spans=()):  # noqa: ANN001, ANN201
            raise RuntimeError("onnxruntime: out of memory")

    decode = paired_decoder(Fake("add oat milk", -0.9), Broken("", 0.0))
    with caplog.at_level("ERROR", logger="edge.asr"):
        assert decode(np.zeros(16000, np.float32), None) == "add oat milk"
    assert "second hearing failed" in caplog.text


def test_a_packed_long_form_window_stays_with_the_first_model():
    first, second = Fake("one. two.", -0.9), Fake("one two", -0.1)
    decode = paired_decoder(first, second)
    assert decode(np.zeros(16000, np.float32), None, timed=True, spans=((0.0, 1.0),)) == "one. two."
    assert second.calls == [] and first.calls[0][1] is True


def test_a_prompt_in_the_first_models_tokens_is_never_handed_to_the_second():
    first, second = Fake("a", -0.5), Fake("b", -0.4)
    single = Prompt()
    paired_decoder(first, second)(np.zeros(1600, np.float32), single)
    assert first.calls[0][0] is single and second.calls[0][0] is None


def test_the_paired_prompt_tells_both_models_the_dialogue_and_shows_the_first():
    one, two = Prompt(), Prompt()
    paired = PairedPrompt(one, two)
    paired.update(iter(["oat milk", "russet potatoes"]))  # an iterator: both must see every name
    assert one.names == two.names == ["oat milk", "russet potatoes"]
    assert paired.ids() == (1, 2) and paired.bias == "bias" and paired.text == "text" and paired.echoes("echo")


def test_a_pair_that_cannot_work_is_refused_with_the_fix():
    from edge.asr.models import AsrError

    settings = load_settings(environ={})
    with pytest.raises(AsrError, match="second_model"):
        second_settings(dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, second_model="tiny.en")))
    with pytest.raises(AsrError, match="English only"):
        second_settings(dataclasses.replace(settings, asr=dataclasses.replace(
            settings.asr, model="base", language="zh", second_model="tiny.en")))
    built = second_settings(dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, second_model="base")))
    assert built.asr.model == "base" and built.asr.runtime == "onnxruntime"


def test_the_second_hearing_plays_the_request_slower_and_lower():
    rate = 16000
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    heard = slower(tone)
    assert heard.dtype == np.float32 and len(heard) == round(rate * SLOWER)
    crossings = np.count_nonzero(np.diff(np.signbit(heard)))  # 2 per period
    assert abs(crossings / 2 / (len(heard) / rate) - 200 / SLOWER) < 2  # 200 Hz -> ~182 Hz, over 1.1 s
    assert np.max(np.abs(heard)) <= 1.0 and heard[0] == tone[0] and heard[-1] == tone[-1]
    assert len(slower(np.zeros(1, np.float32))) == 1 and len(slower(np.zeros(0, np.float32))) == 0


def test_the_same_whisper_hears_the_slowed_copy_with_the_same_prompt():
    class Recording(Fake):
        def __init__(self) -> None:
            super().__init__("", 0.0)
            self.lengths: list[int] = []

        def scored(self, samples, prompt=None, timed=False, spans=()):  # noqa: ANN001, ANN201
            super().scored(samples, prompt, timed, spans)
            self.lengths.append(len(samples))
            # the slowed copy is heard surer here
            return ("add oat milk", -0.2, ()) if len(samples) > 16000 else ("add boat milk", -0.5, ())

    whisper = Recording()
    decode = paired_decoder(whisper, whisper, slower)
    prompt = Prompt()
    assert decode.scored(np.zeros(16000, np.float32), prompt) == (
        "add oat milk", -0.2, (("add oat milk", -0.2), ("add boat milk", -0.5)))
    assert sorted(whisper.lengths) == [16000, round(16000 * SLOWER)]
    assert [call[0] for call in whisper.calls] == [prompt, prompt]  # one model, one prompt, for both hearings
    assert decode.second is None  # so attach_prompt makes no second prompt
    whisper.calls.clear()
    assert decode.once.scored(np.zeros(16000, np.float32), prompt)[0] == "add boat milk"  # partials: heard once
    assert len(whisper.calls) == 1 and whisper.calls[0][0] is prompt


def test_a_gated_second_hearing_hears_only_an_unsure_request_again_on_the_same_thread():
    """[asr] second_hearing_below: a request the first hearing is sure of is heard once; an unsure one is heard again
    after it on the caller's thread (never two decodes' working memory at once), and the surer kept as always."""

    class Sure(Fake):
        def scored(self, samples, prompt=None, timed=False, spans=()):  # noqa: ANN001, ANN201
            super().scored(samples, prompt, timed, spans)
            if len(samples) > 16000:
                return ("add oat milk", -0.2, ())
            return ("add boat milk", -0.5, ()) if samples[0] == 0 else ("add oat milk", -0.1, ())

    whisper = Sure("", 0.0)
    decode = paired_decoder(whisper, whisper, slower, below=-0.3)
    sure = np.full(16000, 0.1, np.float32)
    assert decode.scored(sure, None) == ("add oat milk", -0.1, ())  # sure: the first hearing alone, as unpaired
    assert len(whisper.calls) == 1 and decode.counts == {"requests": 1, "twice": 0}
    unsure = np.zeros(16000, np.float32)
    assert decode.scored(unsure, None) == ("add oat milk", -0.2, (("add oat milk", -0.2), ("add boat milk", -0.5)))
    assert decode.counts == {"requests": 2, "twice": 1}
    assert {thread for _, _, thread in whisper.calls} == {threading.current_thread().name}
    assert paired_decoder(Fake("add milk", None), Fake("x", -0.1), below=-0.3).scored(unsure, None)[0] == "add milk"


def test_partials_are_heard_once_by_the_first_of_a_pair():
    """A partial is only shown: the streaming recognizer asks the pair's `once`, the first model with its own prompt;
    the speculative and final decodes hear twice."""
    from edge.asr.recognition import Endpointing
    from edge.asr.stream import VadRecognizer

    first, second = Fake("add oat", -0.5), Fake("add oat milk", -0.2)
    decode = paired_decoder(first, second)
    recognizer = VadRecognizer(lambda: None, decode, Endpointing())
    prompts = PairedPrompt(Prompt(), Prompt())
    recognizer.prompt = prompts
    audio = np.zeros(16000, np.float32)
    assert recognizer._run_decode(audio, partial=True)[0] == "add oat"
    assert len(first.calls) == 1 and second.calls == [] and first.calls[0][0] is prompts.first
    assert recognizer._run_decode(audio)[0] == "add oat milk" and len(second.calls) == 1


def test_a_second_hearing_that_cannot_work_is_refused_with_the_fix():
    from edge.asr.models import AsrError

    settings = load_settings(environ={})
    asr = settings.asr
    assert second_hearing(dataclasses.replace(settings, asr=dataclasses.replace(asr, second_hearing="slower"))) is slower
    with pytest.raises(AsrError, match="choose one"):
        second_hearing(dataclasses.replace(settings, asr=dataclasses.replace(
            asr, second_hearing="slower", second_model="base")))
    with pytest.raises(AsrError, match="choose one"):
        second_settings(dataclasses.replace(settings, asr=dataclasses.replace(
            asr, second_hearing="slower", second_model="base")))
    with pytest.raises(AsrError, match="onnxruntime"):
        second_hearing(dataclasses.replace(settings, asr=dataclasses.replace(
            asr, second_hearing="slower", runtime="sherpa")))


def _prompted(bundle, bundles: tuple[str, ...], **asr: object):  # noqa: ANN001, ANN202
    """A real recognizer with [asr] changed by `asr`, its dialogue prompt over a one-product catalog (the dialogue has
    just offered it), and the clips to hear: four corpus sentences in a Piper and an espeak-ng voice."""
    from edge.asr import recognizer_for_settings
    from edge.asr.prompt import attach_prompt
    from edge.catalog.schema import open_catalog
    from export.speech_corpus import ESPEAK_VOICES, PIPER_VOICES, SENTENCES, clip
    from tests.conftest import MODELS_DIR

    for name in bundles:
        bundle(name)
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)})
    changed = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, **asr))
    recognizer = recognizer_for_settings(changed, partials=False, speculative=False, threads=1)
    conn = open_catalog(":memory:")
    conn.execute("INSERT INTO products (sku, name, brand, category, unit, price_cents) "
                 "VALUES ('p1', 'russet potatoes', 'Farm Fresh', 'produce', 'bag', 399)")
    prompt = attach_prompt(recognizer, "dialog", 160, conn, (4.0, 3.0))
    assert recognizer.prompt is prompt
    prompt.update(["russet potatoes"])
    return recognizer, prompt, [clip(text, voice) for voice in (PIPER_VOICES[0], ESPEAK_VOICES[0])
                                for text in SENTENCES[:4]]


@pytest.mark.slow
def test_the_device_pair_keeps_whichever_model_was_surer(bundle):
    """Real bundles: with [asr] second_model = "base" each request's transcript is the one of the two models' own
    decodes (each with the same dialogue context in its own tokens, its own catalog bias, the beam) with the
    higher log-probability per token."""
    from export.speech_corpus import read_wav_16k

    recognizer, prompt, clips = _prompted(bundle, ("vad", "asr", "asr-base"), second_model="base")
    assert isinstance(prompt, PairedPrompt)
    assert "russet potatoes" in prompt.first.text and prompt.first.text == prompt.second.text
    assert prompt.first.ids() != prompt.second.ids()  # the same words in each model's own tokens
    assert prompt.first.bias is not None and prompt.second.bias is not None
    decode = recognizer.decode
    for u in clips:
        audio = read_wav_16k(u.path)
        first = decode.first.scored(audio, prompt.first)
        second = decode.second.scored(audio, prompt.second)
        assert first[1] is not None and second[1] is not None and first[0] and second[0], u.text
        assert decode.scored(audio, prompt)[:2] == choose(first, second)[:2]


@pytest.mark.slow
def test_the_device_hears_each_request_twice_on_one_whisper(bundle):
    """Real bundle: with [asr] second_hearing = "slower" the device's transcript is the surer of the Whisper's own
    decodes of the request and of its slowed copy, both run at once on the same onnxruntime sessions; each decode
    gives what it gives alone (two threads in one session change nothing), and the dialogue gets both hearings'
    readings."""
    from export.speech_corpus import read_wav_16k

    recognizer, prompt, clips = _prompted(bundle, ("vad", "asr"), second_hearing="slower",
                                          second_hearing_below=EVERY_REQUEST)
    assert not isinstance(prompt, PairedPrompt)
    decode = recognizer.decode
    heard_twice = []
    for u in clips:
        audio = read_wav_16k(u.path)
        once = decode.first.scored(audio, prompt)
        again = decode.first.scored(slower(audio), prompt)
        assert once[1] is not None and again[1] is not None and once[0] and again[0], u.text
        heard_twice.append((audio, once, again))
        for _ in range(2):  # the two hearings run at once; each must come out as it does alone
            text, logprob, heard = decode.scored(audio, prompt)
            assert (text, logprob) == choose(once, again)[:2]
            assert heard == readings(once, again)
    # gated between the clips' first scores: the sure ones are heard once, the others twice, one after the other
    scores = sorted(once[1] for _, once, _ in heard_twice)
    below = (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
    gated = paired_decoder(decode.first, decode.first, slower, below=below)
    for audio, once, again in heard_twice:
        assert gated.scored(audio, prompt) == (once if once[1] >= below else (*choose(once, again)[:2],
                                                                              readings(once, again)))
    assert gated.counts == {"requests": len(heard_twice), "twice": len(heard_twice) // 2}
