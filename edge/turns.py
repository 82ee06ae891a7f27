"""What the device loop keeps about one request while it is heard and answered.

`Listen` is one open microphone turn (from the wake word, a button or a follow-up question to
the endpoint); `Job` is the work handed to the responder thread; `finished_turn` is the typed
record of the answered turn the loop emits. Speaking a reply is edge/playback.py, the LED rule
edge/leds.py, the latency sums edge/latency.py, the wake phrase's hand-over edge/wake_handover.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.events import Endpoint, FinalTranscript, RecognizerEvent, SpeechStarted, TurnFinished
from edge.stages import Turn
from edge.wake_handover import strip_wake_phrase


@dataclass
class Listen:
    """One open microphone turn: from the wake word (or button, or a follow-up) to the endpoint."""

    source: str
    """"model", "dsp", "button" (push-to-talk or tap) or "follow-up" (the reply asked a question)."""
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

    def take(self, events: list[RecognizerEvent]) -> bool:
        """Note speech and finals from the recognizer; True if an endpoint was among them."""
        for event in events:
            if isinstance(event, (SpeechStarted, FinalTranscript)):
                self.heard = True
            if isinstance(event, FinalTranscript) and event.text.strip():
                self.finals.append(event)
        return any(isinstance(event, Endpoint) for event in events)

    def transcript(self, wake_phrase: str) -> str:
        """What was asked: the finals so far, without the wake phrase the pre-roll (or a habit) brought."""
        text = " ".join(f.text.strip() for f in self.finals)
        return text if self.source == "button" else strip_wake_phrase(text, wake_phrase)

    def alternatives(self, wake_phrase: str) -> tuple[tuple[str, float], ...]:
        """The recognizer's readings of a one-segment request (text, log-probability per token), each as
        `transcript` would give it; empty when the request was heard in several segments or by greedy."""
        if len(self.finals) != 1:
            return ()
        out: dict[str, float] = {}
        for text, score in self.finals[0].alternatives:
            text = text.strip() if self.source == "button" else strip_wake_phrase(text.strip(), wake_phrase)
            if text and text not in out:
                out[text] = score
        return tuple(out.items()) if len(out) > 1 else ()


@dataclass
class Job:
    """Work for the responder thread: answer a transcript, or say that nobody answered."""

    kind: str
    """"turn" or "timeout"."""
    generation: int
    """The loop's generation when queued; a barge-in bumps it and the job's speech is dropped."""
    text: str = ""
    source: str = ""
    alternatives: tuple[tuple[str, float], ...] = ()
    """The recognizer's other readings of the request (Listen.alternatives), `text` among them."""
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


def finished_turn(number: int, job: Job, turn: Turn | None, latency: dict[str, float | None], *,
                  spoken_seconds: float, barged_in: bool, error: str | None = None,
                  first_audio_wall: float | None = None) -> TurnFinished:
    """The loop's record of one answered job (`turn` is the session's Turn: user text, intent, slots, reply)."""
    reply = turn.reply if turn is not None else None
    return TurnFinished(
        turn=number, kind=job.kind, source=job.source,
        transcript=turn.user if turn is not None else job.text,
        intent=turn.intent if turn is not None else None,
        confidence=turn.confidence if turn is not None else None,
        slots=turn.slots if turn is not None else {},
        reply=reply.text if reply is not None else "",
        actions=reply.actions if reply is not None else [],
        expects_answer=bool(reply.expects_answer) if reply is not None else False,
        latency_ms=latency, speech_end=job.speech_end, endpoint_at=job.endpoint_at, wake_score=job.wake_score,
        first_audio_wall=first_audio_wall, reply_audio_seconds=spoken_seconds, barged_in=barged_in, error=error,
        passed_over=getattr(turn, "passed_over", None))
