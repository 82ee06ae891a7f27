"""Measuring a VITS voice: phoneme ids, deterministic synthesis, speed (RTF) and log-mel distance.

Quality is compared with noise scales at 0, so FP32 output is a fixed reference and any
difference comes from the route (quantization, FP16), not from sampling. The distance is the
mean absolute difference of natural-log mel magnitudes (80 bands, 1024-point FFT, hop 256,
floor 1e-5: the VITS mel loss), after aligning frames with dynamic time warping so a route
that shifts a phoneme by a frame is not charged for the shift as if it were noise. The yardstick
is the same distance between two renderings of the *FP32* voice with its own sampling noise:
what a listener already hears vary from one reply to the next.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

N_FFT, HOP, N_MELS, LOG_FLOOR = 1024, 256, 80, 1e-5
DTW_BAND = 40
"""Frames a DTW path may stray from the diagonal (~0.5 s at 22.05 kHz, hop 256)."""


class Phonemes:
    """Text -> Piper phoneme-id sequences (one per sentence), as piper-tts and sherpa-onnx build them."""

    def __init__(self, id_map: dict[str, list[int]], espeak_voice: str) -> None:
        from piper.phoneme_ids import phonemes_to_ids
        from piper.phonemize_espeak import EspeakPhonemizer

        self._to_ids, self._espeak = phonemes_to_ids, EspeakPhonemizer()
        self.id_map, self.voice = id_map, espeak_voice

    def ids(self, text: str) -> list[list[int]]:
        return [self._to_ids(sentence, self.id_map) for sentence in self._espeak.phonemize(self.voice, text)]


def session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU session pinned to `threads` (single-thread RTF is what the manifest records)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def feeds(ids: Sequence[int], noise_scale: float = 0.0, noise_w: float = 0.0,
          length_scale: float = 1.0) -> dict[str, np.ndarray]:
    return {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32)}


def synthesize(sess: ort.InferenceSession, ids: Sequence[int], noise_scale: float = 0.0,
               noise_w: float = 0.0) -> np.ndarray:
    return sess.run(None, feeds(ids, noise_scale, noise_w))[0].reshape(-1).astype(np.float32)


def _mel_filterbank(sample_rate: int) -> np.ndarray:
    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), N_MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / sample_rate)
    bank = np.zeros((N_MELS, bins.size))
    for i in range(N_MELS):
        low, mid, high = edges[i:i + 3]
        bank[i] = np.maximum(0.0, np.minimum((bins - low) / (mid - low), (high - bins) / (high - mid)))
    return bank


def log_mel(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """(frames, 80) natural-log mel magnitudes."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    count = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:count] * np.hanning(N_FFT)
    magnitude = np.abs(np.fft.rfft(frames, axis=1))
    return np.log(np.maximum(magnitude @ _mel_filterbank(sample_rate).T, LOG_FLOOR))


def logmel_l1(a: np.ndarray, b: np.ndarray, sample_rate: int) -> float:
    """Mean |log-mel difference| along the DTW path between two renderings of the same text."""
    ma, mb = log_mel(a, sample_rate), log_mel(b, sample_rate)
    cost = np.abs(ma[:, None, :] - mb[None, :, :]).mean(axis=2)
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    steps = np.zeros((n + 1, m + 1), dtype=np.int64)
    total[0, 0] = 0.0
    for i in range(1, n + 1):
        centre = i * m // n
        for j in range(max(1, centre - DTW_BAND), min(m, centre + DTW_BAND) + 1):
            options = ((total[i - 1, j - 1], i - 1, j - 1), (total[i - 1, j], i - 1, j), (total[i, j - 1], i, j - 1))
            best, pi, pj = min(options)
            total[i, j] = cost[i - 1, j - 1] + best
            steps[i, j] = steps[pi, pj] + 1
    if not np.isfinite(total[n, m]):
        return float("inf")
    return float(total[n, m] / steps[n, m])


def time_models(sessions: dict[str, ort.InferenceSession], items: list[list[int]], reps: int,
                sample_rate: int) -> dict[str, list[float]]:
    """CPU-time RTF per rep for each model, reps interleaved so load on a shared machine hits all alike.

    CPU time of this thread (1-thread sessions compute on the caller): wall time on a shared 2-core
    machine at load 10+ swung a route's RTF by 20 % run to run and flipped the route decision.
    """
    for sess in sessions.values():  # warm-up: first runs allocate
        synthesize(sess, items[0])
    rtfs: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(reps):
        for name, sess in sessions.items():
            started = time.thread_time()
            samples = sum(synthesize(sess, ids).size for ids in items)
            rtfs[name].append((time.thread_time() - started) / (samples / sample_rate))
    return rtfs


_RESIDENT_PROBE = """
import json, sys
import onnxruntime as ort
from edge.config import MemorySettings
from edge.memory import memory_mb, tune_allocator
from export.tts_quality import feeds
tune_allocator(MemorySettings())
path, ids = sys.argv[1], json.loads(sys.argv[2])
base = memory_mb()["rss_mb"]
options = ort.SessionOptions()
options.enable_cpu_mem_arena, options.enable_mem_pattern = False, False
options.intra_op_num_threads, options.inter_op_num_threads, options.log_severity_level = 1, 1, 3
sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
loaded = memory_mb()["rss_mb"]
for _ in range(2):
    sess.run(None, feeds(ids))
end = memory_mb()
print(json.dumps({"loaded_mb": round(loaded - base, 1), "after_mb": round(end["rss_mb"] - base, 1),
                  "peak_mb": round(end["peak_rss_mb"] - base, 1)}))
"""


def resident_mb(path: Path, ids: Sequence[int]) -> dict[str, float]:
    """Memory one session of `path` adds to a fresh process, set up the way the device runs the voice.

    The device runs Piper without onnxruntime's arena or memory patterns and with the default
    [memory] malloc settings (edge.memory.tune_allocator), so the probe does too; a fresh process
    per model, because freed memory that glibc keeps would otherwise be charged to the next model. Linux only
    (reads /proc); the figures are MB above the process after importing onnxruntime: after loading,
    after two syntheses of `ids`, and the peak.
    """
    result = subprocess.run([sys.executable, "-c", _RESIDENT_PROBE, str(path), json.dumps(list(ids))],
                            capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"resident memory probe failed for {path.name}: {result.stderr.strip()[-400:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
