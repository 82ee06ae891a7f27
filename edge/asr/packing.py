"""Long recordings: consecutive utterances decoded together, in one Whisper window of up to `window` seconds.

Whisper reads 30 s at once, but the device decodes every VAD utterance alone, each with its tail padding
(5 s of zero frames at the default): on a recording of short sentences the encoder's frames are more padding
than speech, and the encoder was ~60 % of our CPU on long recordings (profiled on an AVX2 EPYC). When
nothing waits on a final (a file, a dictation transcribed afterwards: no partials, no speculation),
`Packer` holds each finished utterance and decodes a run of them at once, as faster-whisper decodes 30 s
windows: one padding per window, and Whisper hears each sentence with its neighbours. Live requests never
wait for this: the device's recognizer decodes each utterance at its endpoint.

A window is the stream itself from its first utterance's start to its last one's end, pauses included:
windows whose pauses were cut to 0.8 s lost words in noise (WER 0.54 vs 0.42 unpacked on the tune split's
noisy recordings); with the stream's own pauses and timestamps, 0.42 there and 0.44 vs 0.47 held out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edge.events import FinalTranscript

RATE = 16000

DecodeGroup = Callable[[np.ndarray, float, tuple[tuple[float, float], ...]], tuple[str, float]]
"""decode(audio, speech_seconds, spans) -> (guarded text, decode seconds): the recognizer's own decode and guard;
spans are the utterances' (start, stop) in the window, seconds: where a decode that stopped early resumes."""


@dataclass
class _Held:
    parts: list[np.ndarray] = field(default_factory=list)
    begin: int = 0
    """Stream sample index where the window's audio begins."""
    stop: int = 0
    """... and where it ends."""
    speech: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)
    """Each utterance's (start, stop), seconds after `begin`."""
    start_time: float = 0.0
    end_time: float = 0.0


class Packer:
    """Hold finished utterances and decode them in windows of at most `window` seconds of stream."""

    def __init__(self, window: float, decode: DecodeGroup) -> None:
        if not 0 < window <= 29.5:
            raise ValueError(f"a Whisper window holds 0-29.5 s, not {window}")
        self.window = int(window * RATE)
        self._decode = decode
        self._held: _Held | None = None

    def keep_from(self, index: int) -> int:
        """Where the stream's audio must still be kept from (the end of what is held), else `index`."""
        return min(index, self._held.stop) if self._held is not None else index

    def resume(self, start: int) -> int:
        """Where the next utterance's audio should begin: right after the held window, so that the pause
        between them is in it (the caller keeps that audio: keep_from), or at its own start."""
        held = self._held
        return held.stop if held is not None and held.stop <= start else start

    def overdue(self, now: int) -> bool:
        """Nothing held can share a window with audio that ends at `now` or later: decode it (flush)."""
        return self._held is not None and now - self._held.begin >= self.window

    def add(self, audio: np.ndarray, begin: int, start: int, stop: int, speech: int, start_time: float,
            end_time: float) -> list[FinalTranscript]:
        """One finished utterance: the stream's audio from `begin` (resume(start)) to `stop`, the utterance's
        own start, its VAD speech samples and times. Returns the finals of a window it did not fit into
        (and its own, if it fills one)."""
        out: list[FinalTranscript] = []
        held = self._held
        if held is not None and stop - held.begin > self.window:
            out += self.flush()
            held = None
        if held is None:
            audio, begin = audio[max(0, start - begin):], max(begin, start)
            held = self._held = _Held(begin=begin, start_time=start_time)
        else:  # a window's audio is contiguous: drop what it already holds (pre-roll over the last tail)
            audio = audio[max(0, held.stop - begin):]
        held.parts.append(audio.copy())  # a view would pin the stream's buffer
        held.spans.append((max(0, start - held.begin) / RATE, (stop - held.begin) / RATE))
        held.stop, held.speech, held.end_time = stop, held.speech + speech, end_time
        if stop - held.begin >= self.window:
            out += self.flush()
        return out

    def flush(self) -> list[FinalTranscript]:
        """Decode what is held (the recording ended, the next utterance does not fit, or it is overdue)."""
        held, self._held = self._held, None
        if held is None:
            return []
        text, seconds = self._decode(np.concatenate(held.parts), held.speech / RATE, tuple(held.spans))
        return [FinalTranscript(text, held.start_time, held.end_time, round(seconds, 4))] if text else []

    def reset(self) -> None:
        self._held = None
