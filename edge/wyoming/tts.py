"""The `synthesize` service: the device's voice over Wyoming, clause by clause.

One `synthesize` is one audio-start / audio-chunk* / audio-stop cycle, as every Wyoming client
expects. The device's Synthesizer already splits a reply into clauses (the first one a few words
long) and synthesizes the next while the previous one is sent, so the first audio leaves after a
few words' worth of compute instead of a whole sentence's.

Streaming text (`synthesize-start`, `synthesize-chunk`*, `synthesize-stop`) is spoken as it
arrives: text is gathered until a clause or sentence ends (`,` `;` `:` `.` `!` `?` followed by a
space), and every finished piece is spoken at once as its own audio cycle, the way wyoming-piper
answers per sentence; `synthesize-stopped` ends the response. The plain `synthesize` that Home
Assistant also sends inside a stream, for servers that do not stream, is ignored there.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStopped, SynthesizeVoice

from edge.tts import Synthesizer
from edge.wyoming.audio import WyomingInputError, pcm16

log = logging.getLogger("edge.wyoming.tts")

Send = Callable[[Event], Awaitable[None]]

CHUNK_SAMPLES = 2048
"""Samples per audio-chunk event (~93 ms at 22.05 kHz), a few per clause."""
WORKER_EXIT_SECONDS = 10.0
"""How long a cancelled reply's worker may take to finish the clause onnxruntime is inside (seconds)."""
MAX_TEXT_CHARS = 20000
"""Longer text is refused: minutes of speech that would hold the voice for every other client."""
_BREAK = re.compile(r"[,;:.!?]+[\"')\]]*\s+")


class TextStream:
    """Streamed text, released up to the last clause or sentence end it holds."""

    def __init__(self) -> None:
        self._text = ""

    def add(self, text: str) -> str:
        """Append a chunk; the speakable text that is now complete ('' while a clause is open)."""
        self._text += text
        if len(self._text) > MAX_TEXT_CHARS:
            self._text = ""
            raise WyomingInputError(f"streamed text over {MAX_TEXT_CHARS} characters without a clause end; "
                                    "dropped", "text-too-long")
        ends = [match.end() for match in _BREAK.finditer(self._text)]
        if not ends:
            return ""
        ready, self._text = self._text[:ends[-1]], self._text[ends[-1]:]
        return ready.strip()

    def finish(self) -> str:
        rest, self._text = self._text.strip(), ""
        return rest


class Speaker:
    """One connection's TTS: plain and streamed requests, over the shared Synthesizer."""

    def __init__(self, synthesizer: Synthesizer, voice_name: str, send: Send) -> None:
        self.synthesizer = synthesizer
        self.voice_name = voice_name
        self._send = send
        self._stream: TextStream | None = None

    def _check_voice(self, voice: SynthesizeVoice | None, text_format: object) -> None:
        if voice is not None and voice.name and voice.name != self.voice_name:
            raise WyomingInputError(f"unknown voice {voice.name!r}; this server speaks with {self.voice_name!r}",
                                    "unknown-voice")
        if text_format is not None and str(getattr(text_format, "value", text_format)) != "text":
            raise WyomingInputError(f"text_format {text_format!r} is not supported; send plain text",
                                    "unsupported-text-format")

    async def synthesize(self, event: Event) -> None:
        """`synthesize`: speak the text (ignored inside a text stream, see module docstring)."""
        request = Synthesize.from_event(event)
        if self._stream is not None:
            return
        self._check_voice(request.voice, request.text_format)
        if len(request.text) > MAX_TEXT_CHARS:
            raise WyomingInputError(f"text of {len(request.text)} characters is too long (at most "
                                    f"{MAX_TEXT_CHARS})", "text-too-long")
        if not await self.speak(request.text):
            raise WyomingInputError(f"nothing speakable in {request.text[:80]!r}", "nothing-to-say")

    async def start(self, event: Event) -> None:
        request = SynthesizeStart.from_event(event)
        self._check_voice(request.voice, request.text_format)
        self._stream = TextStream()

    async def chunk(self, event: Event) -> None:
        if self._stream is None:
            raise WyomingInputError("synthesize-chunk before synthesize-start; chunk dropped", "no-text-stream")
        ready = self._stream.add(SynthesizeChunk.from_event(event).text)
        if ready:
            await self.speak(ready)

    async def stop(self, _event: Event) -> None:
        if self._stream is None:
            raise WyomingInputError("synthesize-stop without synthesize-start", "no-text-stream")
        stream, self._stream = self._stream, None
        rest = stream.finish()
        if rest:
            await self.speak(rest)
        await self._send(SynthesizeStopped().event())

    async def speak(self, text: str) -> bool:
        """One audio cycle for text, sent clause by clause as synthesized; False if nothing was speakable."""
        speech = self.synthesizer.speak(text)
        if not speech.text_clauses:
            return False
        rate = speech.sample_rate
        clauses = iter(speech)
        try:
            await self._send(AudioStart(rate=rate, width=2, channels=1).event())
            while (clause := await asyncio.to_thread(next, clauses, None)) is not None:
                samples = clause.samples
                for offset in range(0, len(samples), CHUNK_SAMPLES):
                    block = pcm16(samples[offset:offset + CHUNK_SAMPLES])
                    await self._send(AudioChunk(rate=rate, width=2, channels=1, audio=block).event())
            await self._send(AudioStop().event())
        finally:
            if not speech.wait(0):  # the client went away or a clause failed: stop the worker, and let its
                speech.cancel()     # clause in flight end before this connection does (a process that
                await asyncio.to_thread(speech.wait, WORKER_EXIT_SECONDS)  # exits under it crashes in C++)
        return True
