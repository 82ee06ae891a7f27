"""What the streaming recognizer (edge.asr.stream) is made of and hands out: its decoder's shape and its settings.

Apart from the recognizer so that whoever builds one (edge.asr, the pair, the bench) or reads its answers can name
these without the recognizer's machinery; and the state it keeps of the request being heard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Decode = Callable[..., str]
"""decode(samples) -> text, or decode(samples, prompt) with a prompt set (edge.asr.whisper_decoder)."""
Alternatives = tuple[tuple[str, float], ...]
"""A decode's hypotheses as (text, log-probability per token), best first (the beam's; empty for greedy)."""
Scored = tuple[str, float | None, Alternatives]
"""decode.scored's answer: the text, its log-probability per token (None: the runtime reports none), alternatives."""
Complete = Callable[[str], bool]


@dataclass(frozen=True)
class Endpointing:
    """When a pause is a pause, when it ends the request, how often partials come (seconds)."""

    pause: float = 0.12
    silence: float = 0.5
    early_silence: float = 0.0
    """Quiet that ends a request whose speculative text is complete; 0 never ends one early."""
    partial_interval: float = 0.5
    max_segment: float = 28.0
    partials: bool = True
    speculative: bool = True
    pack: float = 0.0
    """Offline only (no partials, no speculation): decode consecutive utterances together in windows of up
    to this many seconds (edge.asr.packing); 0 decodes each at its endpoint."""


@dataclass
class Utterance:
    start: int
    """First sample of the utterance (absolute sample index, pre-roll included)."""
    last_end: int | None = None
    """End of the last finished VAD segment; None while speech is going on."""
    speech: int = 0
    """Samples the VAD called speech so far."""
    partial_at: int = 0
    partial_seconds: float = 0.0
    """How long the last partial decode took (wall seconds)."""
    last_partial: str = ""
    speculation: Speculation | None = None


@dataclass
class Speculation:
    """A decode made at a pause; valid while nothing louder than the pause follows it."""

    stop: int
    """First sample not decoded (absolute index)."""
    quiet_from: int
    """Where the pause began: the quiet stretch's start, or Silero's segment end (absolute index)."""
    text: str
    seconds: float
    """Decode wall time (seconds)."""
    complete: bool | None = None
    """The completeness check's answer, asked once when an early endpoint is possible."""
    alternatives: Alternatives = ()
