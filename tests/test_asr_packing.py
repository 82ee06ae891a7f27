"""Utterances packed into Whisper windows (edge.asr.packing): what a window holds and when it is decoded.

Unit tests with a recording decode (no model), then the recognizer on a real file through the real
Silero VAD and Whisper bundles: packed or not, the same words come out, in fewer decodes.
"""

from __future__ import annotations

import numpy as np
import pytest

from edge.asr.packing import Packer

RATE = 16000


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, float]] = []
        self.spans: list[tuple[tuple[float, float], ...]] = []

    def __call__(self, audio: np.ndarray, speech: float, spans: tuple[tuple[float, float], ...]) -> tuple[str, float]:
        self.calls.append((audio, speech))
        self.spans.append(spans)
        return f"window {len(self.calls)}", 0.01


def _stream(seconds: float) -> np.ndarray:
    """A stream whose every sample says where it is (its index)."""
    return np.arange(int(seconds * RATE), dtype=np.float32)


def _add(packer: Packer, stream: np.ndarray, start_s: float, stop_s: float):
    """Hand the packer an utterance the way VadRecognizer does: from resume(start) to stop."""
    start, stop = int(start_s * RATE), int(stop_s * RATE)
    begin = packer.resume(start)
    return packer.add(stream[begin:stop], begin, start, stop, int(0.8 * (stop - start)), start_s, stop_s - 0.3)


def test_a_window_is_the_stream_itself_until_it_is_full() -> None:
    decode, stream = Recorder(), _stream(30.0)
    packer = Packer(10.0, decode)
    assert _add(packer, stream, 0.0, 4.0) == []
    assert packer.keep_from(3.5 * RATE) == 3.5 * RATE and packer.keep_from(5 * RATE) == 4 * RATE
    assert _add(packer, stream, 5.0, 9.0) == []  # 9 s of stream: still one window
    finals = _add(packer, stream, 10.0, 14.0)  # 14 s from the window's start: the held window goes first
    assert len(decode.calls) == 1 and [f.text for f in finals] == ["window 1"]
    audio, speech = decode.calls[0]
    assert np.array_equal(audio, stream[:9 * RATE])  # the pause between them included, nothing lost or doubled
    assert speech == pytest.approx(0.8 * 8)
    assert decode.spans[0] == ((0.0, 4.0), (5.0, 9.0))  # the utterances in the window: a stopped decode resumes there
    assert (finals[0].start, finals[0].end) == (0.0, 8.7)
    finals = packer.flush()
    assert np.array_equal(decode.calls[1][0], stream[10 * RATE:14 * RATE]) and finals[0].start == 10.0
    assert packer.flush() == [] and len(decode.calls) == 2  # nothing held, nothing decoded


def test_overlapping_audio_is_kept_once() -> None:
    """Pre-roll reaching back over the last tail (a short pause): the shared samples appear once."""
    decode, stream = Recorder(), _stream(10.0)
    packer = Packer(20.0, decode)
    _add(packer, stream, 0.0, 3.0)
    assert packer.resume(int(2.5 * RATE)) == int(2.5 * RATE)
    _add(packer, stream, 2.5, 6.0)
    packer.flush()
    assert np.array_equal(decode.calls[0][0], stream[:6 * RATE])
    assert decode.spans[0] == ((0.0, 3.0), (2.5, 6.0))


def test_a_window_is_decoded_when_full_or_overdue_and_reset_forgets() -> None:
    decode, stream = Recorder(), _stream(40.0)
    packer = Packer(5.0, decode)
    assert [f.text for f in _add(packer, stream, 0.0, 6.0)] == ["window 1"]  # as long as a window: at once
    _add(packer, stream, 7.0, 8.0)
    assert not packer.overdue(11 * RATE) and packer.overdue(12 * RATE)  # a long silence: no one can join it
    packer.reset()
    assert packer.flush() == [] and len(decode.calls) == 1


def test_an_empty_text_gives_no_final_and_bad_windows_are_refused() -> None:
    packer = Packer(10.0, lambda audio, speech, spans: ("", 0.0))
    _add(packer, _stream(3.0), 0.0, 2.0)
    assert packer.flush() == []
    for bad in (0.0, -1.0, 30.0):
        with pytest.raises(ValueError, match="window"):
            Packer(bad, lambda audio, speech, spans: ("", 0.0))


