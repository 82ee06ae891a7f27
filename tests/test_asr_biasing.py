"""Catalog biasing in Whisper's greedy search (edge/asr/biasing.py): which tokens get a bonus, and when."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import numpy as np
import pytest

from edge.asr.biasing import PhraseBias, catalog_bias, catalog_phrases, catalog_units
from edge.asr.prompt import prompt_for

WORDS = [" oat", " milk", " boat", " two", " to", " tomatoes", " Oat", " Milk", " milks", " oats", " the", " ground",
         " beef", " beat", " Ground", " Beef", " beefs", " grounds", " Tomatoes", " tomatoe", " Tomatoe", ","]
IDS = {w: i for i, w in enumerate(WORDS)}
VOCAB = 200


def encode(text: str) -> list[int]:
    """One token a word (a new id for a form the table lacks, such as "Oat Milks")."""
    return [IDS.setdefault(" " + w, len(IDS)) for w in text.split()]


def bias(phrases: list[str], bonus: float = 2.0, start: float = 1.0) -> PhraseBias:
    return PhraseBias(encode, phrases, bonus, start, VOCAB)


def test_a_begun_name_is_easier_to_finish():
    b = bias(["oat milk"], start=0.0)
    logits = np.zeros(VOCAB, np.float32)
    after_oat = b.adjust(logits, [IDS[" two"], IDS[" oat"]])
    assert after_oat[IDS[" milk"]] == 2.0
    assert after_oat[IDS[" boat"]] == 0.0
    after_boat = b.adjust(logits, [IDS[" two"], IDS[" boat"]])
    assert not after_boat.any()  # nothing begun, no start bonus: untouched
    assert not logits.any()  # the caller's row is never written


def test_start_bonus_only_after_an_opener_and_never_on_a_command_or_function_word():
    b = bias(["oat milk", "the tomatoes"], bonus=0.0, start=1.0)
    row = b.adjust(np.zeros(VOCAB, np.float32), [IDS[" two"]])
    assert row[IDS[" oat"]] == 1.0 and row[IDS[" Oat"]] == 1.0  # lower and Title Case
    assert row[IDS[" tomatoes"]] == 1.0  # "the tomatoes" begins at its product word
    assert row[IDS[" the"]] == 0.0 and row[IDS[" two"]] == 0.0 and row[IDS[" to"]] == 0.0
    assert not b.adjust(np.zeros(VOCAB, np.float32), []).any()  # a sentence's first word: no start bonus
    assert not b.adjust(np.zeros(VOCAB, np.float32), [IDS[" boat"]]).any()  # not after a product opener
    b = bias(["two tomatoes"], bonus=2.0, start=1.0)  # a name whose first token is a number word
    row = b.adjust(np.zeros(VOCAB, np.float32), [IDS[" the"]])
    assert row[IDS[" two"]] == 0.0


def test_plural_and_singular_forms():
    b = bias(["ground beef", "tomatoes"], start=0.0)
    row = b.adjust(np.zeros(VOCAB, np.float32), [IDS[" ground"]])
    assert row[IDS[" beef"]] == 2.0 and row[IDS[" beefs"]] == 2.0
    assert b.adjust(np.zeros(VOCAB, np.float32), [IDS[" Ground"]])[IDS[" Beef"]] == 2.0


def test_the_other_number_is_spelled_as_english_spells_it():
    """A form Whisper never writes ("strawberrys", found by base in the held-out bench) would pull it to a misspelling."""
    from edge.asr.biasing import _variants

    def lower(name: str) -> set[str]:
        return {form for form in _variants(name) if form == form.lower()}

    assert lower("strawberry") == lower("strawberries") == {"strawberry", "strawberries"}
    assert lower("sandwich cookies") == {"sandwich cookie", "sandwich cookies"}
    assert lower("potatoes") == {"potato", "potatoes"} and lower("tomato") == {"tomato", "tomatoes"}
    assert lower("box") == {"box", "boxes"} and lower("chew toy") == {"chew toy", "chew toys"}
    assert lower("hummus") == {"hummus", "hummuses"} and lower("glass") == {"glass", "glasses"}
    assert lower("AA batteries") == {"aa batteries", "aa battery"}


def test_the_bonus_decides_only_between_close_tokens():
    b = bias(["ground beef"], bonus=1.5, start=0.0)
    close = np.zeros(VOCAB, np.float32)
    close[IDS[" beat"]], close[IDS[" beef"]] = 5.0, 4.2
    assert int(np.argmax(b.adjust(close, [IDS[" ground"]]))) == IDS[" beef"]
    far = np.zeros(VOCAB, np.float32)
    far[IDS[" beat"]], far[IDS[" beef"]] = 5.0, 2.0
    assert int(np.argmax(b.adjust(far, [IDS[" ground"]]))) == IDS[" beat"]


def test_a_continuation_that_is_also_a_start_gets_the_continuation_bonus_once():
    b = bias(["milk", "oat milk"], bonus=2.0, start=1.0)
    row = b.adjust(np.zeros(VOCAB, np.float32), [IDS[" oat"]])
    assert row[IDS[" milk"]] == 2.0
    b = bias(["milk", "the milk", "oat milk"], bonus=2.0, start=1.0)  # " the" opens; "the milk" goes on from it
    assert b.adjust(np.zeros(VOCAB, np.float32), [IDS[" the"]])[IDS[" milk"]] == 1.0


def _catalog() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE products (name TEXT, brand TEXT, unit TEXT)")
    conn.execute("CREATE TABLE aliases (alias TEXT, name TEXT)")
    conn.executemany("INSERT INTO products VALUES (?, ?, ?)", [("oat milk", "Oatly", "carton"),
                                                                ("ground beef", None, "pack")])
    conn.execute("INSERT INTO aliases VALUES ('minced beef', 'ground beef')")
    return conn


def test_catalog_phrases_are_names_brands_and_aliases():
    assert sorted(catalog_phrases(_catalog())) == ["Oatly", "ground beef", "minced beef", "oat milk"]


def test_units_are_the_catalogs_and_the_spoken_ones():
    units = catalog_units(_catalog())
    assert {"carton", "pack", "pound", "bag"} <= set(units)


def test_a_unit_after_an_opener_gets_the_start_bonus_a_name_gets():
    """ "a pound of ..." must not lean to "a pen..." because only the name's first token had a bonus."""
    b = PhraseBias(encode, ["pens", "ground beef"], 2.0, 1.0, VOCAB, units=["pound", "bag"])
    row = b.adjust(np.zeros(VOCAB, np.float32), [IDS[" the"]])
    assert row[IDS[" pound"]] == row[IDS[" pens"]] == row[IDS[" bags"]] == 1.0
    assert row[IDS[" Pound"]] == 1.0
    assert not b.adjust(np.zeros(VOCAB, np.float32), [IDS[" ground"], IDS[" beef"]])[IDS[" pound"]]


