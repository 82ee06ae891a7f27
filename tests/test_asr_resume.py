"""A packed window decoded again from where Whisper stopped (WhisperOrt.timed over edge.asr.timestamps.resumed).

The policy over scripted decodes (no model): which stops resume, from where, and what text is kept. The
real recognizer runs the same method on every packed window (tests/test_asr_packing.py)."""

from __future__ import annotations

import numpy as np

from edge.asr.whisper_ort import WhisperOrt

NO_TIMESTAMPS = 50362


def stamp(seconds: float) -> int:
    return NO_TIMESTAMPS + 1 + round(seconds * 50)


class Scripted(WhisperOrt):
    """WhisperOrt whose decodes are given: (tokens as decoded, ended with end-of-text)."""

    def __init__(self, *script: tuple[list[int], bool]) -> None:  # no bundle: nothing of the parent is loaded
        self.no_timestamps = NO_TIMESTAMPS
        self.script = list(script)
        self.heard: list[float] = []

    def _greedy(self, samples, prompt, prefix, tail_padding_frames, timed=False, raw=None):  # noqa: ANN001, ANN202
        assert timed and raw == []
        self.heard.append(len(samples) / 16000)
        tokens, ended = self.script.pop(0)
        raw += tokens
        return [t for t in tokens if t < NO_TIMESTAMPS], ended, -0.5


def window(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), np.float32)


def test_an_early_end_of_text_inside_speech_is_decoded_again_from_its_last_timestamp() -> None:
    whisper = Scripted(([stamp(0), 1, 2, stamp(2.0)], True), ([stamp(0), 3, stamp(7.5)], True))
    assert whisper.timed(window(10), (), [(0.0, 10.0)]) == [1, 2, 3]
    assert whisper.heard == [10.0, 8.0]


def test_a_loop_is_dropped_from_its_first_repeat_and_the_rest_decoded_again() -> None:
    looped = [stamp(0), 7, 8, stamp(1), stamp(1), 7, 8, stamp(2), stamp(2), 7, 8, stamp(3), stamp(3), 7]
    whisper = Scripted((looped, False), ([stamp(0), 4, 5, stamp(8.5)], True))
    assert whisper.timed(window(10), (), [(0.0, 10.0)]) == [7, 8, 4, 5]
    assert whisper.heard == [10.0, 9.0]


def test_a_stop_in_a_pause_resumes_at_the_next_utterance() -> None:
    whisper = Scripted(([stamp(0), 1, stamp(2.5)], True), ([stamp(0), 2, stamp(3.0)], True))
    assert whisper.timed(window(10), (), [(0.0, 3.0), (6.0, 10.0)]) == [1, 2]
    assert whisper.heard == [10.0, 4.0]


def test_no_second_decode_near_the_end_after_nothing_or_after_a_loop_without_a_repeated_segment() -> None:
    near_end = Scripted(([stamp(0), 1, stamp(8.5)], True))  # 1.5 s left, the VAD's tail included: less than MIN_REST
    assert near_end.timed(window(10), (), [(0.0, 10.0)]) == [1] and near_end.heard == [10.0]
    nothing = Scripted(([stamp(0), stamp(0.2)], True))  # Whisper heard nothing to write: not retried
    assert nothing.timed(window(10), (), [(0.0, 10.0)]) == [] and nothing.heard == [10.0]
    babble = Scripted(([stamp(0), 1, 2, 3, 1, 2, 3, 1, 2], False))  # a loop inside one segment: the guard's to cut
    assert babble.timed(window(10), (), [(0.0, 10.0)]) == [1, 2, 3, 1, 2, 3, 1, 2]
    left_open = Scripted(([stamp(0), 1, stamp(2.0), stamp(2.0), 2, 3], True))  # where "2 3" ends is unknown
    assert left_open.timed(window(10), (), [(0.0, 10.0)]) == [1, 2, 3] and left_open.heard == [10.0]
    unpacked = Scripted(([stamp(0), 1, stamp(2.0)], True))  # no utterances given: nothing to resume into
    assert unpacked.timed(window(10), ()) == [1]


def test_resumes_are_bounded() -> None:
    from edge.asr.timestamps import MAX_RESUMES

    script = [([stamp(0), i, stamp(1.0)], True) for i in range(1, 20)]
    whisper = Scripted(*script)
    assert whisper.timed(window(20), (), [(0.0, 20.0)]) == list(range(1, MAX_RESUMES + 2))
