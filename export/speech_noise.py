"""Noisy, reverberant and long-form versions of the synthesized shopping speech (bench and tests).

Shoppers talk to the device in kitchens: a fan, a television, other people, a tiled room. We have
no recordings of that (no real English speech ships in any installed package), so the conditions
are built, deterministically (fixed seeds: the same clip gets the same noise every run):

- pink noise (1/f power, a fan or traffic-like hiss) at a given SNR;
- babble: three other synthesized sentences in other voices summed, at a given SNR (a television
  or people talking: the hardest case for a recognizer, because the noise is speech);
- a reverberant room: the clip convolved with a synthetic impulse response (a direct path plus
  exponentially decaying noise whose level falls 60 dB in RT60 seconds, 0.4-0.8 s is a living room
  to a tiled kitchen);
- long recordings: several sentences in several voices separated by pauses of varying length,
  optionally noisy, 10-60 s, as a user dictating a list would speak.

SNR is measured against the speech's RMS over its active part (frames within 30 dB of the
loudest), so the silence a synthesizer leaves around a sentence does not make the noise seem quieter.
This module belongs to the bench/test toolchain; the device never imports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from export.speech_corpus import ESPEAK_VOICES, PIPER_VOICES, SENTENCES, Voice, clip, read_wav_16k

RATE = 16000
BABBLE_VOICES = (Voice("espeak", "en-gb-scotland"), Voice("espeak", "en-us+m3", 1.1), Voice("piper", "joe", 1.3))
"""Talkers in the background: voices the foreground sets do not use (their sentences are other ones)."""


@dataclass(frozen=True)
class Condition:
    """One acoustic condition: noise kind ('clean', 'pink', 'babble') at snr_db, and an optional room."""

    noise: str = "clean"
    snr_db: float = 20.0
    rt60: float = 0.0
    """Reverberation time (s) of the synthetic room; 0: no room."""

    @property
    def label(self) -> str:
        parts = [] if self.noise == "clean" else [f"{self.noise} {self.snr_db:g} dB"]
        if self.rt60:
            parts.append(f"room RT60 {self.rt60:g} s")
        return ", ".join(parts) or "clean"


NOISY = (Condition("pink", 10.0), Condition("pink", 5.0), Condition("babble", 15.0), Condition("babble", 10.0))
"""The noisy row's conditions (each clip gets one, in turn: every condition hears every voice)."""
REVERBERANT = (Condition(rt60=0.4), Condition(rt60=0.6), Condition("pink", 20.0, 0.8))
"""The reverberant row's conditions."""


