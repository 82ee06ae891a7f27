"""Speaking a reply into a sink: parts in order, barge-in aware, failures returned rather than raised.

The responder thread of the device loop (edge/pipeline.py) calls `speak_reply`; a reply comes in
parts when its end is known later than its start (an order's confirmation, then whether it reached
the store), which `Ending` holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from edge.stages import Sink, Speech, Turn


@dataclass
class Played:
    """How a reply's audio went."""

    audio_seconds: float = 0.0
    first_audio_seconds: float | None = None
    """From the reply text to its first clause's audio (seconds)."""
    first_audio_wall: float | None = None
    """perf_counter() when the first clause was ready for the sink."""
    error: str | None = None


def play_reply(speeches: Iterable[Speech], open_sink: Callable[[], Sink], on_first_audio: Callable[[], None]) -> Played:
    """Stream a reply's Speech parts, one after the other, into one freshly opened sink.

    `speeches` may be a generator that decides the next part only once the previous one has
    played. A barge-in (speech.cancel) also stops the sink. A synthesis or sink failure ends the
    reply and is returned as `error`, never raised: the loop outlives it.
    """
    first_wall, first_seconds, audio_seconds = None, None, 0.0
    sink, error, current = None, None, None
    try:
        sink = open_sink()
        for current in speeches:
            current.on_cancel(sink.stop)
            for clause in current:
                if first_wall is None:
                    first_wall = time.perf_counter()
                    on_first_audio()
                sink.write(clause.samples)
            audio_seconds += current.stats.audio_seconds
            if first_seconds is None:
                first_seconds = current.stats.first_audio_seconds
    except Exception as exc:
        if current is not None:
            current.cancel()
        error = str(exc) or type(exc).__name__
    finally:
        if sink is not None:
            sink.close()
    return Played(audio_seconds, first_seconds, first_wall, error)


def speak_reply(parts: Iterable[Callable[[], str]], speak: Callable[[str], Speech], claim: Callable[[Speech], bool],
                open_sink: Callable[[], Sink], on_first_audio: Callable[[], None]) -> Played:
    """Speak a reply's parts in order into one sink (see play_reply).

    Each part's words are asked for, and synthesized, only once the part before has played, so a
    part may wait for something slow (an order's ack) while the user already hears the rest.
    claim(speech) is False when a barge-in has replaced the reply: nothing more is spoken.
    """

    def speeches() -> Iterator[Speech]:
        for part in parts:
            words = part()
            if words:
                speech = speak(words)
                if not claim(speech):
                    return
                yield speech

    return play_reply(speeches(), open_sink, on_first_audio)


class Ending:
    """A turn whose reply may end later: `settle(turn)` (the responder's) adds the last words."""

    def __init__(self, turn: Turn, settle: Callable[[Turn], Turn]) -> None:
        self.turn, self._settle = turn, settle
        self._settled: Turn | None = None

    def words(self) -> str:
        """The words settling added to the reply (an order's way to the store); waits for them."""
        self._settled = self._settle(self.turn)
        return self._settled.reply.text[len(self.turn.reply.text):].strip()

    def settled(self) -> Turn:
        """The finished turn (settled now if its words were never asked for, e.g. after a barge-in)."""
        return self._settled if self._settled is not None else self._settle(self.turn)
