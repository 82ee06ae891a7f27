"""Where the sound stops and starts again: the energy side of pause detection, beside Silero.

Silero (edge.asr.stream) is robust in noise but late at both edges of a pause: its probability
decays for ~0.2 s after the last word and it then waits `pause_seconds` before it closes the
segment, and resumed speech needs its `min_speech_duration` (0.25 s) before it counts. Energy
knows both edges within a 100 ms window. It is used to start the speculative decode early, to keep
that decode only while nothing louder than a pause follows it, and to hold an endpoint while the
user is audibly talking again.

The threshold is relative to the utterance itself, so the microphone's gain does not matter, and it
never comes within NOISE_DB of the utterance's quietest 100 ms, so in a noisy room the energy side
stays silent (nothing is "quiet") rather than wrong, and Silero's side carries on alone.
"""

from __future__ import annotations

import numpy as np

RATE = 16000
WINDOW = RATE // 10
"""The stretch whose level decides "quiet now" (samples, 100 ms)."""
QUIET_DB = 25.0
"""How far below the utterance's overall level a pause is (dB). At 20 dB the soft "s" ending
"apples" or "please" already counted, and its speculative decode ("I want to buy app.") was thrown
away a moment later, delaying the real one by its ~0.2-0.4 s; at 25 dB ten scenario-style commands
gave no such false pause (at 30 dB the real pauses were found later)."""
NOISE_DB = 6.0
"""A pause is never closer than this to the quietest 100 ms of the utterance (the room's noise, dB)."""


def level_dbfs(audio: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-120 for silence or no samples)."""
    if audio.size == 0:
        return -120.0
    power = float(np.mean(np.square(audio, dtype=np.float64)))
    return 10.0 * np.log10(max(power, 1e-12))


def window_levels(audio: np.ndarray) -> np.ndarray:
    """The level (dBFS) of each whole 100 ms window of audio, in order (empty when shorter than one)."""
    frames = len(audio) // WINDOW
    power = np.square(audio[:frames * WINDOW].reshape(frames, WINDOW), dtype=np.float64).mean(axis=1)
    return 10.0 * np.log10(np.maximum(power, 1e-12))


def pause_threshold(utterance: np.ndarray) -> float:
    """The level (dBFS) under which the last 100 ms of this utterance are a pause (see module doc)."""
    levels = window_levels(utterance)
    floor = float(levels.min()) if levels.size else -120.0
    return max(level_dbfs(utterance) - QUIET_DB, floor + NOISE_DB)


def quietest_point(audio: np.ndarray, window: int = 480) -> int:
    """Offset of the centre of the lowest-energy 30 ms window in audio, the earliest if several tie
    (a place to cut speech; len(audio) when it is shorter than one window)."""
    if len(audio) < window:
        return len(audio)
    frames = len(audio) // window
    energy = np.square(audio[:frames * window].reshape(frames, window)).mean(axis=1)
    return int(np.argmin(energy)) * window + window // 2