def _byte_recognizer() -> SimpleNamespace:
    tokens = {i: bytes([i]) for i in range(256)}
    for word in (b" oat", b" milk", b" ground", b" beef", b" minced", b" Oat", b" Milk"):
        for end in range(2, len(word) + 1):  # BPE reaches a word through its prefixes
            if word[:end] not in tokens.values():
                tokens[len(tokens)] = word[:end]
    return SimpleNamespace(tokens=tokens, eot=len(tokens))


def test_the_prompt_carries_the_bias_even_with_the_prompt_off():
    recognizer = _byte_recognizer()
    prompt = prompt_for(recognizer, "off", 160, _catalog(), (2.0, 0.5))
    assert prompt is not None and prompt.ids() == () and prompt.bias is not None
    assert prompt_for(recognizer, "off", 160, _catalog()) is None  # neither asked for
    assert catalog_bias(recognizer, _catalog(), 0.0, 0.0, encode) is None
    oat = next(i for i, t in recognizer.tokens.items() if t == b" oat")
    milk = next(i for i, t in recognizer.tokens.items() if t == b" milk")
    row = prompt.bias.adjust(np.zeros(recognizer.eot + 10, np.float32), [oat])
    assert row[milk] == 2.0 and row[oat] == 0.0  # " oat" opens no product: no start bonus after it


def test_a_timed_decode_takes_no_bias():
    from edge.asr.whisper_ort import WhisperOrt

    whisper = object.__new__(WhisperOrt)  # only the argument check runs before any graph is touched
    whisper.n_text_ctx, whisper.no_timestamps, whisper.eot = 448, 50363, 50256
    with pytest.raises(ValueError, match="no bias"):
        whisper.greedy([], 100, timed=True, bias=bias(["oat milk"]))


