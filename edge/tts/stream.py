"""Speaking a reply: clauses synthesized on a worker thread, streamed as SynthesizedAudio, cancellable.

`Synthesizer.speak(text)` normalizes and splits the reply and returns a `Speech` at once; the
worker synthesizes clause after clause, each as the decoder chunks the voice streams (at most
`lookahead` chunks ahead of the listener), while the caller iterates and plays. Barge-in is
`speech.cancel()`: iteration ends within one queue poll (~10 ms), the sink is stopped, and the
worker stops after the decoder chunk in flight (edge.tts.vocoder: a fraction of a second of
audio), discarding it. Audio leaves at the sink's rate through one soxr stream per reply, so
chunk and clause joins are seamless.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from edge.audio.pcm import Resampler
from edge.audio.sinks import AudioSink
from edge.config import Settings
from edge.events import SynthesizedAudio
from edge.memory import release_freed_memory
from edge.tts.clauses import split_clauses
from edge.tts.normalize import normalize
from edge.tts.voice import TtsError, Voice, voice_for_settings

if TYPE_CHECKING:  # the Mandarin voice's module imports pypinyin (+55 MB): an English device never loads it
    from edge.tts.voice_zh import ZhVoice

log = logging.getLogger(__name__)

_DONE = object()
_POLL_SECONDS = 0.01


@dataclass
class SpeechStats:
    """What one reply cost; times exclude model loading."""

    clauses: int = 0
    clauses_synthesized: int = 0
    audio_seconds: float = 0.0
    """Audio delivered to the caller (seconds)."""
    first_audio_seconds: float | None = None
    """From speak() to the first audio chunk being ready (seconds)."""
    synthesis_seconds: float = 0.0
    """Worker time spent phonemizing, synthesizing and resampling (seconds)."""
    first_audio_cpu_seconds: float | None = None
    """CPU time the worker thread spent until the first chunk: first-audio cost without machine load (seconds)."""
    synthesis_cpu_seconds: float = 0.0
    """CPU time of the worker thread for the whole reply (seconds; 1-thread onnxruntime runs on it)."""
    cancelled: bool = False
    release_seconds: float = 0.0
    """Time the worker spent handing freed memory back after the reply (seconds; off the audio path)."""


class Speech:
    """One reply being synthesized. Iterate for SynthesizedAudio; cancel() for barge-in."""

    def __init__(self, voice: Voice | ZhVoice, clauses: list[str], output_rate: int, speed: float, lookahead: int,
                 release_memory: bool = False) -> None:
        self.text_clauses = clauses
        self._release_memory = release_memory
        self.sample_rate = output_rate
        self.stats = SpeechStats(clauses=len(clauses))
        self._voice, self._speed = voice, speed
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, lookahead))
        self._cancel = threading.Event()
        self._on_cancel: list[Callable[[], None]] = []
        self._started = time.perf_counter()
        self._worker = threading.Thread(target=self._work, name="tts-worker", daemon=True)
        self._worker.start()

    # -- worker side -------------------------------------------------------------------------------
    def _put(self, item: object) -> bool:
        """Queue an item unless cancelled; False when the listener has gone."""
        while not self._cancel.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        resampler = Resampler(self._voice.sample_rate, self.sample_rate)
        try:
            for index, clause in enumerate(self.text_clauses):
                if self._cancel.is_set():
                    return
                final_clause = index == len(self.text_clauses) - 1
                began, began_cpu, ended = time.perf_counter(), time.thread_time(), False
                for samples, last_chunk in self._voice.chunks(clause, self._speed, should_stop=self._cancel.is_set):
                    last = ended = final_clause and last_chunk
                    out = resampler.push(samples, last=last)
                    now, now_cpu = time.perf_counter(), time.thread_time()
                    self.stats.synthesis_seconds += now - began
                    self.stats.synthesis_cpu_seconds += now_cpu - began_cpu
                    if self.stats.first_audio_cpu_seconds is None:
                        self.stats.first_audio_cpu_seconds = self.stats.synthesis_cpu_seconds
                    if self._cancel.is_set() or not self._put(
                            SynthesizedAudio(samples=out, sample_rate=self.sample_rate, text=clause, is_last=last)):
                        return
                    began, began_cpu = time.perf_counter(), time.thread_time()  # waiting for the listener is not synthesis
                self.stats.clauses_synthesized += 1
                if final_clause and not ended and not self._cancel.is_set():  # nothing to say in it: close the stream
                    self._put(SynthesizedAudio(samples=resampler.flush(), sample_rate=self.sample_rate, text=clause,
                                               is_last=True))
        except Exception as exc:  # handed to the listener, who decides; the device loop never dies here
            self._put(exc)
        finally:
            began = time.perf_counter()
            if self._release_memory:  # onnxruntime's arenas first, before the listener hears "done": a
                self._voice.release()  # process that exits then must not tear the sessions down mid-run
            if not self._cancel.is_set():
                self._put(_DONE)
            if self._release_memory:  # the reply's buffers (and the turn's ASR ones) are garbage now
                release_freed_memory()
                self.stats.release_seconds = time.perf_counter() - began

    # -- listener side -----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[SynthesizedAudio]:
        finished = False
        try:
            while not self._cancel.is_set():
                try:
                    item = self._queue.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    continue
                if item is _DONE or self._cancel.is_set():
                    finished = item is _DONE
                    return
                if isinstance(item, Exception):
                    finished = True
                    raise item
                assert isinstance(item, SynthesizedAudio)
                if self.stats.first_audio_seconds is None:
                    self.stats.first_audio_seconds = time.perf_counter() - self._started
                self.stats.audio_seconds += len(item.samples) / float(self.sample_rate)
                yield item
        finally:
            if not finished:  # the listener walked away (or was cancelled): free the worker
                self.cancel()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run callback (e.g. sink.stop) when the reply is cancelled."""
        self._on_cancel.append(callback)

    def cancel(self) -> None:
        """Barge-in: stop delivering audio now and synthesize nothing more. Safe from any thread."""
        if self._cancel.is_set():
            return
        self._cancel.set()
        self.stats.cancelled = True
        for callback in self._on_cancel:
            try:
                callback()
            except Exception:  # a failing sink must not keep the reply alive
                log.exception("cancel callback failed")

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker to finish (after cancel: the clause in flight); True if it has."""
        self._worker.join(timeout)
        return not self._worker.is_alive()

    def samples(self) -> np.ndarray:
        """Consume the whole reply into one buffer (tests, files)."""
        parts = [chunk.samples for chunk in self]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


class Synthesizer:
    """Turns reply text into a stream of clause audio at output_rate."""

    def __init__(self, voice: Voice | ZhVoice, output_rate: int = 22050, speed: float = 1.0, first_clause_words: int = 4,
                 max_clause_words: int = 10, lookahead: int = 2, release_memory: bool = False) -> None:
        """release_memory: malloc_trim after each reply (edge.memory), so a turn's freed buffers leave RSS."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.voice, self.output_rate, self.speed = voice, output_rate, speed
        self.release_memory = release_memory
        self.first_clause_words, self.lookahead = first_clause_words, lookahead
        self.max_clause_words = max(max_clause_words, first_clause_words)

    def clauses(self, text: str) -> list[str]:
        if _is_mandarin(self.voice):  # Mandarin: its own numbers and punctuation, clauses in characters
            return self.voice.clauses(text)
        return split_clauses(normalize(text), self.first_clause_words, self.max_clause_words)

    def speak(self, text: str) -> Speech:
        """Start synthesizing text; returns at once. An empty or unspeakable reply yields nothing."""
        return Speech(self.voice, self.clauses(text), self.output_rate, self.speed, self.lookahead,
                      self.release_memory)


