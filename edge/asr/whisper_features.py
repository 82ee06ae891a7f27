"""Whisper's log-mel features exactly as sherpa-onnx computes them, in numpy.

sherpa-onnx's OfflineRecognizer (offline-stream.cc, WhisperTag) feeds Whisper kaldi-native-fbank's
`OnlineWhisperFbank` (whisper-feature.cc), then `NormalizeWhisperFeatures` (math.cc). Our encoder
was exported against those features and its WER measured on them (export/asr_parity.py's device
path), so the onnxruntime recognizer (edge.asr.whisper_ort) reproduces them rather than
openai-whisper's STFT, which differs in framing:

- samples as given (float in [-1, 1], no 32768 scaling), no dither, no pre-emphasis, no DC removal;
- frames of 400 samples (25 ms) every 160 (10 ms), `snip_edges=false`: (n + 80) // 160 frames, frame
  f starting at 160 f - 120, the edges mirrored (sample -1 is sample 0: "symmetric" padding);
- a periodic Hann window, a 400-point DFT (no rounding to a power of two), the power spectrum;
- librosa's Slaney mel scale and Slaney-normalized triangles, 0 Hz to Nyquist, 80 bins;
- log10 of the energies floored at 1e-10, floored again at (max - 8), then (x + 4) / 4.

tests/test_asr_whisper_ort.py checks these against kaldi-native-fbank itself.
"""

from __future__ import annotations

from functools import cache

import numpy as np

RATE = 16000
FRAME = 400
"""Window length (samples, 25 ms)."""
HOP = 160
"""Frame shift (samples, 10 ms)."""
N_MELS = 80


def _slaney_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, np.float64)
    return np.where(hz <= 1000.0, hz * 3.0 / 200.0, 15.0 + 14.545078505785561 * np.log(np.maximum(hz, 1e-9) / 1000.0))


def _slaney_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    return np.where(mel <= 15.0, 200.0 / 3.0 * mel, 1000.0 * np.exp((mel - 15.0) * 0.06875177742094911))


@cache
def mel_filters(n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, FRAME // 2 + 1) float32 triangles, kaldi-native-fbank's InitLibrosaMelBanks."""
    nyquist = RATE / 2
    mel_low, mel_high = _slaney_mel(0.0), _slaney_mel(nyquist)
    delta = (mel_high - mel_low) / (n_mels + 1)
    edges = _slaney_hz(mel_low + np.arange(n_mels + 2) * delta)
    left, center, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    hz = (RATE / FRAME) * np.arange(FRAME // 2 + 1)[None, :]
    rising = (hz - left) / (center - left)
    falling = (right - hz) / (right - center)
    weights = np.where(hz <= center, rising, falling)
    weights = np.where((hz > left) & (hz < right), weights, 0.0) * (2.0 / (right - left))
    return weights.astype(np.float32)


@cache
def _window() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(FRAME) / FRAME)).astype(np.float32)


def num_frames(n_samples: int) -> int:
    """Frames sherpa's fbank makes of n_samples (snip_edges=false rounds n / 160)."""
    return (n_samples + HOP // 2) // HOP


def mel_energies(samples: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """(frames, n_mels) float32 mel power, before the log: what OnlineWhisperFbank's GetFrame returns."""
    samples = np.asarray(samples, np.float32).reshape(-1)
    frames = num_frames(len(samples))
    if frames == 0:
        return np.zeros((0, n_mels), np.float32)
    left = FRAME // 2 - HOP // 2  # frame 0 starts 120 samples before the first sample
    right = max(0, (frames - 1) * HOP - left + FRAME - len(samples))
    padded = np.pad(samples, (left, right), mode="symmetric")
    windows = np.lib.stride_tricks.sliding_window_view(padded, FRAME)[::HOP][:frames] * _window()
    spectrum = np.fft.rfft(windows, n=FRAME, axis=-1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    return power @ mel_filters(n_mels).T


def normalize(energies: np.ndarray) -> np.ndarray:
    """sherpa's NormalizeWhisperFeatures: log10 (floor 1e-10), floor at max - 8, then (x + 4) / 4."""
    logs = np.log10(np.maximum(energies, 1e-10))
    if logs.size:
        logs = np.maximum(logs, logs.max() - 8.0)
    return ((logs + 4.0) / 4.0).astype(np.float32)


def whisper_features(samples: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """(frames, n_mels) float32: the features sherpa-onnx hands Whisper's encoder (before padding)."""
    return normalize(mel_energies(samples, n_mels))