def test_packing_needs_an_offline_recognizer() -> None:
    from edge.asr.recognition import Endpointing
    from edge.asr.stream import VadRecognizer

    with pytest.raises(ValueError, match="partials and speculation"):
        VadRecognizer(lambda: None, lambda audio: "", Endpointing(pack=20.0, partials=True, speculative=False))


@pytest.mark.slow
def test_a_long_recording_packed_keeps_its_words_in_fewer_decodes(bundle) -> None:
    """Six sentences with pauses, in the device's voice: packed into 20 s windows the recognizer decodes
    fewer times and hears about as well as one utterance at a time (the bench measures by how much)."""
    for name in ("vad", "asr", "tts"):
        bundle(name)
    from edge.asr import recognizer_for_settings
    from edge.asr.files import final_transcripts
    from edge.text.wer import word_error_rate
    from tests.conftest import asr_settings
    from tests.pipeline_rig import speaker

    sentences = ["Add two bags of fuji apples to my cart.", "What is the price of the organic milk?",
                 "Remove the paper towels.", "Show me what is in my cart.", "I would like three cans of tomato soup.",
                 "Please check out now."]
    say = speaker().say
    parts = []
    for i, sentence in enumerate(sentences):
        parts += [np.zeros(int((0.6 + 0.3 * (i % 3)) * RATE), np.float32), say(sentence)]
    audio = np.concatenate([*parts, np.zeros(RATE, np.float32)])
    reference = " ".join(sentences)
    results = {}
    for pack in (False, True):
        recognizer = recognizer_for_settings(asr_settings(runtime="onnxruntime"), partials=False, speculative=False,
                                             threads=1, pack=pack)
        finals = final_transcripts(recognizer, audio)
        results[pack] = (finals, recognizer.stats["decodes"])
    alone, packed = results[False], results[True]
    assert alone[1] >= 4 and 1 <= packed[1] < alone[1]
    assert len(packed[0]) == packed[1]  # one final per window
    assert packed[0][0].start == pytest.approx(alone[0][0].start) and packed[0][-1].end == pytest.approx(alone[0][-1].end)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(packed[0], packed[0][1:], strict=False))
    wer = {pack: word_error_rate(reference, " ".join(f.text for f in finals)) for pack, (finals, _) in results.items()}
    assert wer[True] <= max(0.1, wer[False] + 0.05), wer


def test_timestamp_rules_keep_a_greedy_decode_on_whispers_timed_form() -> None:
    from edge.asr.timestamps import MAX_INITIAL, TimestampRules

    eot, first, vocab = 10, 20, 200  # text 0-9, end-of-text 10, other specials 11-19, timestamps 20-199
    rules = TimestampRules(first, eot)

    def best(sequence: list[int], favour: int) -> int:
        logits = np.zeros(vocab, np.float32)
        logits[favour] = 10.0  # beats the 180 timestamps together (log 180 = 5.2)
        return int(np.argmax(rules.apply(logits, sequence)))

    assert best([], 3) >= first and best([], 3) <= first + MAX_INITIAL  # starts with a timestamp, within 1 s
    assert best([], first + MAX_INITIAL + 5) <= first + MAX_INITIAL
    assert best([first], 3) == 3  # a lone opening timestamp: text may follow
    assert best([first, 3, 4], 5) == 5  # text goes on ...
    assert best([first, 3, 4, first + 40], 6) >= first + 40  # ... after a closing timestamp only its pair or the end
    assert best([first, 3, 4, first + 40, first + 40], first + 60) < first  # a pair closed: text next
    assert best([first, 3, first + 40, first + 40, 5], first + 10) >= first + 41  # never back in time
    ts_heavy = np.full(vocab, -1.0, np.float32)
    ts_heavy[3] = 1.0  # the likeliest single token is text, but all timestamps together are likelier
    ts_heavy[first:] = 0.9
    assert int(np.argmax(rules.apply(ts_heavy, [first, 3]))) >= first
    assert rules.strip([first, 3, 4, first + 40, first + 40, 5, first + 90]) == [3, 4, 5]
