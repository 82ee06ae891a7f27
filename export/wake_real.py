"""Real recorded human speech for the wake word's negatives, with a held-out part for the bench.

Synthetic speech alone told us 110 false accepts an hour while real speech gave ~6 (issue 17):
the two disagree, so both are measured, and real speech also goes into training. Sources that
ship inside packages (nothing is fetched from a hub):

- pyannote.audio 4.0.7's source package (MIT code; AMI meeting corpus excerpts, CC BY 4.0):
  thirteen 30 s far-field meeting recordings in tests/data plus the 30 s sample.wav. Its
  "debug" protocol keeps the speakers of trn*, dev* and tst* apart, so train* trains and
  dev*/tst*/sample.wav are held out (other speakers, other meetings).
- Debian's gcin-voice: two real speakers' Mandarin syllables (*/3.ogg GPL/LGPL-3, Edward Liu;
  */5.ogg CC-BY-3, ChionMeilin/Chu Lo). They are strung into syllable runs with natural gaps;
  speaker 3 trains, speaker 5 is held out.

The pyannote sdist is fetched once with pip (`pip download --no-deps --no-binary :all:`) into
~/.cache/voiceshop/real-speech by scripts/bootstrap.sh; decoded audio is cached next to it.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
ROOT = Path("~/.cache/voiceshop/real-speech").expanduser()
PYANNOTE = "pyannote.audio==4.0.7"
PYANNOTE_SDIST = "pyannote_audio-4.0.7.tar.gz"
GCIN = Path("/usr/share/gcin-voice/ogg")
HELDOUT_AMI = re.compile(r"/(tests/data/(dev|tst)\d+|src/pyannote/audio/sample/sample)\.wav$")
TRAIN_AMI = re.compile(r"/tests/data/tr.\d+\.wav$")


@dataclass
class RealClip:
    """A stretch of real recorded speech (16 kHz float32)."""

    audio: np.ndarray
    source: str
    """"ami" (meetings) or "gcin" (Mandarin syllables)."""
    split: str
    name: str


def sdist_path(fetch: bool = True) -> Path:
    """The pyannote.audio sdist, downloaded with pip on first use when fetch is true."""
    path = ROOT / PYANNOTE_SDIST
    if not path.is_file() and fetch:
        ROOT.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                                 PYANNOTE, "-d", str(ROOT)], capture_output=True, text=True)
        if result.returncode != 0 or not path.is_file():
            raise RuntimeError(f"could not fetch {PYANNOTE}'s source package into {ROOT}: "
                               f"{result.stderr[-500:]}")
    if not path.is_file():
        raise RuntimeError(f"{path} missing: run scripts/bootstrap.sh (it downloads {PYANNOTE}'s sdist)")
    return path


_RAW = ["-t", "raw", "-r", str(RATE), "-e", "floating-point", "-b", "32", "-c", "1"]


def _wav(data: bytes) -> np.ndarray:
    """Any WAV (some of these are 32-bit float, which the wave module refuses) -> 16 kHz mono, via SoX."""
    result = subprocess.run(["sox", "-t", "wav", "-", *_RAW, "-"], input=data, capture_output=True, check=True)
    return np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)


def ami_clips() -> list[RealClip]:
    """The meeting recordings: train (trn*) and held-out (dev*, tst*, sample.wav)."""
    out = []
    with tarfile.open(sdist_path()) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            split = "heldout" if HELDOUT_AMI.search(member.name) else "train" if TRAIN_AMI.search(member.name) else ""
            if split:
                data = tar.extractfile(member)
                if data is not None:
                    out.append(RealClip(_wav(data.read()), "ami", split, Path(member.name).stem))
    return out


def _ogg(path: Path) -> np.ndarray:
    result = subprocess.run(["sox", str(path), *_RAW, "-"], capture_output=True, check=True)
    return np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)


def gcin_clips(seed: int = 5) -> list[RealClip]:
    """Runs of 3-9 syllables with 40-200 ms gaps, one clip per run; speaker 3 trains, speaker 5 held out."""
    if not GCIN.is_dir():
        raise RuntimeError(f"{GCIN} missing: apt-get install gcin-voice (scripts/bootstrap.sh does)")
    out = []
    for speaker, split in (("3", "train"), ("5", "heldout")):
        files = sorted(GCIN.glob(f"*/{speaker}.ogg"))
        rng = random.Random(seed + int(speaker))
        rng.shuffle(files)
        i = 0
        while i < len(files):
            n = rng.randint(3, 9)
            parts = []
            for path in files[i: i + n]:
                parts += [_ogg(path), np.zeros(int(rng.uniform(0.04, 0.2) * RATE), np.float32)]
            out.append(RealClip(np.concatenate(parts), "gcin", split, f"speaker{speaker}-{i}"))
            i += n
    return out


def load_real(cache: bool = True) -> list[RealClip]:
    """Every real clip, decoded once and cached as 16-bit PCM."""
    path = ROOT / "decoded-v1.npz"
    if cache and path.is_file():
        data = np.load(path, allow_pickle=False)
        meta = [line.split("\t") for line in str(data["meta"]).splitlines()]
        offsets, pcm = data["offsets"], data["pcm"]  # each data[...] re-reads the archive: once only
        return [RealClip(pcm[offsets[i]: offsets[i + 1]].astype(np.float32) / 32767, *meta[i])
                for i in range(len(meta))]
    clips = ami_clips() + gcin_clips()
    offsets = np.cumsum([0] + [len(c.audio) for c in clips])
    pcm = (np.clip(np.concatenate([c.audio for c in clips]), -1, 1) * 32767).astype(np.int16)
    meta = "\n".join(f"{c.source}\t{c.split}\t{c.name}" for c in clips)
    ROOT.mkdir(parents=True, exist_ok=True)
    np.savez(path.with_suffix(".tmp.npz"), pcm=pcm, offsets=offsets, meta=np.array(meta))
    path.with_suffix(".tmp.npz").rename(path)
    return load_real(cache=True)


def seconds_by(clips: list[RealClip]) -> dict[str, float]:
    """Seconds of audio per split/source, for the manifest and the bench."""
    out: dict[str, float] = {}
    for c in clips:
        key = f"{c.split}/{c.source}"
        out[key] = round(out.get(key, 0.0) + len(c.audio) / RATE, 1)
    return out
