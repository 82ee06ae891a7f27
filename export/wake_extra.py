"""Training material beyond Piper + espeak-ng: other engines, perturbed speakers, real speech.

Added to the training half only (issue 17 items 1 and 2); the bench's held-out speakers (flite
slt/rms, festival slt) and the held-out real recordings are never used here:

- the phrase, its confusables and ordinary sentences from flite (awb, kal16, kal) and festival
  (kal, ked) voices, with speaking-rate and pitch-target variation;
- Praat-perturbed copies (formants x0.8-1.38, pitch 75-360 Hz, duration x0.85-1.2) of training
  renderings of the phrase *and* of sentences and confusables, so perturbation artefacts alone
  never mean "wake";
- real speech (export/wake_real.py training split: AMI meetings, gcin speaker 3) cut into 2-5 s
  negatives.

Cached like the main corpus (~/.cache/voiceshop/wake-data), keyed by phrase and this code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.bundle import package_version
from export.wake_data import CACHE_ROOT, RATE, Utterance, confusables, phrase_variants, sentences, trim
from export.wake_real import load_real
from export.wake_voices import (
    FESTIVAL_TRAIN,
    FLITE_TRAIN,
    perturb,
    synth_festival,
    synth_flite,
    training_perturbation,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtraSpec:
    """How much extra material to make (part of the cache key and the bundle's source key)."""

    flite_phrase: int = 120
    festival_phrase: int = 60
    perturbed_phrase: int = 360
    engine_confusables: int = 3
    """Renderings of each confusable per extra engine voice group (flite, festival)."""
    engine_sentences: int = 300
    perturbed_negatives: int = 300
    real_chunk_seconds: tuple[float, float] = (2.0, 5.0)
    seed: int = 4321


def _flite(rng: random.Random, text: str) -> tuple[np.ndarray, str]:
    voice = rng.choice(FLITE_TRAIN)
    f0 = rng.choice([None, rng.uniform(85, 230)])
    return synth_flite(text, voice, rng.uniform(0.8, 1.25), f0), f"flite:{voice}"


def _festival(rng: random.Random, texts: list[str]) -> list[tuple[np.ndarray, str]]:
    out: list[tuple[np.ndarray, str]] = []
    for voice in FESTIVAL_TRAIN:
        mine = texts[FESTIVAL_TRAIN.index(voice)::len(FESTIVAL_TRAIN)]
        if mine:
            out += [(a, f"festival:{voice}") for a in synth_festival(mine, voice, rng.uniform(0.85, 1.2))]
    return out


def synthesize_extra(phrase: str, spec: ExtraSpec, base: list[Utterance]) -> list[Utterance]:
    """Extra training utterances; base is the main corpus (its training renderings get perturbed)."""
    rng = random.Random(spec.seed)
    out: list[Utterance] = []
    variants = phrase_variants(phrase)
    for _ in range(spec.flite_phrase):
        audio, voice = _flite(rng, rng.choice(variants))
        out.append(Utterance(audio, phrase, "phrase", "train", voice))
    for audio, voice in _festival(rng, [rng.choice(variants) for _ in range(spec.festival_phrase)]):
        out.append(Utterance(audio, phrase, "phrase", "train", voice))
    texts = [t for t in confusables(phrase) for _ in range(spec.engine_confusables)]
    out += [Utterance(a, t, "confusable", "train", v) for t, (a, v) in zip(texts, (_flite(rng, t) for t in texts),
                                                                           strict=True)]
    out += [Utterance(a, t, "confusable", "train", v) for t, (a, v) in zip(texts[0::2] + texts[1::2],
                                                                           _festival(rng, texts), strict=True)]
    said = [s for s in sentences(spec.engine_sentences * 2, spec.seed) if phrase not in s.lower()]
    said = said[: spec.engine_sentences]
    half = len(said) // 2
    for t in said[:half]:
        audio, voice = _flite(rng, t)
        out.append(Utterance(audio, t, "sentence", "train", voice))
    fest_texts = said[half:]
    for t, (audio, voice) in zip([*fest_texts[0::2], *fest_texts[1::2]], _festival(rng, fest_texts), strict=True):
        out.append(Utterance(audio, t, "sentence", "train", voice))
    train_phrases = [u for u in base + out if u.split == "train" and u.kind == "phrase"]
    train_negatives = [u for u in base + out if u.split == "train" and u.kind in ("sentence", "confusable")]
    for pool, count in ((train_phrases, spec.perturbed_phrase),
                        (train_negatives, spec.perturbed_negatives)):
        for _ in range(count):
            u = rng.choice(pool)
            settings = training_perturbation(rng)
            out.append(Utterance(perturb(u.audio, settings), u.text, u.kind, "train", f"perturbed:{u.voice}",
                                 settings.describe()))
    for clip in load_real():
        if clip.split != "train":
            continue
        at = 0
        while at < len(clip.audio) - RATE:
            n = int(rng.uniform(*spec.real_chunk_seconds) * RATE)
            chunk = clip.audio[at: at + n]
            out.append(Utterance(chunk / (np.abs(chunk).max() + 1e-9) * 0.7, f"[{clip.name}]", "real", "train",
                                 f"real:{clip.source}"))
            at += n
    out = [Utterance(trim(u.audio) if u.kind != "real" else u.audio, u.text, u.kind, u.split, u.voice, u.params)
           for u in out]
    return [u for u in out if len(u.audio) >= RATE // 10]


def extra_key(phrase: str, spec: ExtraSpec) -> str:
    digest = hashlib.sha256()
    for part in (phrase.lower().strip(), repr(spec), Path(__file__).read_bytes(),
                 Path(__file__).with_name("wake_voices.py").read_bytes(),
                 Path(__file__).with_name("wake_real.py").read_bytes(), package_version("praat-parselmouth")):
        digest.update(part if isinstance(part, bytes) else str(part).encode())
    return digest.hexdigest()[:16]


def load_extra(phrase: str, spec: ExtraSpec, base: list[Utterance]) -> list[Utterance]:
    """The extra utterances for phrase, from the cache when present, else made and cached."""
    path = CACHE_ROOT / f"extra-{re.sub(r'[^a-z0-9]+', '-', phrase.lower()).strip('-')}-{extra_key(phrase, spec)}.npz"
    if not path.is_file():
        log.info("making the extra wake corpus for %r into %s", phrase, path)
        made = synthesize_extra(phrase, spec, base)
        offsets = np.cumsum([0] + [len(u.audio) for u in made])
        meta = json.dumps([[u.text, u.kind, u.split, u.voice, u.params] for u in made])
        pcm = (np.clip(np.concatenate([u.audio for u in made]), -1, 1) * 32767).astype(np.int16)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path.with_suffix(".tmp.npz"), pcm=pcm, offsets=offsets, meta=np.array(meta))
        path.with_suffix(".tmp.npz").rename(path)
    data = np.load(path, allow_pickle=False)
    offsets, meta, pcm = data["offsets"], json.loads(str(data["meta"])), data["pcm"]  # read the archive once
    return [Utterance(pcm[offsets[i]: offsets[i + 1]].astype(np.float32) / 32767, *meta[i])
            for i in range(len(meta))]