def test_a_first_token_that_is_only_the_beginning_of_a_command_word_gets_no_start_bonus():
    pieces = {" carrots": [" car", "rots"], " Carrots": [" Car", "rots"], " carrot": [" car", "rot"],
              " Carrot": [" Car", "rot"]}

    def split(text: str) -> list[int]:
        return [IDS.setdefault(p, len(IDS)) for w in text.split() for p in pieces.get(" " + w, [" " + w])]

    def name(token: int) -> str:
        return next(w for w, i in IDS.items() if i == token)

    b = PhraseBias(split, ["carrots", "oat milk"], 2.0, 1.0, VOCAB, name, ["cart", "milk"])
    row = b.adjust(np.zeros(VOCAB, np.float32), [IDS[" the"]])
    assert row[IDS[" car"]] == 0.0  # "the cart" must not lean to "the car..."
    assert row[IDS[" oat"]] == 1.0
    free = PhraseBias(split, ["carrots"], 2.0, 1.0, VOCAB, name, ["milk"])  # no command word begins "car"
    assert free.adjust(np.zeros(VOCAB, np.float32), [IDS[" the"]])[IDS[" car"]] == 1.0
    assert b.adjust(np.zeros(VOCAB, np.float32), [IDS[" car"]])[IDS["rots"]] == 2.0  # begun, it still goes on


CATALOG = ("coffee beans", "organic milk", "paper towels", "gluten free bread", "eggs", "laundry detergent", "olive oil",
           "dish soap", "toothpaste", "bananas", "breakfast cereal", "peanut butter", "ground beef", "batteries",
           "toilet paper", "orange juice", "sparkling water", "shampoo", "green tea", "apples", "frozen pizza")


@pytest.mark.slow
def test_the_device_recognizer_decodes_with_the_bias_and_clean_speech_loses_nothing(bundle, monkeypatch):
    from edge.asr import recognizer_for_settings
    from edge.asr.biasing import PhraseBias as Bias
    from edge.asr.files import final_transcripts
    from edge.asr.prompt import attach_prompt
    from edge.config import load_settings
    from export.speech_corpus import ESPEAK_VOICES, PIPER_VOICES, SENTENCES, clip, read_wav_16k
    from export.wer import wer
    from tests.conftest import MODELS_DIR

    bundle("vad")
    bundle("asr")
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)})
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE products (name TEXT, brand TEXT, unit TEXT)")
    conn.execute("CREATE TABLE aliases (alias TEXT, name TEXT)")
    conn.executemany("INSERT INTO products VALUES (?, 'Sunny Farms', 'each')", [(n,) for n in CATALOG])
    hearers = {}
    for name, bonuses in (("off", (0.0, 0.0)), ("on", (settings.asr.bias_bonus, settings.asr.bias_start_bonus))):
        recognizer = recognizer_for_settings(settings, partials=False, speculative=False, threads=1)
        prompt = attach_prompt(recognizer, settings.asr.prompt, settings.asr.prompt_tokens, conn, bonuses)
        assert prompt is not None and (prompt.bias is not None) == (name == "on")
        hearers[name] = recognizer
    changed = []
    adjust = Bias.adjust

    def counting(self, logits, out):  # noqa: ANN001, ANN202
        adjusted = adjust(self, logits, out)
        changed.append(adjusted is not logits)
        return adjusted

    monkeypatch.setattr(Bias, "adjust", counting)
    utterances = [clip(text, voice) for voice in (PIPER_VOICES[0], ESPEAK_VOICES[0]) for text in SENTENCES[:30]]
    heard: dict[str, list[tuple[str, str]]] = {"off": [], "on": []}
    for u in utterances:
        audio = read_wav_16k(u.path)
        for name, recognizer in hearers.items():
            text = " ".join(e.text for e in final_transcripts(recognizer, audio, 1280))
            heard[name].append((u.text, text))
    assert sum(changed) >= 30, "the biased decodes never reached a catalog name"
    assert wer(heard["on"]) <= wer(heard["off"]) + 0.02, list(zip(heard["off"], heard["on"], strict=True))
