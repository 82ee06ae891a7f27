"""Speech synthesis: the Piper voice on onnxruntime, with our text normalization and clause streaming.

`synthesizer_for_settings(settings).speak(text)` returns a `Speech`: iterate it for
SynthesizedAudio chunks at the sink's rate (the first after a few words' worth of compute),
`cancel()` it for barge-in, `play(speech, sink)` to send it to a speaker or file.
Pieces: `normalize` (prices, units, numbers, abbreviations), `split_clauses`, `Voice`
(bundle checks, espeak-ng phonemes through piper-tts, latent graph + chunked HiFi-GAN decoder).
"""

from __future__ import annotations

from edge.tts.clauses import split_clauses
from edge.tts.normalize import normalize
from edge.tts.stream import Speech, SpeechStats, Synthesizer, play, synthesizer_for_settings
from edge.tts.voice import TtsBundleError, TtsError, Voice, VoiceBundle, load_bundle, voice_for_settings

__all__ = ["Speech", "SpeechStats", "Synthesizer", "TtsBundleError", "TtsError", "Voice", "VoiceBundle",
           "load_bundle", "normalize", "play", "split_clauses", "synthesizer_for_settings", "voice_for_settings"]