def _rng(*key: object) -> np.random.Generator:
    digest = hashlib.sha256("\0".join(map(str, key)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def active_rms(audio: np.ndarray, frame: int = 320) -> float:
    """RMS over the frames within 30 dB of the loudest (the speech, not the silence around it)."""
    frames = len(audio) // frame
    if frames == 0:
        return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    power = np.square(audio[:frames * frame].reshape(frames, frame), dtype=np.float64).mean(axis=1)
    active = power[power >= power.max() * 1e-3]
    return float(np.sqrt(active.mean()))


def pink_noise(samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise with a 1/f power spectrum (white noise shaped in the frequency domain)."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.fft.rfftfreq(samples, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, samples)
    return (noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)).astype(np.float32)


def babble(samples: int, rng: np.random.Generator, talkers: int = 3) -> np.ndarray:
    """Unit-RMS sum of `talkers` background voices, each a random run of sentences at a random offset."""
    total = np.zeros(samples, np.float64)
    for index in range(talkers):
        voice = BABBLE_VOICES[index % len(BABBLE_VOICES)]
        parts, length = [], 0
        while length < samples + RATE:
            audio = read_wav_16k(clip(SENTENCES[int(rng.integers(len(SENTENCES)))], voice).path)
            parts.append(audio / (active_rms(audio) + 1e-9))
            length += len(audio)
        stream = np.concatenate(parts)
        start = int(rng.integers(0, len(stream) - samples))
        total += stream[start:start + samples]
    return (total / (np.sqrt(np.mean(total ** 2)) + 1e-12)).astype(np.float32)


def room_response(rt60: float, rng: np.random.Generator, direct_to_reverb_db: float = 0.0) -> np.ndarray:
    """A synthetic impulse response: a unit direct path, then decaying noise (-60 dB at rt60 s)."""
    length = int(rt60 * 1.2 * RATE)
    t = np.arange(length) / RATE
    tail = rng.standard_normal(length) * np.exp(-6.9078 * t / rt60)
    tail[:int(0.003 * RATE)] = 0.0  # first reflections arrive a few ms after the direct sound
    tail *= 10 ** (-direct_to_reverb_db / 20) / (np.sqrt(np.sum(tail ** 2)) + 1e-12)
    tail[0] = 1.0
    return tail.astype(np.float32)


def apply(audio: np.ndarray, condition: Condition, key: str) -> np.ndarray:
    """audio under condition (room first, then noise); `key` seeds it, so a clip's noise is fixed."""
    rng = _rng(key, condition.label)
    out = audio.astype(np.float32)
    if condition.rt60:
        wet = fftconvolve(out, room_response(condition.rt60, rng))[:len(out) + int(0.3 * RATE)]
        out = (wet * (active_rms(out) / (active_rms(wet) + 1e-12))).astype(np.float32)
    if condition.noise != "clean":
        make = pink_noise if condition.noise == "pink" else babble
        noise = make(len(out), rng)
        out = out + noise * active_rms(out) * 10 ** (-condition.snr_db / 20)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return (out / peak * 0.9 if peak > 0.99 else out).astype(np.float32)


def noisy_clips(clips: Sequence[np.ndarray], conditions: Sequence[Condition], keys: Sequence[str],
                pad: float = 0.5) -> tuple[list[np.ndarray], list[Condition]]:
    """Each clip padded with `pad` s of silence on both sides, then under the next condition in turn
    (the noise covers the padding too: a room is never silent)."""
    gap = np.zeros(int(pad * RATE), np.float32)
    chosen = [conditions[i % len(conditions)] for i in range(len(clips))]
    return [apply(np.concatenate([gap, c, gap]), cond, key)
            for c, cond, key in zip(clips, chosen, keys, strict=True)], chosen


LONG_VOICES = (PIPER_VOICES[0], ESPEAK_VOICES[1], PIPER_VOICES[2], ESPEAK_VOICES[0])


def long_form(seconds: float, index: int, voices: Sequence[Voice] = LONG_VOICES,
              condition: Condition = Condition()) -> tuple[np.ndarray, str]:
    """At least `seconds` of sentences in turn from `voices`, pauses of 0.3-1.6 s between them
    (short ones keep several sentences in one VAD segment, as a user listing items does), under
    `condition`; and the text. `index` picks the sentences and pauses (deterministic)."""
    rng = _rng("long", index, seconds)
    parts, words, total, n = [np.zeros(int(0.4 * RATE), np.float32)], [], 0, 0
    while total < seconds * RATE:
        text = SENTENCES[int(rng.integers(len(SENTENCES)))]
        if words and text == words[-1]:  # a sentence said twice in a row is not a list
            continue
        voice = voices[(index + n) % len(voices)]
        audio = read_wav_16k(clip(text, voice).path)
        audio = audio / (active_rms(audio) + 1e-9) * 0.08
        pause = np.zeros(int(float(rng.uniform(0.3, 1.6)) * RATE), np.float32)
        parts += [audio.astype(np.float32), pause]
        words.append(text)
        total += len(audio) + len(pause)
        n += 1
    audio = np.concatenate(parts)
    return apply(audio, condition, f"long{index}") if condition.noise != "clean" or condition.rt60 else audio, \
        " ".join(words)
