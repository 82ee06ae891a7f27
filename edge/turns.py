"""What the device loop keeps about one request while it is heard, answered and timed.

The loop (edge/pipeline.py) reads top to bottom; the small pieces it needs live here so it stays
readable: the `Listen` context of one open microphone turn, the `Job` handed to the responder
thread, speaking a reply whose end comes later (`speak_reply`, `Ending`), the LED rule, and the
turn record with its per-stage latencies. The wake phrase's hand-over is edge/wake_handover.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from edge.events import FinalTranscript

STATES = ("idle", "wake", "listening", "thinking", "speaking")
"""The loop's states, in the order a request passes through them."""

@dataclass
class Listen:
    """One open microphone turn: from the wake word (or button, or a follow-up) to the endpoint."""

    source: str
    """"wake", "dsp", "button" (push-to-talk or tap) or "follow-up" (the reply asked a question)."""
    since: float | None = None
    """Audio-clock time the turn opened (None until its first frame arrives)."""
    heard: bool = False
    """The VAD heard speech in this turn."""
    needs_reset: bool = True
    """The recognizer must forget earlier audio before this turn's first frame."""
    hold: bool = False
    """Push-to-talk is held: the request ends when the button is released, not on silence."""
    finals: list[FinalTranscript] = field(default_factory=list)
    wake_score: float | None = None
    wake_ms: float | None = None
    """Compute time of the wake-word step that fired (milliseconds)."""


@dataclass
class Job:
    """Work for the responder thread: answer a transcript, or say that nobody answered."""

    kind: str
    """"turn" or "timeout"."""
    generation: int
    """The loop's generation when queued; a barge-in bumps it and the job's speech is dropped."""
    text: str = ""
    source: str = ""
    speech_end: float | None = None
    """Audio-clock end of the last speech segment (seconds)."""
    endpoint_at: float | None = None
    """Audio-clock end of the frame in which the endpoint was detected (seconds)."""
    endpoint_wall: float | None = None
    """perf_counter() when that frame arrived at the loop."""
    asr_ms: float | None = None
    """Recognizer compute for the endpoint frame: the wait for the final transcript (milliseconds)."""
    wake_ms: float | None = None
    wake_score: float | None = None


@dataclass
class Played:
    """How a reply's audio went."""

    audio_seconds: float = 0.0
    first_audio_seconds: float | None = None
    """From the reply text to its first clause's audio (seconds)."""
    first_audio_wall: float | None = None
    """perf_counter() when the first clause was ready for the sink."""
    error: str | None = None


def play_reply(speeches: Iterable[Any], open_sink: Callable[[], Any], on_first_audio: Callable[[], None]) -> Played:
    """Stream a reply's Speech parts, one after the other, into one freshly opened sink.

    A reply comes in parts when its end is known later than its start (an order's confirmation,
    then whether it reached the store): `speeches` may be a generator that decides the next part
    only once the previous one has played. A barge-in (speech.cancel) also stops the sink. A
    synthesis or sink failure ends the reply and is returned as `error`, never raised: the loop
    outlives it.
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


def speak_reply(parts: Iterable[Callable[[], str]], speak: Callable[[str], Any], claim: Callable[[Any], bool],
                open_sink: Callable[[], Any], on_first_audio: Callable[[], None]) -> Played:
    """Speak a reply's parts in order into one sink (see play_reply).

    Each part's words are asked for, and synthesized, only once the part before has played, so a
    part may wait for something slow (an order's ack) while the user already hears the rest.
    claim(speech) is False when a barge-in has replaced the reply: nothing more is spoken.
    """

    def speeches() -> Iterator[Any]:
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

    def __init__(self, turn: Any, settle: Callable[[Any], Any]) -> None:
        self.turn, self._settle, self._settled = turn, settle, None

    def words(self) -> str:
        """The words settling added to the reply (an order's way to the store); waits for them."""
        self._settled = self._settle(self.turn)
        return self._settled.reply.text[len(self.turn.reply.text):].strip()

    def settled(self) -> Any:
        """The finished turn (settled now if its words were never asked for, e.g. after a barge-in)."""
        return self._settled if self._settled is not None else self._settle(self.turn)


def led_for(state: str, muted: bool, online: bool | None) -> str:
    """The LED pattern to show: muted above all (a privacy switch must be visible), then offline
    while idle (a broker is configured but unreachable), else the state's own pattern."""
    if muted:
        return "muted"
    if state == "idle" and online is False:
        return "offline"
    return state


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000.0 * seconds, 1)


def latencies(job: Job, nlu_s: float | None, dialog_s: float | None, tts_first_s: float | None,
              first_audio_wall: float | None) -> dict[str, float | None]:
    """Per-stage latency of one turn (milliseconds; None where a stage did not run).

    endpoint: audio from the end of speech to the end of the frame where the endpoint fired (the
    VAD's silence hold); asr: recognizer compute on that frame; nlu, dialog: compute; tts_first_audio:
    from the reply text to its first clause's audio; endpoint_to_first_audio: wall time from the
    endpoint frame's arrival to the first clause; eos_to_first_audio: what the user waits, end of
    speech to the first reply audio = endpoint (audio clock) + everything after the frame arrived
    (wall clock). Fed in real time the two clocks run at the same rate, so the sum is exact; fed
    faster than real time it is what a real-time device that keeps up would show.
    """
    endpoint = after = eos = None
    if job.endpoint_at is not None and job.speech_end is not None:
        endpoint = max(0.0, job.endpoint_at - job.speech_end)
    if first_audio_wall is not None and job.endpoint_wall is not None:
        after = first_audio_wall - job.endpoint_wall
    if endpoint is not None and after is not None:
        eos = endpoint + after
    return {"wake": job.wake_ms, "endpoint": _ms(endpoint), "asr": job.asr_ms, "nlu": _ms(nlu_s),
            "dialog": _ms(dialog_s), "tts_first_audio": _ms(tts_first_s), "endpoint_to_first_audio": _ms(after),
            "eos_to_first_audio": _ms(eos)}


def turn_record(number: int, job: Job, turn: Any, latency: dict[str, float | None], *, spoken_seconds: float,
                barged_in: bool, error: str | None = None, first_audio_wall: float | None = None) -> dict[str, Any]:
    """The --json record of one turn (`turn` is the session's Turn: user text, intent, slots, reply).

    first_audio_wall is this process's perf_counter() at the first reply audio: a driver in the
    same process (the simulator) compares it with when it played the end of the user's speech.
    """
    reply = turn.reply if turn is not None else None
    return {
        "event": "turn", "turn": number, "kind": job.kind, "source": job.source,
        "transcript": turn.user if turn is not None else job.text,
        "intent": turn.intent if turn is not None else None,
        "confidence": turn.confidence if turn is not None else None,
        "slots": turn.slots if turn is not None else {},
        "reply": reply.text if reply is not None else "",
        "actions": reply.actions if reply is not None else [],
        "expects_answer": bool(reply.expects_answer) if reply is not None else False,
        "latency_ms": latency,
        "speech_end": job.speech_end, "endpoint_at": job.endpoint_at, "wake_score": job.wake_score,
        "first_audio_wall": first_audio_wall,
        "reply_audio_seconds": round(spoken_seconds, 3), "barged_in": barged_in, "error": error,
    }
