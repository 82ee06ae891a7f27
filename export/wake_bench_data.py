"""Held-out test material for any wake phrase, by voice group: what `python -m bench wake` runs.

Every model (our custom head and each packaged one) is judged on the same recipe for its own
phrase: the phrase said by voices no training run here ever uses, grouped so a voice that is
missed shows up (issue 17: one male voice was missed half the time while the overall figure
looked fine). Groups:

- espeak-ng variants held out by wake_data.split_variants;
- Piper joe pitch-shifted outside the training band (+-320-480 cents);
- flite slt (female) and rms (male), and festival's slt HTS voice: speakers held out of training;
- a deep male (~82-100 Hz, formants x0.84-0.92) and a child-like voice (~250-320 Hz, formants
  x1.18-1.32): Praat perturbations of the held-out voices above.

Also rendered: the phrase's confusables (wake_data.confusables) in held-out voices, and ordinary
held-out sentences in the new engines' held-out speakers (added to the synthetic negatives).
Dry audio is cached under ~/.cache/voiceshop/wake-data/bench, keyed by phrase and this code.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.bundle import package_version
from export.wake_data import (
    CACHE_ROOT,
    ESPEAK_LANGS,
    PiperSynth,
    confusables,
    espeak_variants,
    phrase_variants,
    sox_pitch_tempo,
    split_variants,
    synth_espeak,
    trim,
)
from export.wake_voices import (
    FESTIVAL_HELDOUT,
    FLITE_HELDOUT,
    child,
    deep_male,
    perturb,
    synth_festival,
    synth_flite,
)

GROUPS = ("espeak", "piper-shifted", "flite-slt", "flite-rms", "festival-slt", "deep-male", "child")
PER_GROUP = 16
"""Dry renderings of the phrase per voice group (each becomes several augmented streams)."""
CONFUSABLE_VOICES = 4
NEW_ENGINE_SENTENCES = 60


@dataclass
class Rendering:
    audio: np.ndarray
    text: str
    group: str
    kind: str
    """"phrase", "confusable" or "sentence"."""


class _Voices:
    """Held-out voices only (no training voice or speaker is ever used here)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.piper = PiperSynth()
        self.espeak = split_variants(espeak_variants())[1]

    def say(self, text: str, group: str) -> np.ndarray:
        rng = self.rng
        if group == "espeak":
            return synth_espeak(text, rng.choice(ESPEAK_LANGS), rng.choice(self.espeak), rng.randint(125, 195),
                                rng.randint(25, 75))
        if group == "piper-shifted":
            audio = self.piper(text, rng.uniform(0.85, 1.2), rng.uniform(0.4, 0.9), rng.uniform(0.5, 1.0))
            return sox_pitch_tempo(audio, rng.choice([-1, 1]) * rng.uniform(320, 480), rng.uniform(0.9, 1.1))
        if group in ("flite-slt", "flite-rms"):
            voice = group.split("-")[1]
            assert voice in FLITE_HELDOUT
            return synth_flite(text, voice, rng.uniform(0.85, 1.2))
        if group == "festival-slt":
            return synth_festival([text], FESTIVAL_HELDOUT[0], rng.uniform(0.85, 1.2))[0]
        if group in ("deep-male", "child"):
            base = self.say(text, rng.choice(["espeak", "flite-slt", "flite-rms", "piper-shifted"]))
            return perturb(base, (deep_male if group == "deep-male" else child)(rng))
        raise ValueError(f"unknown voice group {group!r}")


def _key(phrase: str, sentences: list[str]) -> str:
    digest = hashlib.sha256()
    for part in (phrase, "\n".join(sentences[:NEW_ENGINE_SENTENCES]), Path(__file__).read_bytes(), Path(__file__).with_name("wake_voices.py").read_bytes(),
                 package_version("piper-tts"), package_version("praat-parselmouth"), " ".join(espeak_variants()),
                 PER_GROUP, CONFUSABLE_VOICES, NEW_ENGINE_SENTENCES):
        digest.update(str(part).encode() if not isinstance(part, bytes) else part)
    return digest.hexdigest()[:16]


def _synthesize(phrase: str, sentences: list[str], seed: int) -> list[Rendering]:
    voices = _Voices(seed)
    rng = random.Random(seed)
    out = []
    variants = phrase_variants(phrase)
    for group in GROUPS:
        for _ in range(PER_GROUP):
            out.append(Rendering(trim(voices.say(rng.choice(variants), group)), phrase, group, "phrase"))
    for text in confusables(phrase):
        for k in range(CONFUSABLE_VOICES):
            group = ("espeak", "piper-shifted", "flite-slt", "flite-rms")[k % 4]
            out.append(Rendering(trim(voices.say(text, group)), text, group, "confusable"))
    for k, text in enumerate(sentences[:NEW_ENGINE_SENTENCES]):
        group = ("flite-slt", "flite-rms", "festival-slt")[k % 3]
        out.append(Rendering(trim(voices.say(text, group)), text, group, "sentence"))
    return [r for r in out if len(r.audio) >= 1600]


def load_bench_set(phrase: str, sentences: list[str], seed: int = 31) -> list[Rendering]:
    """The held-out renderings for phrase (synthesized on first use, ~1 min, then cached)."""
    path = CACHE_ROOT / "bench" / f"{re.sub(r'[^a-z0-9]+', '-', phrase.lower())}-{_key(phrase, sentences)}.npz"
    if not path.is_file():
        renderings = _synthesize(phrase, sentences, seed)
        offsets = np.cumsum([0] + [len(r.audio) for r in renderings])
        meta = json.dumps([[r.text, r.group, r.kind] for r in renderings])
        path.parent.mkdir(parents=True, exist_ok=True)
        pcm = (np.clip(np.concatenate([r.audio for r in renderings]), -1, 1) * 32767).astype(np.int16)
        np.savez(path.with_suffix(".tmp.npz"), pcm=pcm, offsets=offsets, meta=np.array(meta))
        path.with_suffix(".tmp.npz").rename(path)
    data = np.load(path, allow_pickle=False)
    offsets, meta, pcm = data["offsets"], json.loads(str(data["meta"])), data["pcm"]  # read the archive once
    return [Rendering(pcm[offsets[i]: offsets[i + 1]].astype(np.float32) / 32767, *meta[i])
            for i in range(len(meta))]
