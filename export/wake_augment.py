"""Room, noise and level augmentation, and the clips and streams the wake word learns and is judged on.

All signals here are made with numpy from a seeded generator: coloured noise, mains hum, fan
rumble, clatter, beeps, music-like chords with a beat, babble from other utterances, and
synthetic room impulse responses (exponentially decaying noise with a direct path). Training
and held-out data use *different* augmentations (`AugSpec.train()` vs `AugSpec.heldout()`):
held-out positives meet noise kinds (cafe babble, music beds) and rooms (early reflections,
darker tails) that training never saw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from export.wake_data import RATE, Utterance


@dataclass(frozen=True)
class AugSpec:
    """Which augmentations a split uses."""

    noises: tuple[str, ...]
    snr_db: tuple[float, float]
    rt60: tuple[float, float]
    reverb_p: float
    early_reflections: bool
    noise_p: float = 0.85

    @staticmethod
    def train() -> AugSpec:
        return AugSpec(noises=("white", "pink", "brown", "hum", "fan", "babble", "clatter"),
                       snr_db=(3.0, 25.0), rt60=(0.1, 0.7), reverb_p=0.6, early_reflections=False)

    @staticmethod
    def heldout() -> AugSpec:
        return AugSpec(noises=("cafe", "music", "pink", "fan"), snr_db=(5.0, 20.0), rt60=(0.2, 0.9),
                       reverb_p=0.7, early_reflections=True)


def _coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise with power ~ 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0)
    noise = np.fft.irfft(spectrum / freqs ** (exponent / 2), n)
    return noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)


def _lowpass(x: np.ndarray, cutoff: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return np.fft.irfft(spectrum / (1 + (freqs / cutoff) ** 4), len(x))


def music(rng: np.random.Generator, n: int) -> np.ndarray:
    """Chords of harmonic notes with decays, a kick and hi-hats on a beat: music-like, not speech."""
    t = np.arange(n) / RATE
    out = np.zeros(n)
    beat = rng.uniform(0.35, 0.7)
    root = rng.uniform(110, 330)
    for start in np.arange(0, n / RATE, beat * 2):
        chord = root * 2 ** (np.array(rng.choice([[0, 4, 7], [0, 3, 7], [0, 5, 9], [-2, 2, 5]])) / 12)
        seg = (t >= start) & (t < start + beat * 2)
        local = t[seg] - start
        for f in chord * rng.choice([0.5, 1, 2]):
            tone = sum(np.sin(2 * np.pi * f * h * local + rng.uniform(0, 6)) / h ** 1.5 for h in range(1, 6))
            out[seg] += tone * np.exp(-local * rng.uniform(0.5, 3))
    for start in np.arange(0, n / RATE, beat):
        i = int(start * RATE)
        kick = np.sin(2 * np.pi * 55 * np.arange(2400) / RATE) * np.exp(-np.arange(2400) / 500)
        hat = rng.standard_normal(800) * np.exp(-np.arange(800) / 120) * 0.3
        out[i: i + 2400] += kick[: n - i]
        j = min(n, i + int(beat * RATE / 2))
        out[j: j + 800] += hat[: n - j]
    return out / (np.sqrt(np.mean(out ** 2)) + 1e-12)


def noise(rng: np.random.Generator, n: int, kind: str, pool: list[Utterance]) -> np.ndarray:
    """n samples of one noise kind at unit RMS; babble/cafe mix utterances from pool."""
    t = np.arange(n) / RATE
    if kind in ("white", "pink", "brown"):
        x = _coloured(rng, n, {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind])
    elif kind == "hum":
        f0 = rng.choice([50.0, 60.0])
        x = sum(np.sin(2 * np.pi * f0 * h * t) * rng.uniform(0.1, 1) / h for h in range(1, 8))
        x = x + 0.05 * _coloured(rng, n, 1.0)
    elif kind == "fan":
        x = _lowpass(_coloured(rng, n, 0.5), rng.uniform(300, 1500)) + 0.2 * np.sin(2 * np.pi * rng.uniform(80, 200) * t)
    elif kind == "clatter":
        x = 0.02 * _coloured(rng, n, 1.0)
        for _ in range(max(1, int(n / RATE * rng.uniform(1, 5)))):
            i, length = rng.integers(0, n), int(rng.integers(200, 3000))
            burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 5))
            x[i: i + length] += burst[: n - i] * rng.uniform(0.5, 3)
    elif kind == "beeps":
        x = 0.01 * _coloured(rng, n, 0.0)
        for _ in range(int(rng.integers(1, 5))):
            i, length = rng.integers(0, n), int(rng.integers(1600, 8000))
            seg = np.arange(min(length, n - i)) / RATE
            x[i: i + len(seg)] += np.sin(2 * np.pi * rng.uniform(400, 3000) * seg)
    elif kind == "music":
        x = music(rng, n)
    elif kind in ("babble", "cafe"):
        x = np.zeros(n)
        for _ in range(int(rng.integers(3, 7))):
            u = pool[int(rng.integers(len(pool)))].audio
            reps = np.tile(u, n // max(1, len(u)) + 2)
            offset = int(rng.integers(0, len(u)))
            x += reps[offset: offset + n] * rng.uniform(0.3, 1)
        if kind == "cafe":
            x = x / (np.sqrt(np.mean(x ** 2)) + 1e-12) + 0.5 * noise(rng, n, "clatter", pool)
    else:
        raise ValueError(f"unknown noise kind {kind!r}")
    x = np.asarray(x, dtype=np.float64)
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)


def room_impulse(rng: np.random.Generator, rt60: float, early_reflections: bool) -> np.ndarray:
    """A synthetic RIR: direct path, optional discrete early reflections, decaying diffuse tail."""
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail[: int(0.003 * RATE)] = 0
    if early_reflections:
        tail = _lowpass(tail, rng.uniform(2000, 5000))
        for _ in range(6):
            tail[int(rng.uniform(0.003, 0.03) * RATE)] += rng.uniform(0.2, 0.6) * rng.choice([-1, 1])
    rir = tail * rng.uniform(0.1, 0.5) / (np.sqrt(np.sum(tail ** 2)) + 1e-12)
    rir[0] = 1.0
    return rir


def reverb(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve (FFT) and keep the original length, so labelled times stay where they were."""
    size = 1 << int(np.ceil(np.log2(len(audio) + len(rir))))
    out = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(rir, size), size)[: len(audio)]
    return out.astype(np.float32)


