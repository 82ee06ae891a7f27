"""Silero VAD on onnxruntime directly: sherpa-onnx 2.0.1's VoiceActivityDetector, same file, same segments.

`[asr] vad_runtime = "onnxruntime"` runs the vad bundle's Silero network (its sequence file, a frame's
windows in one call, or an older bundle's silero_vad.onnx, inputs input/state/sr: the same probabilities)
behind the calls edge.asr.stream makes of sherpa's detector (`accept_waveform`, `is_speech_detected`,
`empty`, `front` (.start, .samples), `pop`, `flush`, `reset`, `current_segment`), with sherpa's
logic written out here (its silero-vad-model.cc, voice-activity-detector.cc, circular-buffer.cc):

- windows of 576 samples (512 new + the next 64, sherpa's v5 overlap) every 512 samples; a window
  is speech above `threshold`; once speech, it stays speech until the probability falls to
  `threshold - 0.15` (floor 0.01) and then stays there for `min_silence_duration`;
- speech starts only after `min_speech_duration` of windows above threshold; the segment then
  starts 2 x 576 samples + min_speech before the window that confirmed it (never before the
  oldest sample kept) and ends `min_silence_duration` before the window that closed it;
- a buffer longer than `max_speech_duration` switches to 0.1 s of silence and threshold 0.9 until
  it is short again (sherpa's way to cut a run-on segment);
- all durations become samples as sherpa does (float32 product, truncated), positions are absolute
  sample indices since the last reset, `current_segment.samples` stops one sample short of the end.

Why not sherpa-onnx here: once Whisper ran on the onnxruntime package (edge.asr.whisper_ort),
sherpa-onnx was loaded only for this VAD, and it brings its own onnxruntime (libonnxruntime 1.28
inside sherpa_onnx_core) next to the package's 1.32. In a fresh process that already runs Whisper's
encoder on onnxruntime, sherpa's VAD adds +28.2 MB resident (its second runtime's code and
allocator) against +5.7 MB for this one; the whole device (`python -m bench e2e`, English, load
1.1-1.7) reads 272 / 285 / 294 MB ready / end / peak against 296 / 311 / 320 with sherpa's VAD, at
the same p95 (467 ms), so issue 21's 300 MB goal is met. Same answers: on 72 runs (commands in four
voices, pink and babble noise, 25-40 s recordings, run-on speech past max_speech; frames of 512,
1000 and 1280 samples) every call returns what sherpa's does and every segment has the same start
and samples (`python -m bench.vad_runtime`), at the same CPU (4.6 vs 4.7 ms per second of audio).
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

import numpy as np

RATE = 16000
SHIFT = 512
"""New samples per Silero call at 16 kHz (sherpa's window_size; Silero v5 requires 512)."""
OVERLAP = 64
"""Samples of the next window sherpa appends to each Silero v5 call (its window_overlap_)."""
LONG_SILENCE_SECONDS = 0.1
LONG_THRESHOLD = 0.9
_FLOOR = float(np.float32(0.01))
"""The lowest probability that still continues speech (sherpa's neg_threshold floor, float32)."""
"""sherpa's settings while the buffer holds more than max_speech_duration (cut a run-on segment)."""


SINGLE_INPUTS = ["input", "state", "sr"]
"""silero_vad.onnx (what sherpa-onnx loads): one window per call."""
SEQUENCE_INPUTS = ["input", "h", "c"]
"""silero_vad_16k_sequence.onnx (the vad bundle's `model_sequence`): the same network over a run of windows per
call, the same probabilities (export.vad checks), ~70 vs ~169 µs a window at a frame's three (AMD EPYC, 1 thread):
the single-window file runs its graph inside an `If` over the sample rate."""


def _samples(seconds: float) -> int:
    """sherpa's duration -> samples: int64 rate times a float32, in float32, truncated to int32."""
    return int(np.float32(RATE) * np.float32(seconds))


class SpeechSegment(NamedTuple):
    start: int
    """First sample (absolute index since the last reset; -1 for no current segment)."""
    samples: np.ndarray


class _Samples:
    """sherpa's CircularBuffer: samples addressed by absolute index in [head, tail).

    Kept linear (moved to the front when it reaches the end, doubled when full) instead of a ring,
    so the pages touched are the ones the longest segment needs, not the whole capacity."""

    def __init__(self, capacity: int) -> None:
        self._data = np.zeros(max(1, capacity), np.float32)
        self.reset()

    def reset(self) -> None:
        self.head = self.tail = self._origin = 0
        """_origin: the absolute index of _data[0]."""

    @property
    def size(self) -> int:
        return self.tail - self.head

    def push(self, samples: np.ndarray) -> None:
        n = len(samples)
        if self.tail - self._origin + n > len(self._data):
            kept = self._data[self.head - self._origin:self.tail - self._origin]
            if self.size + n > len(self._data):
                grown = np.zeros(max(2 * len(self._data), self.size + n), np.float32)
                grown[:len(kept)] = kept
                self._data = grown
            else:
                self._data[:len(kept)] = kept
            self._origin = self.head
        self._data[self.tail - self._origin:self.tail - self._origin + n] = samples
        self.tail += n

    def get(self, start: int, n: int) -> np.ndarray:
        """A copy of n samples from `start`; empty where sherpa's Get refuses (and logs)."""
        if start < self.head or start >= self.tail or n < 0 or start - self.head + n > self.size:
            return np.zeros(0, np.float32)
        return self._data[start - self._origin:start - self._origin + n].copy()

    def pop(self, n: int) -> None:
        if 0 <= n <= self.size:
            self.head += n


class SileroVadOrt:
    """sherpa_onnx.VoiceActivityDetector's behaviour on an onnxruntime session of silero_vad.onnx (v5)."""

    def __init__(self, session: Any, *, threshold: float = 0.5, min_silence_duration: float = 0.5,
                 min_speech_duration: float = 0.25, max_speech_duration: float = 20.0,
                 buffer_size_in_seconds: float = 60.0) -> None:
        inputs = [i.name for i in session.get_inputs()]
        if inputs not in (SINGLE_INPUTS, SEQUENCE_INPUTS):
            raise ValueError(f"Silero VAD inputs {inputs}; this runtime needs {SINGLE_INPUTS} or {SEQUENCE_INPUTS} "
                             "(Silero v5)")
        self._session = session
        self._sequence = inputs == SEQUENCE_INPUTS
        self._threshold = float(np.float32(threshold))
        self._min_silence = min_silence_duration
        self._min_speech_samples = _samples(min_speech_duration)
        self._max_utterance = _samples(max_speech_duration)
        self._silence_samples = _samples(min_silence_duration)
        self._active_threshold = self._threshold
        self._window = SHIFT + OVERLAP
        self._rate = np.array(RATE, np.int64)
        self._buffer = _Samples(int(np.float32(buffer_size_in_seconds) * np.float32(RATE)))
        self._segments: deque[SpeechSegment] = deque()
        self.reset()

    # -- the calls edge.asr.stream makes ------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: segments, model state, buffer, positions (back to sample 0)."""
        self._segments.clear()
        self._state = np.zeros((2, 1, 128), np.float32)
        """Silero's LSTM state, (h, c) stacked as the single-window file takes it (the sequence file gets its halves)."""
        self._triggered = False
        self._current = self._temp_start = self._temp_end = 0
        self._buffer.reset()
        self._last = np.zeros(0, np.float32)
        self._start = -1
        self._cur_start = -1
        self._cur_tail = 0

    def accept_waveform(self, samples: Any) -> None:
        long = self._buffer.size > self._max_utterance
        self._silence_samples = _samples(LONG_SILENCE_SECONDS if long else self._min_silence)
        self._active_threshold = float(np.float32(LONG_THRESHOLD)) if long else self._threshold
        self._last = np.concatenate([self._last, np.asarray(samples, np.float32).reshape(-1)])
        if len(self._last) < self._window:
            return
        starts = range(0, (len(self._last) - self._window) // SHIFT * SHIFT + 1, SHIFT)
        probabilities = self.probabilities(np.stack([self._last[at:at + self._window] for at in starts]))
        speech = False
        for at, prob in zip(starts, probabilities, strict=True):
            self._buffer.push(self._last[at:at + SHIFT])
            speech = self._is_speech(prob) or speech
        self._last = self._last[len(starts) * SHIFT:]
        buffer = self._buffer
        backoff = 2 * self._window + self._min_speech_samples
        if speech:
            if self._start == -1:
                self._start = max(buffer.tail - backoff, buffer.head)
            self._cur_start, self._cur_tail = self._start, buffer.tail
            return
        self._cur_start = -1
        if self._start != -1 and buffer.size:
            end = buffer.tail - self._silence_samples
            self._segments.append(SpeechSegment(self._start, buffer.get(self._start, end - self._start)))
            buffer.pop(end - buffer.head)
        if self._start == -1:
            buffer.pop(max(0, buffer.tail - backoff - buffer.head))
        self._start = -1

    def is_speech_detected(self) -> bool:
        return self._start != -1

    def empty(self) -> bool:
        return not self._segments

    @property
    def front(self) -> SpeechSegment:
        """The oldest finished segment (sherpa logs and returns an empty one when there is none)."""
        return self._segments[0] if self._segments else SpeechSegment(0, np.zeros(0, np.float32))

    def pop(self) -> None:
        self._segments.popleft()

    @property
    def current_segment(self) -> SpeechSegment:
        """The segment being spoken, to one sample short of what has been windowed; start -1 if none."""
        if self._cur_start == -1:
            return SpeechSegment(-1, np.zeros(0, np.float32))
        return SpeechSegment(self._cur_start, self._buffer.get(self._cur_start, self._cur_tail - self._cur_start - 1))

    def flush(self) -> None:
        """Close the open segment at the last windowed sample (samples still short of a window stay out)."""
        buffer = self._buffer
        if self._start == -1 or buffer.size == 0 or buffer.tail <= self._start:
            return
        self._segments.append(SpeechSegment(self._start, buffer.get(self._start, buffer.tail - self._start)))
        buffer.pop(buffer.tail - buffer.head)
        self._start = self._cur_start = -1

    # -- Silero ----------------------------------------------------------------------------------------

    def probabilities(self, windows: np.ndarray) -> list[float]:
        """Silero's speech probability for each (n, 576) window in turn; advances the LSTM state. The sequence
        file takes them in one call (the probabilities do not depend on the decisions made between them)."""
        if self._sequence:
            probs, h, c = self._session.run(None, {"input": windows, "h": self._state[:1], "c": self._state[1:]})
            self._state = np.concatenate([h, c])
            return [float(p) for p in np.asarray(probs).reshape(-1)]
        out = []
        for window in windows:
            prob, self._state = self._session.run(None, {"input": window.reshape(1, -1), "state": self._state,
                                                         "sr": self._rate})
            out.append(float(prob.reshape(-1)[0]))
        return out

    def _is_speech(self, prob: float) -> bool:
        """sherpa's SileroVadModel::IsSpeech, branch for branch (the order matters at the edges)."""
        threshold = self._active_threshold
        self._current += SHIFT
        if prob > threshold and self._temp_end != 0:
            self._temp_end = 0
        if prob > threshold and self._temp_start == 0:
            self._temp_start = self._current  # must last min_speech_duration first
            return False
        if prob > threshold and self._temp_start != 0 and not self._triggered:
            if self._current - self._temp_start < self._min_speech_samples:
                return False
            self._triggered = True
            return True
        if prob < threshold and not self._triggered:
            self._temp_start = self._temp_end = 0
            return False
        if prob > max(float(np.float32(threshold) - np.float32(0.15)), _FLOOR) and self._triggered:
            return True
        if prob > threshold and not self._triggered:
            self._triggered = True
            return True
        if prob < threshold and self._triggered:
            if self._temp_end == 0:
                self._temp_end = self._current
            if self._current - self._temp_end < self._silence_samples:
                return True
            self._temp_start = self._temp_end = 0
            self._triggered = False
            return False
        return False
