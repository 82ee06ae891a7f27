"""The audio of `python -m bench task`: held-out voices, four kinds of noise, near and far field.

Voices (none heard by any training step; see export/wake_voices.py and export/wake_data.py for
what training uses: Piper joe and its Praat perturbations, flite awb/kal, festival kal/ked, the
espeak-ng variants `split_variants` keeps for training; the corrector was tuned on Piper joe):

- flite `rms` (US male) and flite `slt` (US female): the speakers the wake word holds out;
- espeak-ng `en-us+f5`: a variant `export.wake_data.split_variants` holds out (a formant voice);
- optional (`--voices all`): festival's `cmu_us_slt_arctic_hts`, the slt speaker on another engine.

Clean clips are synthesized once and cached as 16 kHz WAVs under ~/.cache/voiceshop/bench-task/audio,
keyed by engine, voice and text. Conditions are applied on the fly, deterministically (every random
draw is seeded by voice, text and condition, so a clip gets the same noise on every run):

- pink noise (1/f: fans, traffic hiss) and babble (three other synthetic talkers saying other
  sentences) from export.speech_noise;
- music: chords, a bass line and a melody from saw-tooth partials, kick and hi-hat, 90-130 bpm;
- car cabin: road rumble (1/f^2 noise rolled off above ~200 Hz), engine firing harmonics of a
  4-cylinder at 1,500-2,800 rpm with slow rpm drift, and a little tyre/wind hiss;
- far field: the speech convolved with a synthetic room (export.speech_noise.room_response:
  direct path + exponentially decaying noise) with RT60 0.4-0.7 s, the talker 2-4 m away in a
  30-80 m^3 room; the direct-to-reverberant ratio follows diffuse-field theory,
  DRR = 20 log10(r_c / r) with critical distance r_c = 0.057 sqrt(Q V / RT60) and talker
  directivity Q = 2.5 (facing the device): -4 dB at 2 m in a large dry room, about -10 dB at 3 m
  in a middling one, -17 dB at 4 m in a small live one. Near field is the dry clip.

SNR is speech active RMS (export.speech_noise.active_rms, after the room) over noise RMS; the noise
covers the silence around the command too, as a room is never silent.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from export.speech_corpus import Voice, read_wav_16k, synthesize, write_wav_16k
from export.speech_noise import active_rms, babble, pink_noise, room_response

RATE = 16000
LEVEL = 0.05
"""Active RMS every clean clip is scaled to (about -26 dBFS, a near talker after the device's gain)."""
LEAD, TAIL = 0.5, 0.8
"""Seconds of (noisy) room before and after the command: the VAD has to find the speech."""


@dataclass(frozen=True)
class TaskVoice:
    engine: str
    """'flite', 'festival' or 'espeak'."""
    name: str

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.name}"


VOICES = (TaskVoice("flite", "rms"), TaskVoice("flite", "slt"), TaskVoice("espeak", "en-us+f5"))
EXTRA_VOICES = (TaskVoice("festival", "cmu_us_slt_arctic_hts"),)


@dataclass(frozen=True)
class Condition:
    noise: str = "clean"
    """'clean', 'pink', 'babble', 'music' or 'car'."""
    snr_db: float | None = None
    field: str = "near"
    """'near' (the dry clip) or 'far' (a talker 2-4 m away in a reverberant room)."""

    @property
    def snr_label(self) -> str:
        return "clean" if self.noise == "clean" else f"{self.snr_db:g}"

    @property
    def label(self) -> str:
        return f"{self.field}/{self.noise}/{self.snr_label}"


NOISES = ("pink", "babble", "music", "car")
SNRS = (20.0, 10.0, 5.0)


def grid(noises: tuple[str, ...] = NOISES, snrs: tuple[float, ...] = SNRS,
         fields: tuple[str, ...] = ("near", "far")) -> list[Condition]:
    """Clean plus every noise at every SNR, in each field."""
    return [c for f in fields for c in
            [Condition("clean", None, f)] + [Condition(n, s, f) for n in noises for s in snrs]]