def finish(rng: np.random.Generator, dry: np.ndarray, spec: AugSpec, pool: list[Utterance]) -> np.ndarray:
    """Room, then background noise at a random SNR, then a random level (peak -26 to -1 dBFS)."""
    audio = dry.astype(np.float32)
    if rng.random() < spec.reverb_p:
        audio = reverb(audio, room_impulse(rng, rng.uniform(*spec.rt60), spec.early_reflections))
    speech_rms = np.sqrt(np.mean(audio[np.abs(audio) > 1e-4] ** 2)) if np.any(np.abs(audio) > 1e-4) else 0.05
    if rng.random() < spec.noise_p:
        kind = spec.noises[int(rng.integers(len(spec.noises)))]
        snr = rng.uniform(*spec.snr_db)
        audio = audio + noise(rng, len(audio), kind, pool) * speech_rms / 10 ** (snr / 20)
    else:  # even a quiet room is not digital silence
        audio = audio + _coloured(rng, len(audio), 1.0).astype(np.float32) * speech_rms * 10 ** (-rng.uniform(40, 60) / 20)
    peak = np.abs(audio).max() + 1e-9
    return (audio * 10 ** (rng.uniform(-26, -1) / 20) / peak).astype(np.float32)


@dataclass
class Clip:
    """An augmented clip; for positives, where the phrase sits in it (seconds)."""

    audio: np.ndarray
    label: int
    kind: str
    phrase_start: float = -1.0
    phrase_end: float = -1.0


def _context(rng: random.Random, pool: list[Utterance], seconds: float, from_end: bool) -> np.ndarray:
    """seconds of other speech (the end or the start of a random utterance), or silence."""
    n = int(seconds * RATE)
    if n <= 0 or not pool or rng.random() < 0.4:
        return np.zeros(max(n, 0), np.float32)
    u = rng.choice(pool).audio * rng.uniform(0.5, 1.0)
    part = u[-n:] if from_end else u[:n]
    pad = np.zeros(n - len(part), np.float32)
    return np.concatenate([pad, part] if from_end else [part, pad]).astype(np.float32)


