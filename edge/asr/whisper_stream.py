"""sherpa-onnx's offline stream interface for `edge.asr.whisper_ort.WhisperOrt`: one utterance's audio in, its
result out, and the bundle's token table.

Kept apart from the decoder so the recognizer's callers (edge.asr.stream, packing, files) see the same
`create_stream` / `accept_waveform` / `decode_stream` / `result` shape whichever runtime decodes.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000


@dataclass
class Result:
    """What sherpa's OfflineRecognitionResult offers that the device reads."""

    text: str = ""
    tokens: list[int] | None = None
    logprob: float | None = None
    """The transcript's log-probability per token (WhisperOrt; sherpa's results have none): how sure the
    recognizer was, comparable between two recognizers of the same audio (edge.asr.pair)."""
    alternatives: tuple[tuple[str, float], ...] = ()
    """The beam's hypotheses (text, log-probability per token), best first, the text above among them; empty
    for greedy. The dialogue re-ranks them by what it understands (edge.dialog.hearing)."""


class WhisperStream:
    """One utterance's audio (sherpa's OfflineStream interface: accept_waveform, then decode_stream)."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []
        self.result = Result()
        self.prompt: tuple[int, ...] = ()
        """Previous-text token ids (after <|startofprev|>) decode_stream conditions on (edge.asr.prompt)."""
        self.bias: object | None = None
        """Catalog bias for the greedy search (edge.asr.biasing.PhraseBias), or None: spoken requests only."""
        self.timed = False
        """Decode in Whisper's timestamp mode (edge.asr.timestamps): a packed window of several sentences."""
        self.spans: tuple[tuple[float, float], ...] = ()
        """A timed window's utterances, (start, stop) seconds into it (the VAD's): where a decode that stopped
        early resumes (WhisperOrt.timed)."""

    def accept_waveform(self, sample_rate: int, samples: np.ndarray | Sequence[float]) -> None:
        """Append samples (float in [-1, 1]); other rates are resampled to 16 kHz, as sherpa does."""
        audio = np.asarray(samples, np.float32).reshape(-1)
        if sample_rate != RATE:
            if sample_rate <= 0:
                raise ValueError(f"sample rate must be positive, got {sample_rate}")
            import soxr

            audio = soxr.resample(audio, sample_rate, RATE).astype(np.float32)
        self._parts.append(audio)

    @property
    def samples(self) -> np.ndarray:
        return np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)


def read_tokens(path: Path) -> dict[int, bytes]:
    """sherpa's Whisper tokens.txt (`base64(bytes) id` a line) -> id -> token bytes."""
    table: dict[int, bytes] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            text, token_id = line.rsplit(" ", 1)
            table[int(token_id)] = base64.b64decode(text)
    return table