def _is_mandarin(voice: object) -> bool:
    """Whether voice is a ZhVoice, without importing edge.tts.voice_zh: it cannot be one unless that module is loaded."""
    module = sys.modules.get("edge.tts.voice_zh")
    return module is not None and isinstance(voice, module.ZhVoice)


def play(speech: Speech, sink: AudioSink) -> SpeechStats:
    """Write a reply to a sink (speaker, WAV, null) as it is synthesized; cancel() also stops the sink."""
    if sink.sample_rate != speech.sample_rate:
        raise ValueError(f"sink plays {sink.sample_rate} Hz but the reply is synthesized at {speech.sample_rate} Hz")
    speech.on_cancel(sink.stop)
    for chunk in speech:
        sink.write(chunk.samples)
    return speech.stats


def synthesizer_for_settings(settings: Settings, voice: Voice | ZhVoice | None = None, output_rate: int | None = None,
                             **overrides: object) -> Synthesizer:
    """A Synthesizer with settings.tts and settings.audio.output_rate (loading the voice if not given)."""
    voice = voice or voice_for_settings(settings)
    return Synthesizer(voice, output_rate=output_rate or settings.audio.output_rate, speed=settings.tts.speed,
                       first_clause_words=settings.tts.first_clause_words,
                       max_clause_words=settings.tts.max_clause_words,
                       **{"release_memory": settings.memory.trim_after_reply, **overrides})  # type: ignore[arg-type]


__all__ = ["Speech", "SpeechStats", "Synthesizer", "TtsError", "play", "synthesizer_for_settings"]
