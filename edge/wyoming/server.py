"""One Wyoming connection: events in, routed through a small table to the service they belong to.

The framing, the TCP/Unix server and the event classes are the `wyoming` package's own (what Home
Assistant and wyoming-bench speak). Per connection this handler keeps which request the next
audio stream answers (`transcribe` -> ASR, `detect` -> wake word; a bare `audio-start` is taken as
ASR, like wyoming-faster-whisper does), the open stream, the TTS text stream and the conversation.

Nothing a client sends can stop the server: unusable input (an unknown event, audio before
`audio-start`, a chunk too large or in another format, data an event class cannot read) is
answered with an `error` event naming the problem and logged, and the connection goes on; bytes
that are not Wyoming at all, or a socket closed mid-stream, end that connection cleanly (the open
stream's recognizer goes back to the pool, a reply being synthesized is cancelled). Blocking work
(recognition, synthesis, the dialogue) runs on worker threads, so one busy client never stalls the
others' event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from wyoming.audio import AudioChunk as WyomingChunk
from wyoming.audio import AudioStart
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.handle import NotHandled
from wyoming.info import SelectProgram
from wyoming.ping import Pong
from wyoming.server import AsyncEventHandler, AsyncServer

from edge.wyoming.asr import Transcription, check_transcribe
from edge.wyoming.audio import WyomingInputError
from edge.wyoming.info import PROGRAMS
from edge.wyoming.service import Services
from edge.wyoming.tts import Speaker
from edge.wyoming.wake import Listening, check_detect

log = logging.getLogger("edge.wyoming")

Route = Callable[[Event], Awaitable[None]]
SHUTDOWN_SECONDS = 15.0
"""How long a stopping server waits for its connections to wind up (a clause in synthesis, a decode)."""


class ConnectionHandler(AsyncEventHandler):
    """The server side of one client connection (see module docstring)."""

    def __init__(self, services: Services, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.services = services
        self.peer = str(writer.get_extra_info("peername") or "client")
        self.speaker = Speaker(services.synthesizer, services.voice_name, self.write_event)
        self.conversation = services.conversations.connection_id()
        self._request: tuple[str, object] | None = None
        """("asr", Transcribe) or ("wake", Detect): what the next audio stream is for."""
        self._stream: Transcription | Listening | None = None
        self._last_refusal = ""
        self.finished = asyncio.Event()
        """Set when the connection is closed and its work (a reply in synthesis, a stream) is wound up."""
        self._routes: dict[str, Route] = {
            "describe": self._describe,
            "ping": self._ping,
            "select-program": self._select_program,
            "transcribe": self._transcribe,
            "detect": self._detect,
            "audio-start": self._audio_start,
            "audio-chunk": self._audio_chunk,
            "audio-stop": self._audio_stop,
            "synthesize": self.speaker.synthesize,
            "synthesize-start": self.speaker.start,
            "synthesize-chunk": self.speaker.chunk,
            "synthesize-stop": self.speaker.stop,
            "transcript": self._handle,
        }

    # -- the loop ---------------------------------------------------------------------------------
    async def run(self) -> None:
        """The package's read loop (`async_read_event`), saying why a connection ended when it was not the client's
        clean close: bytes that are not Wyoming events, or a socket that died inside an event."""
        try:
            while True:
                try:
                    event = await async_read_event(self.reader)
                except (ConnectionError, EOFError) as exc:  # EOFError: closed inside a payload
                    log.warning("%s: connection lost mid-event (%s)", self.peer, type(exc).__name__)
                    break
                if event is None:
                    if not self.reader.at_eof():
                        log.warning("%s: closed: the data was not Wyoming events (a header that is not JSON, "
                                    "or a header line over the reader's limit)", self.peer)
                    break
                if not await self.handle_event(event):
                    break
        finally:
            await self.disconnect()
            self.writer.close()
            self.finished.set()

    async def handle_event(self, event: Event) -> bool:
        route = self._routes.get(event.type)
        try:
            if route is None:
                raise WyomingInputError(f"unknown event type {event.type!r}; this server takes "
                                        f"{', '.join(self._routes)}", "unknown-event")
            await route(event)
            self._last_refusal = ""
        except WyomingInputError as exc:
            await self._refuse(event, str(exc), exc.code)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # data an event class cannot read
            await self._refuse(event, f"malformed {event.type!r} event: {type(exc).__name__}: {exc}", "bad-event")
        except (ConnectionError, EOFError):
            log.warning("%s: connection closed while answering %s", self.peer, event.type)
            return False
        except Exception as exc:  # a failure of ours: the client hears about it, the server stays up
            log.exception("%s: %s failed", self.peer, event.type)
            await self._refuse(event, f"{event.type} failed: {exc}", "internal-error")
        return True

    async def _refuse(self, event: Event, text: str, code: str) -> None:
        # a client streaming into a refused stream gets an error per chunk; the log says it once
        log.log(logging.DEBUG if code == self._last_refusal else logging.WARNING, "%s: %s (%s)", self.peer, text, code)
        self._last_refusal = code
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.write_event(Error(text=text, code=code).event())

    async def disconnect(self) -> None:
        self._close_stream("the client disconnected")

    def _close_stream(self, why: str) -> None:
        if self._stream is not None:
            log.warning("%s: audio stream dropped: %s", self.peer, why)
            self._stream.close()
            self._stream = None

    # -- routes -------------------------------------------------------------------------------------
    async def _describe(self, _event: Event) -> None:
        await self.write_event(self.services.info.event())

    async def _ping(self, event: Event) -> None:
        await self.write_event(Pong(text=event.data.get("text")).event())

    async def _select_program(self, event: Event) -> None:
        name = SelectProgram.from_event(event).name
        if name not in PROGRAMS:
            raise WyomingInputError(f"no program named {name!r}; this server has {', '.join(PROGRAMS)}",
                                    "unknown-program")

    async def _transcribe(self, event: Event) -> None:
        self._request = ("asr", check_transcribe(event))

    async def _detect(self, event: Event) -> None:
        self._request = ("wake", check_detect(event, self.services.wake_model))

    async def _audio_start(self, event: Event) -> None:
        start = AudioStart.from_event(event)
        kind, request = self._request or ("asr", None)
        self._close_stream("a new audio-start came before audio-stop")
        if kind == "wake":
            self._stream = Listening(self.services.settings, self.services.wake_model, start, request)  # type: ignore[arg-type]
        else:
            self._stream = Transcription(self.services.recognizers, start, request)  # type: ignore[arg-type]
        self._request = None

    async def _audio_chunk(self, event: Event) -> None:
        if self._stream is None:
            raise WyomingInputError("audio-chunk before audio-start; chunk dropped", "no-audio-stream")
        chunk = WyomingChunk.from_event(event)
        for reply in await asyncio.to_thread(self._stream.feed, chunk):
            await self.write_event(reply)

    async def _audio_stop(self, _event: Event) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            raise WyomingInputError("audio-stop without audio-start", "no-audio-stream")
        try:
            replies = await asyncio.to_thread(stream.finish)
        finally:
            stream.close()
        for reply in replies:
            await self.write_event(reply)

    async def _handle(self, event: Event) -> None:
        """`transcript` -> `handled` / `not-handled`; a refusal is a `not-handled` (see edge.wyoming.handle)."""
        try:
            reply = await asyncio.to_thread(self.services.conversations.answer, event, self.conversation)
        except WyomingInputError as exc:
            log.warning("%s: %s (%s)", self.peer, exc, exc.code)
            reply = NotHandled(text=str(exc)).event()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("%s: malformed 'transcript' event: %s: %s (bad-event)", self.peer, type(exc).__name__, exc)
            reply = NotHandled(text=f"malformed 'transcript' event: {type(exc).__name__}: {exc}").event()
        except Exception:  # a failure of ours (the NLU, the catalog): the client still gets its answer
            log.exception("%s: transcript failed", self.peer)
            reply = NotHandled(text="Sorry, something went wrong on my side. Please try again.").event()
        await self.write_event(reply)


async def serve(uri: str, services: Services, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until cancelled or SIGTERM; OSError when the address cannot be bound, ValueError for a bad URI.

    On the way out every connection is closed and waited for (up to SHUTDOWN_SECONDS), so no worker
    thread is still inside onnxruntime when the process exits.
    """
    server = AsyncServer.from_uri(uri)
    handlers: list[ConnectionHandler] = []

    def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> ConnectionHandler:
        handlers[:] = [h for h in handlers if not h.finished.is_set()]
        handlers.append(ConnectionHandler(services, reader, writer))
        return handlers[-1]

    await server.start(connect)
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals off the main thread
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if on_ready is not None:
        on_ready()
    try:
        await stop.wait()
    finally:
        await server.stop()
        open_ones = [asyncio.ensure_future(h.finished.wait()) for h in handlers if not h.finished.is_set()]
        if open_ones:
            await asyncio.wait(open_ones, timeout=SHUTDOWN_SECONDS)
