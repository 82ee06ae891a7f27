"""Pairs of the same request heard in a room and heard dry, for teaching Whisper's encoder the room.

What `export.whisper_tune` trains on: a shopping line spoken by a training voice, once dry (near
field, quiet) and once as a device across a room hears it (reverberation, noise, a level change),
sample-aligned, so the encoder's frames of one can be taught to match the other's.

Kept apart from everything that judges the result, so a gain here is not a gain on the bench's own
material:
- voices: Piper joe (its noise scales and length, and Praat speaker perturbation from a deep male to
  a child), festival ked and the espeak-ng variants `export.wake_data.split_variants` trains on. Never
  a voice `bench task` holds out (flite rms/slt, espeak en-us+f5, festival slt) or tunes on (its dev
  split: flite awb/kal16, espeak en-us+m3, festival kal; nor flite kal, kal16's speaker);
- rooms: not the bench's model (`export.speech_noise.room_response`, one exponential decay of white
  noise): two bands that decay at different rates (lows ring longer) and 3-7 discrete early
  reflections, RT60 0.25-1.0 s, direct-to-reverberant ratio -20..+3 dB;
- noise: not the bench's generators (pink, its babble, its music and car): noise of a random spectral
  tilt from white to brown, and babble of 2-4 training voices saying other training lines, 0-25 dB SNR;
- text: the NLU's generated training lines (`export.nlu_data.build_splits`), none of the hand-written
  held-out lines the bench's commands come from. The text only shapes the audio: nothing is trained
  on it (the teacher is the original encoder on the dry copy), so the decoder's language stays Whisper's.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

from export.speech_noise import active_rms

RATE = 16000
LEVEL = 0.05
"""Active RMS of the dry line before the level change (the bench's near talker)."""
BENCH_VOICES = frozenset({"flite:rms", "flite:slt", "espeak:en-us+f5", "festival:cmu_us_slt_arctic_hts",
                          "flite:awb", "flite:kal16", "flite:kal", "espeak:en-us+m3", "festival:kal_diphone"})
"""Voices `bench task` holds out or tunes on (and kal16's speaker): never used here."""


@dataclass(frozen=True)
class Pair:
    """One line, heard in a room (`heard`) and dry (`dry`), the same length and aligned."""

    heard: np.ndarray
    dry: np.ndarray
    voice: str
    condition: str


class Speakers:
    """Training voices, one drawn per line."""

    def __init__(self, rng: random.Random) -> None:
        from export.wake_data import PiperSynth, espeak_variants, split_variants

        self.rng = rng
        self.piper = PiperSynth()
        train, _ = split_variants(espeak_variants())
        self.variants = [v for v in train if f"espeak:en-us+{v}" not in BENCH_VOICES]

    def __call__(self, text: str) -> tuple[np.ndarray, str]:
        from export.wake_data import synth_espeak
        from export.wake_voices import perturb, synth_festival, training_perturbation

        rng, roll = self.rng, self.rng.random()
        if roll < 0.55:
            audio = self.piper(text, rng.uniform(0.85, 1.2), rng.uniform(0.4, 0.9), rng.uniform(0.5, 1.0))
            if roll < 0.25:
                return audio, "piper:joe"
            return perturb(audio, training_perturbation(rng)), "piper:joe-perturbed"
        if roll < 0.85:
            variant = rng.choice(self.variants)
            return (synth_espeak(text, rng.choice(["en-us", "en"]), variant, rng.randint(140, 200), rng.randint(25, 75)),
                    f"espeak:{variant}")
        return synth_festival([text], "ked_diphone", rng.uniform(0.9, 1.15))[0], "festival:ked_diphone"


def room(rt60: float, drr_db: float, rng: np.random.Generator) -> np.ndarray:
    """An impulse response: the direct path, discrete early reflections, a two-band decaying tail."""
    n = int(rt60 * 1.3 * RATE)
    t = np.arange(n) / RATE
    white = rng.standard_normal(n)
    low = sosfilt(butter(2, 800, "low", fs=RATE, output="sos"), white)
    tail = low * np.exp(-6.9078 * t / (rt60 * 1.3)) + (white - low) * np.exp(-6.9078 * t / (rt60 * 0.7))
    tail[:int(rng.uniform(0.002, 0.008) * RATE)] = 0.0
    tail *= 10 ** (-drr_db / 20) / (np.sqrt(np.sum(tail ** 2)) + 1e-12)
    for _ in range(int(rng.integers(3, 8))):
        delay = int(rng.uniform(0.003, 0.03) * RATE)
        if delay < n:
            tail[delay] += rng.uniform(0.1, 0.6) * rng.choice((-1.0, 1.0))
    tail[0] = 1.0
    return tail.astype(np.float32)


def tilted_noise(samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose power falls as 1/f^a, a from 0 (white) to 2 (brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.fft.rfftfreq(samples, 1 / RATE)
    spectrum[1:] /= freqs[1:] ** (rng.uniform(0.0, 2.0) / 2)
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, samples)
    return (noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)).astype(np.float32)


def talkers(samples: int, pool: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS babble: 2-4 streams of other training lines."""
    total = np.zeros(samples)
    for _ in range(int(rng.integers(2, 5))):
        picks = rng.choice(len(pool), size=min(4, len(pool)), replace=False)
        stream = np.concatenate([pool[i] / (active_rms(pool[i]) + 1e-9) for i in picks])
        while len(stream) <= samples:
            stream = np.concatenate([stream, stream])
        start = int(rng.integers(0, len(stream) - samples))
        total += stream[start:start + samples]
    return (total / (np.sqrt(np.mean(total ** 2)) + 1e-12)).astype(np.float32)


def _limit(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio)))
    return (audio / peak * 0.9 if peak > 0.99 else audio).astype(np.float32)


def pairs(count: int, seed: int, far_share: float = 0.6, noise_share: float = 0.75) -> Iterator[Pair]:
    """`count` pairs, deterministic in their draws for a seed (Piper's own sampling aside)."""
    from export.nlu_data import build_splits

    rng, draw = random.Random(seed), np.random.default_rng(seed)
    texts = sorted({e.text for e in build_splits()["train"] if "thx" not in e.text})
    rng.shuffle(texts)
    speak = Speakers(rng)
    pool: list[np.ndarray] = []
    made = index = 0
    while made < count:
        text, index = texts[index % len(texts)], index + 1
        audio, voice = speak(text)
        if audio.size < RATE // 10:
            continue
        if len(pool) < 40:  # babble for later lines (and this one): the first lines, at LEVEL
            pool.append(audio / (active_rms(audio) + 1e-9) * LEVEL)
        made += 1
        yield _pair(audio, voice, rng, draw, far_share, noise_share, pool)


def _pair(audio: np.ndarray, voice: str, rng: random.Random, draw: np.random.Generator, far_share: float,
          noise_share: float, pool: list[np.ndarray] | None = None) -> Pair:
    """audio at LEVEL with 0.1-0.5 s of quiet before and 0.3-0.8 s after (dry), the same heard in a room, both at one
    random level."""
    audio = audio / (active_rms(audio) + 1e-9) * LEVEL
    dry = np.concatenate([np.zeros(int(draw.uniform(0.1, 0.5) * RATE), np.float32), audio,
                          np.zeros(int(draw.uniform(0.3, 0.8) * RATE), np.float32)]).astype(np.float32)
    heard, condition = _heard_in_room(dry, rng, draw, far_share, noise_share, pool)
    gain = draw.uniform(0.3, 2.0)
    return Pair(_limit(heard * gain), _limit(dry * gain), voice, condition)


def _heard_in_room(dry: np.ndarray, rng: random.Random, draw: np.random.Generator, far_share: float,
                   noise_share: float, pool: list[np.ndarray] | None = None) -> tuple[np.ndarray, str]:
    """dry across a room (a share of the time) and under noise (a share): tilted noise, or babble of the pool's
    lines 40 % of the time when it holds at least four."""
    heard, condition = dry, "near"
    if rng.random() < far_share:
        wet = fftconvolve(dry, room(draw.uniform(0.25, 1.0), draw.uniform(-20, 3), draw))[:len(dry)]
        heard, condition = wet * (active_rms(dry) / (active_rms(wet) + 1e-12)), "far"
    if rng.random() < noise_share and (pool is None or len(pool) >= 4):
        babble = pool is not None and rng.random() < 0.4
        noise = talkers(len(heard), pool, draw) if babble and pool else tilted_noise(len(heard), draw)
        snr = draw.uniform(0, 25)
        heard = heard + noise * active_rms(heard) * 10 ** (-snr / 20)
        condition += f"+{'babble' if babble else 'noise'} {snr:.0f} dB"
    return heard, condition


def real_pairs(count: int, seed: int, far_share: float = 0.6, noise_share: float = 0.75) -> Iterator[Pair]:
    """`count` pairs from real recorded speech: export.wake_real's *training* split (AMI meetings trn*, cut into
    3-6 s pieces; gcin speaker 3's Mandarin syllable runs), each piece in turn under a fresh room and noise.
    No transcript is needed (the teacher's frames are the target), so real people's voices anchor the student
    where synthetic voices cannot. The held-out split (AMI dev/tst, gcin speaker 5) is never read here."""
    from export.wake_real import load_real

    rng, draw = random.Random(seed), np.random.default_rng(seed)
    pieces = []
    for clip in load_real():
        if clip.split != "train":
            continue
        if clip.source != "ami":
            pieces.append(clip.audio)
            continue
        start = 0
        while start < len(clip.audio) - 2 * RATE:
            length = int(draw.uniform(3, 6) * RATE)
            piece = clip.audio[start:start + length]
            if active_rms(piece) > 1e-3:
                pieces.append(piece)
            start += length
    for made in range(count):
        yield _pair(pieces[made % len(pieces)], "real", rng, draw, far_share, noise_share)
