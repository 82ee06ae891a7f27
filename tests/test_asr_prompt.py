"""Whisper's initial prompt (edge/asr/prompt.py, edge/asr/bpe.py): which words, the token budget, the
dialogue's products, Whisper's own tokens; and the recognizer's wiring (edge.asr.stream)."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from edge.asr.bpe import ByteBpe
from edge.asr.prompt import MAX_PROMPT_TOKENS, STYLE, AsrPrompt, popular_names, prompt_for


def words(text: str) -> list[int]:
    """A stand-in tokenizer: one token per word piece (a name's comma is its own piece)."""
    return [hash(w) % 50000 for w in text.replace(",", " ,").split()]


CATALOG = ["whole milk", "bananas", "oat milk", "russet potatoes", "basmati rice", "ground beef", "paper towels"]


def test_off_is_empty_and_style_is_the_sentence_alone():
    assert AsrPrompt(words, "off").ids() == ()
    style = AsrPrompt(words, "style", catalog=CATALOG)
    style.update(["oat milk"])  # style takes no names
    assert style.text == STYLE
    assert len(style.ids()) == len(words(STYLE))


def test_dialog_names_come_last_before_the_style_sentence_most_relevant_nearest():
    prompt = AsrPrompt(words, "dialog", catalog=CATALOG)
    assert prompt.text == STYLE  # nothing on screen yet, and "dialog" takes no catalog names
    prompt.update(["Oat Milk", "bananas", "oat milk"])  # duplicates (any case) count once
    assert prompt.text == f"bananas, Oat Milk, {STYLE}"
    prompt.update([])
    assert prompt.text == STYLE


def test_catalog_fills_the_budget_with_the_most_popular_nearest_and_dialog_names_first():
    budget = len(words(STYLE)) + 3 * 3  # room for three names of two words (+ comma)
    prompt = AsrPrompt(words, "catalog", budget=budget, catalog=CATALOG)
    assert prompt.text == f"oat milk, bananas, whole milk, {STYLE}"
    assert len(prompt.ids()) <= budget
    prompt.update(["ground beef"])  # the dialogue's name must fit: the least popular catalog name makes room
    assert prompt.text == f"bananas, whole milk, ground beef, {STYLE}"
    prompt.update(["whole milk"])  # already a catalog name: said once, nearest the speech
    assert prompt.text == f"oat milk, bananas, whole milk, {STYLE}"


def test_budget_is_checked_and_bounded():
    with pytest.raises(ValueError):
        AsrPrompt(words, "catalog", budget=MAX_PROMPT_TOKENS + 1)
    with pytest.raises(ValueError):
        AsrPrompt(words, "louder")
    tiny = AsrPrompt(words, "catalog", budget=5, catalog=CATALOG)
    assert len(tiny.ids()) == 5  # the style sentence itself is cut to the budget, its end kept
    assert tiny.ids() == tuple(words(STYLE)[-5:])


def test_popular_names_are_distinct_names_by_best_popularity():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE products (id INTEGER, name TEXT, popularity REAL)")
    conn.executemany("INSERT INTO products VALUES (?, ?, ?)",
                     [(1, "whole milk", 0.2), (2, "Whole Milk", 0.9), (3, "bananas", 0.5), (4, "", 1.0),
                      (5, "organic bananas", 0.95), (6, "organic oat milk", 0.3)])  # a variant of bananas; oat milk is no name
    assert [n.lower() for n in popular_names(conn)] == ["whole milk", "bananas", "organic oat milk"]
    assert len(popular_names(conn, limit=1)) == 1


def _gpt2() -> dict[int, bytes]:
    whisper = pytest.importorskip("whisper")
    path = Path(whisper.__file__).parent / "assets" / "gpt2.tiktoken"
    if not path.is_file():
        pytest.skip("openai-whisper without its gpt2.tiktoken")
    return {int(rank): base64.b64decode(token) for token, rank in
            (line.split() for line in path.read_text().splitlines() if line.strip())}


def test_bpe_gives_whisper_s_own_tokens():
    from whisper.tokenizer import get_tokenizer

    reference = get_tokenizer(False)
    bpe = ByteBpe(_gpt2(), 50256)
    prompt = AsrPrompt(bpe.encode, "catalog", catalog=["russet potatoes", "basmati rice", "Charmin", "Häagen-Dazs"])
    prompt.update(["oat milk", "12 oz. jar's lid"])
    for text in (prompt.text, " " + STYLE, "I don't want the  2-pack__x!!", "  spaces  "):
        assert bpe.encode(text) == reference.encode(text), text
    with pytest.raises(ValueError):
        ByteBpe({0: b"a"}, 1)


def test_prompt_for_needs_a_recognizer_that_takes_one():
    class Sherpa:  # sherpa-onnx's OfflineRecognizer: no token table, no prompt
        pass

    assert prompt_for(Sherpa(), "catalog", 160) is None
    assert prompt_for(object(), "off", 160) is None


def test_echoes_of_the_prompt_are_told_from_requests():
    prompt = AsrPrompt(words, "dialog")
    prompt.update(["oat milk", "russet potatoes", "lactose free cottage cheese"])
    assert prompt.echoes("Lactose free cottage cheese, russet potatoes, oat milk, oat milk")  # the list, read back
    assert prompt.echoes("Oat milk, oat milk, oat milk.")  # one name, looping
    assert prompt.echoes(STYLE.lower().replace("add ", "I'll add "))  # the style sentence
    for request in ("remove the oat milk please", "add lactose free cottage cheese", "russet potatoes and oat milk",
                    "add two cans of tuna", "oat milk", ""):
        assert not prompt.echoes(request), request
    assert not AsrPrompt(words, "off").echoes("oat milk, oat milk, oat milk")


def test_the_recognizer_decodes_with_the_prompt_and_hears_an_echo_again_without():
    """VadRecognizer hands its prompt to the decoder (whisper_decoder), which decodes with the prompt's ids
    of the moment and again without them when the text echoes the prompt; `decode` (the wake word's second
    look) stays unprompted."""
    from edge.asr import whisper_decoder
    from edge.asr.stream import Endpointing, VadRecognizer

    seen: list[tuple[int, ...]] = []

    class Whisper:  # WhisperOrt's decoding calls
        echo = False

        def transcribe_ids(self) -> None:
            pass

        def create_stream(self) -> SimpleNamespace:
            return SimpleNamespace(accept_waveform=lambda rate, samples: None, prompt=())

        def decode_stream(self, stream: SimpleNamespace) -> None:
            seen.append(tuple(stream.prompt))
            stream.result = SimpleNamespace(text="oat milk, oat milk, oat milk" if self.echo and stream.prompt
                                            else "add milk")

    class Vad:
        def reset(self) -> None:
            pass

    whisper = Whisper()
    decode = whisper_decoder(whisper)
    recognizer = VadRecognizer(Vad, decode, Endpointing())
    audio = np.zeros(1600, np.float32)
    assert recognizer._run_decode(audio)[0] == "add milk"
    prompt = AsrPrompt(words, "dialog")
    recognizer.prompt = prompt
    recognizer._run_decode(audio)
    prompt.update(["oat milk"])
    recognizer._run_decode(audio)
    assert seen == [(), tuple(words(STYLE)), tuple(words(f"oat milk, {STYLE}"))]
    whisper.echo = True
    assert recognizer._run_decode(audio)[0] == "add milk"  # the echo was decoded again, plain
    assert seen[-2:] == [tuple(words(f"oat milk, {STYLE}")), ()]
    assert recognizer.decode is decode
