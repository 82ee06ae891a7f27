"""The `transcribe` service: a Wyoming audio stream through the device's VAD + Whisper recognizer.

Each stream gets its own `VadRecognizer` (its own Silero state) from a pool; all of them share one
Whisper decoder, so a second concurrent client costs a VAD, not a second Whisper. Frames are
recognized as they arrive, exactly as on the device: at every pause the utterance is decoded
speculatively, so when `audio-stop` comes after the speaker has finished, the transcript is
usually already decoded and goes out at once (a server that buffers until `audio-stop`, as
wyoming-faster-whisper does, starts decoding only then).

The transcript covers the whole stream: every committed segment, joined. While audio streams, the
text so far goes out as `transcript-chunk` deltas between `transcript-start` and, after the final
`transcript` (which clients that do not stream read alone), `transcript-stop`. A delta is only
ever appended: a re-decoded partial that changes words already sent is held back until it agrees
again, and the final `transcript` is the authoritative text either way.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart
from wyoming.event import Event

from edge.config import Settings
from edge.events import FinalTranscript, PartialTranscript
from edge.wyoming.audio import InputStream, WyomingInputError

log = logging.getLogger("edge.wyoming.asr")

LIVE_LEAD_SECONDS = 1.0
"""Audio arriving more than this ahead of the wall clock is a recording sent at full speed, not a
live microphone: partial decodes are skipped for it, since nobody watches its words appear and
every partial would only delay the final transcript (seconds)."""
LANGUAGES = ("en",)


class RecognizerPool:
    """Recognizers for concurrent streams; the VAD engine's share one Whisper decoder."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self.endpointing: Any = None
        """The VAD engine's endpointing, partials on (None for the online engine); streams switch partials."""
        self._make = self._factory(settings)
        self._idle.append(self._make())  # one now: load errors surface at startup, not at the first request

    def _factory(self, settings: Settings) -> Callable[[], Any]:
        import sherpa_onnx

        from edge.asr import (
            VAD_BUFFER_MARGIN_SECONDS,
            VadRecognizer,
            endpointing_for,
            recognizer_for_settings,
            whisper_decoder,
        )
        from edge.asr.models import vad_config, whisper_recognizer

        if settings.asr.engine == "online":  # a streaming transducer keeps its state in its own stream
            return lambda: recognizer_for_settings(settings)
        endpointing = self.endpointing = endpointing_for(settings, partials=True, speculative=True)
        max_speech = endpointing.max_segment + 10.0
        config, _window = vad_config(settings, min_silence=endpointing.pause, max_speech=max_speech)
        decode = whisper_decoder(whisper_recognizer(settings))
        buffer_seconds = max_speech + VAD_BUFFER_MARGIN_SECONDS

        def make() -> Any:
            return VadRecognizer(
                lambda: sherpa_onnx.VoiceActivityDetector(config, buffer_size_in_seconds=buffer_seconds),
                decode, endpointing)

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
        self._endpointing = pool.endpointing
        self._began = time.monotonic()
        self._finals: list[str] = []
        self._partial = ""
        self._sent = ""
        self._started = False

    def feed(self, chunk: WyomingChunk) -> list[Event]:
        """Recognize one chunk (blocking: call it off the event loop); the deltas to stream."""
        frame = self.input.convert(chunk)
        if not len(frame.samples):
            return []
        self._choose_partials()
        return self._events(self._recognizer.process(frame))

    def finish(self) -> list[Event]:
        """`audio-stop`: commit what is open; the last delta, the transcript and transcript-stop."""
        events: list[Any] = []
        tail = self.input.finish()
        if tail is not None:
            events += self._recognizer.process(tail)
        events += self._recognizer.flush()
        out = self._events(events)
        self._partial = ""
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

    def _choose_partials(self) -> None:
        """Partials for a live stream only (see LIVE_LEAD_SECONDS)."""
        endpointing = self._endpointing
        if endpointing is None:  # an online recognizer: its partials cost nothing extra
            return
        live = self.input.seconds - (time.monotonic() - self._began) < LIVE_LEAD_SECONDS
        if self._recognizer.endpointing.partials != live:
            self._recognizer.endpointing = dataclasses.replace(endpointing, partials=live)

    def _events(self, speech_events: list[Any]) -> list[Event]:
        for event in speech_events:
            if isinstance(event, FinalTranscript):
                self._finals.append(event.text)
                self._partial = ""
            elif isinstance(event, PartialTranscript):
                self._partial = event.text
        text = " ".join([*self._finals, self._partial]).strip()
        extends = not self._sent or text.startswith(self._sent + " ")
        if not text or text == self._sent or not extends:
            return []  # nothing new, or a re-decode changed words already sent: wait for agreement
        delta, self._sent = text[len(self._sent):], text
        out = [] if self._started else [TranscriptStart(context=self.request.context, language="en").event()]
        self._started = True
        return [*out, TranscriptChunk(text=delta).event()]
