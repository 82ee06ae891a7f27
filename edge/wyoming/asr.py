"""The `transcribe` service: a Wyoming audio stream through the device's VAD + Whisper recognizer.

Each stream gets its own `VadRecognizer` (its own Silero state) from a pool; all of them share one
Whisper decoder, so a second concurrent client costs a VAD, not a second Whisper. Frames are
recognized as they arrive, exactly as on the device: at every pause the utterance is decoded
speculatively, so when `audio-stop` comes after the speaker has finished, the transcript is
usually already decoded and goes out at once (a server that buffers until `audio-stop`, as
wyoming-faster-whisper does, starts decoding only then).

The transcript covers the whole stream: every committed segment, joined. While audio streams, each
segment goes out as a `transcript-chunk` as soon as it is committed (at the pause after it), between
`transcript-start` and, after the final `transcript` (which clients that do not stream read alone),
`transcript-stop`. Chunks are appended and can never be taken back, and Whisper revises even the
first words of a partial decode once it hears more ("add two" read early comes out "At 2.", both
times, and "Add two bags of coffee" at the end), so partial decodes are not streamed at all, and
not made: only committed segments, which the final transcript keeps word for word.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart
from wyoming.event import Event

from edge.config import Settings
from edge.events import FinalTranscript
from edge.wyoming.audio import InputStream, WyomingInputError

log = logging.getLogger("edge.wyoming.asr")

LANGUAGES = ("en",)


class RecognizerPool:
    """Recognizers for concurrent streams; the VAD engine's share one Whisper decoder."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._make = self._factory(settings)
        self._idle.append(self._make())  # one now: load errors surface at startup, not at the first request

    def _factory(self, settings: Settings) -> Callable[[], Any]:
        from edge.asr import (
            VAD_BUFFER_MARGIN_SECONDS,
            VadRecognizer,
            endpointing_for,
            recognizer_for_settings,
            whisper_decoder,
        )
        from edge.asr.models import vad_maker, whisper_recognizer

        if settings.asr.engine == "online":  # a streaming transducer keeps its state in its own stream
            return lambda: recognizer_for_settings(settings)
        endpointing = endpointing_for(settings, partials=False, speculative=True)
        max_speech = endpointing.max_segment + 10.0
        make_vad = vad_maker(settings, endpointing.pause, max_speech, max_speech + VAD_BUFFER_MARGIN_SECONDS)
        decode = whisper_decoder(whisper_recognizer(settings), settings.asr.language)

        def make() -> Any:
            return VadRecognizer(make_vad, decode, endpointing)

        return make

    def take(self) -> Any:
        with self._lock:
            recognizer = self._idle.pop() if self._idle else None
        return recognizer if recognizer is not None else self._make()

    def give_back(self, recognizer: Any) -> None:
        recognizer.reset()
        with self._lock:
            self._idle.append(recognizer)


def check_transcribe(event: Event) -> Transcribe:
    """The request, or WyomingInputError for a language the recognizer does not know."""
    request = Transcribe.from_event(event)
    language = (request.language or "en").lower()
    if language.split("-")[0].split("_")[0] not in LANGUAGES:
        raise WyomingInputError(f"language {request.language!r} is not supported; this recognizer "
                                f"knows {', '.join(LANGUAGES)}", "unsupported-language")
    return request


class Transcription:
    """One audio stream after `transcribe`: frames in (on a worker thread), Wyoming events out."""

    def __init__(self, pool: RecognizerPool, start: AudioStart, request: Transcribe | None) -> None:
        self.input = InputStream(start)  # checks the format before a recognizer is taken
        self.request = request or Transcribe()
        self._pool = pool
        self._recognizer: Any = pool.take()
        self._recognizer.reset()
        self._finals: list[str] = []
        self._sent = 0
        """Committed segments streamed so far."""
        self._started = False

    def feed(self, chunk: WyomingChunk) -> list[Event]:
        """Recognize one chunk (blocking: call it off the event loop); the segments to stream."""
        frame = self.input.convert(chunk)
        if not len(frame.samples):
            return []
        return self._events(self._recognizer.process(frame))

    def finish(self) -> list[Event]:
        """`audio-stop`: commit what is open; its chunk, the transcript and transcript-stop."""
        events: list[Any] = []
        tail = self.input.finish()
        if tail is not None:
            events += self._recognizer.process(tail)
        events += self._recognizer.flush()
        out = self._events(events)
        text = " ".join(self._finals)
        context, language = self.request.context, "en"
        if not self._started:
            out.append(TranscriptStart(context=context, language=language).event())
        out += [Transcript(text=text, context=context, language=language).event(), TranscriptStop().event()]
        return out

    def close(self) -> None:
        """Give the recognizer back (after finish, or when the client went away mid-stream)."""
        if self._recognizer is not None:
            recognizer, self._recognizer = self._recognizer, None
            self._pool.give_back(recognizer)

    def _events(self, speech_events: list[Any]) -> list[Event]:
        """transcript-start (once) and a transcript-chunk per segment committed since the last call."""
        self._finals += [event.text for event in speech_events if isinstance(event, FinalTranscript)]
        new, self._sent = self._finals[self._sent:], len(self._finals)
        if not new:
            return []
        out = [] if self._started else [TranscriptStart(context=self.request.context, language="en").event()]
        chunks = [TranscriptChunk(text=f" {text}" if index or self._started else text).event()
                  for index, text in enumerate(new)]
        self._started = True
        return [*out, *chunks]
