"""The simulated user's voice: the Piper voice turned into another speaker, at the microphone's rate.

espeak-ng's formant voices make Whisper tiny.en miss about a third of the words of short commands
(models.md), which would test the recognizer, not the product. So the user is the same VITS
voice the device speaks with, made into a different speaker: slower, with more timbre and timing
noise, and pitched up by resampling (synthesized slower by the pitch factor, then played faster by
it, so tempo ends at `speed`). Utterances are cached as 16 kHz WAVs keyed by the voice model's hash,
the settings and the text: VITS noise makes every synthesis differ, and a rerun should hear the
same user.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from edge.audio import read_audio, resample, write_wav
from edge.config import Settings
from edge.simulation.scenario import UserVoice
from edge.tts import Voice, load_bundle, normalize

CACHE = Path("~/.cache/voiceshop/sim-voice").expanduser()
MIC_RATE = 16000


class UserSpeaker:
    """say(text) -> float32 samples at 16 kHz in the simulated user's voice."""

    def __init__(self, settings: Settings, voice: UserVoice, cache: Path = CACHE) -> None:
        self.settings, self.voice, self.cache = settings, voice, cache
        self.bundle = load_bundle(settings.models.path / "tts")
        model_hash = self.bundle.manifest.get("files", {}).get(self.bundle.model.name, {}).get("sha256", "")
        self._key = json.dumps({"model": model_hash, "voice": voice.__dict__}, sort_keys=True)
        self._voice: Voice | None = None

    def _engine(self) -> Voice:
        if self._voice is None:  # ~1 s of onnxruntime start-up, only when something is not cached
            self._voice = Voice(self.bundle, threads=self.settings.threads.tts, noise_scale=self.voice.noise_scale,
                                noise_w=self.voice.noise_w)
        return self._voice

    def path_for(self, text: str) -> Path:
        digest = hashlib.sha256(f"{self._key}|{text}".encode()).hexdigest()[:20]
        return self.cache / f"{digest}.wav"

    def say(self, text: str) -> np.ndarray:
        """The utterance at 16 kHz (cached); text is normalized the way the device's TTS does it."""
        path = self.path_for(text)
        if path.is_file():
            return read_audio(path, MIC_RATE)
        engine = self._engine()
        rate = float(self.bundle.sample_rate)
        samples = engine.synthesize(normalize(text), speed=self.voice.speed / self.voice.pitch)
        # Played back pitch times faster: the pitch rises by that factor and the tempo comes back to speed.
        mic = resample(samples, int(round(rate * self.voice.pitch)), MIC_RATE)
        peak = float(np.abs(mic).max()) if mic.size else 0.0
        if peak > 0:
            mic = (mic * (0.5 / peak)).astype(np.float32)  # a person at arm's length, not clipping
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.wav")
        write_wav(tmp, mic, MIC_RATE)
        tmp.replace(path)
        return read_audio(path, MIC_RATE)

    def wake_and_say(self, phrase: str, text: str) -> np.ndarray:
        """The wake phrase and the request in one breath: "Hey shop, I want to buy apples.".

        Synthesized as two clips joined without a pause (only the comma's own short breath): one
        sentence "Hey shop, I want..." gives the phrase a rushed, run-on prosody that nobody uses
        for a wake word and that the wake model rarely fires on, while the request still follows
        at once, so the device must hand the audio right after the wake word to the recognizer.
        """
        return np.concatenate([self.say(f"{phrase[:1].upper()}{phrase[1:]},"), self.say(text)])