def positive_clip(rng: random.Random, nrng: np.random.Generator, phrase: np.ndarray, pool: list[Utterance],
                  spec: AugSpec, lead: tuple[float, float] = (0.2, 1.8), tail: float = 0.6) -> Clip:
    """[other speech or silence] + gap + phrase + gap + [the start of a request or silence], augmented."""
    before = _context(rng, pool, rng.uniform(*lead), from_end=True)
    gap = np.zeros(int(rng.uniform(0.1, 0.5) * RATE), np.float32)
    after_gap = np.zeros(int(rng.uniform(0.05, 0.4) * RATE), np.float32)
    after = _context(rng, pool, tail, from_end=False)
    start = (len(before) + len(gap)) / RATE
    dry = np.concatenate([before, gap, phrase * rng.uniform(0.7, 1.0), after_gap, after])
    return Clip(finish(nrng, dry, spec, pool), 1, "phrase", start, start + len(phrase) / RATE)


def negative_clip(rng: random.Random, nrng: np.random.Generator, utterance: np.ndarray, pool: list[Utterance],
                  spec: AugSpec, kind: str) -> Clip:
    """[context] + gap + utterance + short tail, augmented; every window of it is negative."""
    before = _context(rng, pool, rng.uniform(0.0, 0.8), from_end=True)
    gap = np.zeros(int(rng.uniform(0.1, 0.5) * RATE), np.float32)
    dry = np.concatenate([before, gap, utterance, np.zeros(int(0.4 * RATE), np.float32)])
    return Clip(finish(nrng, dry, spec, pool), 0, kind)


def noise_clip(nrng: np.random.Generator, seconds: float, pool: list[Utterance], kinds: tuple[str, ...]) -> Clip:
    """A clip of noise or music alone, at a random level."""
    kind = kinds[int(nrng.integers(len(kinds)))]
    x = noise(nrng, int(seconds * RATE), kind, pool)
    return Clip((x * 10 ** (nrng.uniform(-30, -3) / 20) / (np.abs(x).max() + 1e-9)).astype(np.float32), 0, "noise:" + kind)


def negative_stream(seed: int, sentences: list[Utterance], confusables: list[Utterance], seconds: float,
                    spec: AugSpec, confusable_share: float = 0.1,
                    segments: list[tuple[float, float, str]] | None = None) -> np.ndarray:
    """A long stretch of everyday audio without the phrase: speech, some confusables, noise, music, pauses.

    About 3/4 of the time is speech, of which confusable_share of the utterances are confusable
    phrases; sentences double as the babble pool. When segments is a list, (start s, end s, what)
    is appended for every utterance and noise stretch, so a false accept can be traced.
    """
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    parts, total = [], 0
    kinds = ("music", "beeps", "clatter", "hum", "fan", "pink", "cafe", "white")
    pool = sentences
    while total < seconds * RATE:
        roll = rng.random()
        if roll < 0.75:
            group = [rng.choice(confusables if confusables and rng.random() < confusable_share else sentences)
                     for _ in range(rng.randint(1, 4))]
            pauses = [np.zeros(int(rng.uniform(0.15, 0.9) * RATE), np.float32) for _ in group]
            at = total
            for u, pause in zip(group, pauses, strict=True):
                if segments is not None:
                    segments.append((at / RATE, (at + len(u.audio)) / RATE, f"{u.kind}: {u.text} [{u.voice}]"))
                at += len(u.audio) + len(pause)
            dry = np.concatenate([x for pair in zip([u.audio for u in group], pauses, strict=True) for x in pair])
            segment = finish(nrng, dry, spec, pool)
        else:
            clip = noise_clip(nrng, rng.uniform(2, 8), pool, kinds)
            segment = clip.audio
            if segments is not None:
                segments.append((total / RATE, (total + len(segment)) / RATE, clip.kind))
        gap = finish(nrng, np.zeros(int(rng.uniform(0.3, 2.5) * RATE), np.float32), spec, pool) * 0.05
        parts += [segment, gap]
        total += len(segment) + len(gap)
    return np.concatenate(parts)[: int(seconds * RATE)].astype(np.float32)
