"""Transcribe whole recordings with the streaming recognizer: any length, one result per file.

A file goes through the device's path (VAD segments, Whisper, the guard, splits at 28 s), only
faster than real time and without partial decodes; a recognizer built with `pack=True` (as
`transcribe` builds it) decodes the utterances in windows of up to [asr] pack_seconds instead of one
by one (edge.asr.packing). Processing time excludes loading the models.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.asr.mandarin import has_cjk
from edge.audio import WavSource
from edge.events import AudioChunk, FinalTranscript


@dataclass
class Transcript:
    """What `python -m edge transcribe --json` prints for one file."""

    file: str
    text: str
    segments: list[dict[str, Any]] = field(default_factory=list)
    audio_seconds: float = 0.0
    processing_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        record = {"file": self.file, "text": self.text, "segments": self.segments,
                  "audio_seconds": self.audio_seconds, "processing_seconds": self.processing_seconds}
        if self.notes:
            record["notes"] = self.notes
        return record


def join_segments(texts: list[str]) -> str:
    """Segment texts as one text: a space between words, none between Chinese (which uses none)."""
    out = ""
    for text in texts:
        if out and text and not (has_cjk(out[-1]) or has_cjk(text[0]) or out[-1] in "，。？！：；、"):
            out += " "
        out += text
    return out


def final_transcripts(recognizer: Any, audio: np.ndarray, frame: int = 1280) -> list[FinalTranscript]:
    """Push a 16 kHz float32 array through recognizer from a fresh stream, in frames as a microphone
    delivers them, and return the finals (the in-memory twin of transcribe_file, for benches and tools)."""
    recognizer.reset()
    events = []
    for start in range(0, len(audio), frame):
        events += recognizer.process(AudioChunk(audio[start:start + frame], 16000, start / 16000))
    events += recognizer.flush()
    return [e for e in events if isinstance(e, FinalTranscript)]


def transcribe_file(path: str | Path, recognizer: Any, frame_ms: int = 100) -> Transcript:
    """Push a WAV file (any rate, width, channels) through recognizer; raises edge.audio.AudioError."""
    source = WavSource(path, sample_rate=16000, frame_ms=frame_ms)
    recognizer.reset()
    started = time.perf_counter()
    finals: list[FinalTranscript] = []
    samples = 0
    for chunk in source:
        samples += len(chunk.samples)
        finals += [e for e in recognizer.process(chunk) if isinstance(e, FinalTranscript)]
    finals += [e for e in recognizer.flush() if isinstance(e, FinalTranscript)]
    elapsed = time.perf_counter() - started
    segments = [{"start": round(f.start, 3), "end": round(f.end, 3), "text": f.text} for f in finals]
    return Transcript(file=str(path), text=join_segments([f.text for f in finals]), segments=segments,
                      audio_seconds=round(samples / 16000, 3), processing_seconds=round(elapsed, 3),
                      notes=source.report.problems())