def _rng(*key: object) -> np.random.Generator:
    digest = hashlib.sha256("\0".join(map(str, key)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def clean_clip(text: str, voice: TaskVoice, cache: Path) -> np.ndarray:
    """The command in voice, 16 kHz float32 at LEVEL; synthesized once, then read from the cache."""
    key = hashlib.sha256(f"{voice.label}\0{text}".encode()).hexdigest()[:20]
    path = cache / "audio" / voice.engine / f"{key}.wav"
    if not path.is_file():
        if voice.engine == "flite":
            from export.wake_voices import synth_flite

            audio = synth_flite(text, voice.name)
        elif voice.engine == "festival":
            from export.wake_voices import synth_festival

            audio = synth_festival([text], voice.name)[0]
        elif voice.engine == "espeak":
            audio = synthesize(text, Voice("espeak", voice.name))
        else:
            raise ValueError(f"unknown engine {voice.engine!r}")
        if audio.size == 0 or not np.any(audio):
            raise RuntimeError(f"{voice.label} made no audio for {text!r}")
        write_wav_16k(path, (audio * (LEVEL / (active_rms(audio) + 1e-12))).astype(np.float32))
    return read_wav_16k(path)


def music(samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS synthetic pop: I-V-vi-IV chords and a bass on saw partials, a pentatonic melody, drums."""
    t_total = samples / RATE
    beat = 60.0 / float(rng.uniform(90, 130))
    root = int(rng.integers(45, 57))  # MIDI note of the key (A2..G#3)
    chords = ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12))
    pentatonic = (0, 2, 4, 7, 9, 12, 14, 16)
    out = np.zeros(samples + RATE, np.float64)

    def note(midi: float, start: float, length: float, partials: int, decay: float, gain: float) -> None:
        a, n = int(start * RATE), int(length * RATE)
        if a >= samples or n <= 0:
            return
        t = np.arange(n) / RATE
        freq = 440.0 * 2 ** ((midi - 69) / 12)
        wave = sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, partials + 1) if k * freq < RATE / 2)
        env = np.exp(-decay * t) * np.minimum(1.0, t / 0.005)
        out[a:a + n] += gain * wave * env

    beats = int(t_total / beat) + 2
    for b in range(beats):
        chord = chords[(b // 4) % 4]
        start = b * beat
        for interval in chord:
            note(root + 12 + interval, start, beat, 6, 2.5, 0.25)
        note(root - 12 + chord[0], start, beat, 3, 4.0, 0.5)
        for half in (0, 1):
            if rng.random() < 0.7:
                note(root + 24 + pentatonic[int(rng.integers(len(pentatonic)))], start + half * beat / 2,
                     beat / 2, 4, 6.0, 0.3)
        a = int(start * RATE)
        if b % 2 == 0 and a < samples:  # kick: a falling sine
            n = int(0.15 * RATE)
            t = np.arange(n) / RATE
            out[a:a + n] += 0.8 * np.sin(2 * np.pi * (50 * t + 70 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 20)
        for half in (0, 1):  # hi-hat: a short burst of differenced noise
            h = int((start + half * beat / 2) * RATE)
            if h < samples:
                burst = np.diff(rng.standard_normal(int(0.03 * RATE) + 1)) * np.exp(-np.arange(int(0.03 * RATE)) / 80)
                out[h:h + len(burst)] += 0.1 * burst
    out = out[:samples]
    return (out / (np.sqrt(np.mean(out ** 2)) + 1e-12)).astype(np.float32)


def car_cabin(samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS car interior: road rumble, engine harmonics with drifting rpm, a little hiss."""
    freqs = np.fft.rfftfreq(samples, 1 / RATE)
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    shape = np.zeros_like(freqs)
    shape[1:] = 1.0 / np.maximum(freqs[1:], 15.0)  # 1/f amplitude = 1/f^2 power (brown)
    shape /= np.sqrt(1.0 + (freqs / 200.0) ** 4)  # the cabin's low-pass above ~200 Hz
    road = np.fft.irfft(spectrum * shape, samples)
    road /= np.sqrt(np.mean(road ** 2)) + 1e-12
    t = np.arange(samples) / RATE
    rpm = float(rng.uniform(1500, 2800)) * (1 + 0.05 * np.sin(2 * np.pi * float(rng.uniform(0.05, 0.2)) * t
                                                                  + float(rng.uniform(0, 2 * np.pi))))
    phase = 2 * np.pi * np.cumsum(rpm / 60.0 * 2.0) / RATE  # 4 cylinders: two firings per revolution
    engine = sum(a * np.sin(k * phase) for k, a in ((1, 1.0), (2, 0.5), (3, 0.3), (4, 0.15)))
    engine /= np.sqrt(np.mean(engine ** 2)) + 1e-12
    hiss = pink_noise(samples, rng).astype(np.float64)
    lowpassed = np.fft.irfft(np.fft.rfft(hiss) / np.sqrt(1.0 + (freqs / 1500.0) ** 4), samples)
    total = road + 0.5 * engine + 0.15 * lowpassed / (np.sqrt(np.mean(lowpassed ** 2)) + 1e-12)
    return (total / (np.sqrt(np.mean(total ** 2)) + 1e-12)).astype(np.float32)


DIRECTIVITY = 2.5
"""Talker directivity factor Q (a person facing the device)."""


def far_room(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float]]:
    """A room impulse response for a talker 2-4 m away, and its parameters."""
    rt60, distance, volume = float(rng.uniform(0.4, 0.7)), float(rng.uniform(2.0, 4.0)), float(rng.uniform(30, 80))
    critical = 0.057 * math.sqrt(DIRECTIVITY * volume / rt60)
    drr = 20 * math.log10(critical / distance)
    return room_response(rt60, rng, direct_to_reverb_db=drr), {"rt60": rt60, "distance_m": distance,
                                                               "volume_m3": volume, "drr_db": drr}


NOISE_MAKERS = {"pink": pink_noise, "babble": babble, "music": music, "car": car_cabin}


def under(clean: np.ndarray, condition: Condition, key: str) -> np.ndarray:
    """The clean command as the device's microphone hears it under condition (seeded by key)."""
    rng = _rng(key, condition.label)
    out = np.concatenate([np.zeros(int(LEAD * RATE), np.float32), clean, np.zeros(int(TAIL * RATE), np.float32)])
    if condition.field == "far":
        response, _ = far_room(rng)
        wet = fftconvolve(out, response)[:len(out)]
        out = (wet * (active_rms(out) / (active_rms(wet) + 1e-12))).astype(np.float32)
    if condition.noise != "clean":
        assert condition.snr_db is not None
        noise = NOISE_MAKERS[condition.noise](len(out), rng)
        out = out + noise * active_rms(out) * 10 ** (-condition.snr_db / 20)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return (out / peak * 0.9 if peak > 0.99 else out).astype(np.float32)
