"""More voices for the wake word: flite and festival (Debian), and speaker perturbation with Praat.

One Piper voice plus espeak-ng leaves whole kinds of speaker out: a 90 Hz male voice or a child
never appears, so such users are missed (issue 17). This module adds:

- flite 2.2's built-in voices and festival's diphone and HTS voices, split by *speaker* (not by
  engine: flite's and festival's "kal" and "slt" are the same people), so the bench's held-out
  speakers (slt, female; rms, male) are never heard in training;
- speaker perturbation with Praat's "Change gender" (praat-parselmouth, PSOLA): formant-shift
  ratio (vocal-tract length), pitch median and range, and duration, wide enough to reach a deep
  ~85-100 Hz male and a child-like ~260-320 Hz voice with 1.2-1.3x formants.

All engines are GPL (flite is BSD-like; festival's voices carry their own free licences; Praat is
GPL-3): they only make training and test audio, nothing of them ships in a bundle.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from export.wake_data import RATE, _read_wav

FLITE_TRAIN = ("awb", "kal16", "kal")
FLITE_HELDOUT = ("slt", "rms")
FESTIVAL_TRAIN = ("kal_diphone", "ked_diphone")
FESTIVAL_HELDOUT = ("cmu_us_slt_arctic_hts",)


def engines_available() -> dict[str, bool]:
    """Which extra engines this machine has (scripts/bootstrap.sh installs them)."""
    try:
        import parselmouth  # noqa: F401
        praat = True
    except ImportError:
        praat = False
    return {"flite": shutil.which("flite") is not None, "festival": shutil.which("festival") is not None,
            "praat": praat}


def synth_flite(text: str, voice: str, stretch: float = 1.0, f0_mean: float | None = None) -> np.ndarray:
    """flite -> 16 kHz float32; stretch > 1 speaks slower, f0_mean moves the voice's pitch target (Hz)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        args = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}"]
        if f0_mean:
            args += ["--setf", f"int_f0_target_mean={f0_mean:.0f}"]
        subprocess.run([*args, "-t", text, "-o", out.name], capture_output=True, check=True)
        audio, rate = _read_wav(Path(out.name).read_bytes())
    return audio if rate == RATE else soxr.resample(audio, rate, RATE).astype(np.float32)


def synth_festival(texts: list[str], voice: str, stretch: float = 1.0) -> list[np.ndarray]:
    """Many texts through one festival process (its start-up costs ~0.5 s) -> 16 kHz float32 each."""
    with tempfile.TemporaryDirectory() as folder:
        lines = [f"(voice_{voice})", f"(Parameter.set 'Duration_Stretch {stretch:.3f})"]
        for i, text in enumerate(texts):
            clean = text.replace("\\", " ").replace('"', " ")
            lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{clean}")) "{folder}/{i}.wav" \'riff)')
        script = Path(folder) / "run.scm"
        script.write_text("\n".join(lines) + "\n")
        subprocess.run(["festival", "-b", str(script)], capture_output=True, check=True, timeout=600)
        out = []
        for i in range(len(texts)):
            audio, rate = _read_wav((Path(folder) / f"{i}.wav").read_bytes())
            out.append(audio if rate == RATE else soxr.resample(audio, rate, RATE).astype(np.float32))
    return out


@dataclass(frozen=True)
class Perturb:
    """Praat "Change gender" settings; 0 pitch keeps the voice's own median."""

    formant_ratio: float
    pitch_hz: float
    pitch_range: float = 1.0
    duration: float = 1.0

    def describe(self) -> dict[str, float]:
        return {"formant_ratio": self.formant_ratio, "pitch_hz": self.pitch_hz,
                "pitch_range": self.pitch_range, "duration": self.duration}


def perturb(audio: np.ndarray, settings: Perturb) -> np.ndarray:
    """Shift formants (vocal-tract length), pitch and duration with PSOLA; peak level is kept."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(audio.astype(np.float64), RATE)
    changed = call(sound, "Change gender", 60, 600, settings.formant_ratio, settings.pitch_hz,
                   settings.pitch_range, settings.duration)
    out = np.asarray(changed.values[0], dtype=np.float32)
    peak = float(np.abs(out).max()) + 1e-9
    return (out * (float(np.abs(audio).max()) / peak)).astype(np.float32)


def deep_male(rng: random.Random) -> Perturb:
    return Perturb(rng.uniform(0.84, 0.92), rng.uniform(82, 100), rng.uniform(0.7, 1.1), rng.uniform(0.95, 1.12))


def child(rng: random.Random) -> Perturb:
    return Perturb(rng.uniform(1.18, 1.32), rng.uniform(250, 320), rng.uniform(0.9, 1.3), rng.uniform(0.9, 1.1))


def training_perturbation(rng: random.Random) -> Perturb:
    """A random speaker for training: anywhere from a deep male to a child (wider than the bench's)."""
    roll = rng.random()
    if roll < 0.3:
        return Perturb(rng.uniform(0.8, 0.95), rng.uniform(75, 115), rng.uniform(0.6, 1.2), rng.uniform(0.85, 1.2))
    if roll < 0.6:
        return Perturb(rng.uniform(1.12, 1.38), rng.uniform(220, 360), rng.uniform(0.8, 1.5), rng.uniform(0.85, 1.15))
    return Perturb(rng.uniform(0.9, 1.15), rng.uniform(110, 230), rng.uniform(0.6, 1.5), rng.uniform(0.85, 1.2))
