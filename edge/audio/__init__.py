"""Audio in and out: sources that yield 16 kHz mono AudioChunk frames, sinks that play or save speech.

Sources: `WavSource` (any rate, 8/16/24/32-bit or float, any channel count), `RawPcmSource`
(stdin), `SyntheticSource` (silence, tone, noise), `MicrophoneSource` (pyaudio, optional).
Sinks: `SpeakerSink` (pyaudio), `WavSink`, `NullSink`. `open_source`/`open_sink` pick one from a
spec string. Unusable input raises `AudioError` (`AudioDeviceError` for a missing mic/speaker
or PortAudio); NaN/inf and overs are cleaned and reported in `source.report`.
"""

from __future__ import annotations

from edge.audio.pcm import (
    AudioError,
    CleanReport,
    Framer,
    Resampler,
    clean,
    frames_of,
    resample,
    to_mono,
)
from edge.audio.portaudio import AudioDeviceError, MicrophoneSource, SpeakerSink
from edge.audio.sinks import AudioSink, NullSink, WavSink, open_sink
from edge.audio.sources import AudioSource, RawPcmSource, SyntheticSource, WavSource, open_source, read_audio
from edge.audio.wav import WavWriter, write_wav

__all__ = [
    "AudioDeviceError", "AudioError", "AudioSink", "AudioSource", "CleanReport", "Framer", "MicrophoneSource",
    "NullSink", "RawPcmSource", "Resampler", "SpeakerSink", "SyntheticSource", "WavSink", "WavSource",
    "WavWriter", "clean", "frames_of", "open_sink", "open_source", "read_audio", "resample", "to_mono",
    "write_wav",
]
