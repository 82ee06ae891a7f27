"""Microphone and speaker through PortAudio (pyaudio, the optional `audio` extra).

pyaudio is optional because a device maker may feed audio from their own HAL over stdin, and
because it needs the PortAudio C library. When it or a device is missing, the user gets an
AudioDeviceError that says what to install or plug in, not an ImportError or PortAudio's own
"Invalid number of channels" (-9998). PortAudio prints ALSA/JACK probing noise straight to file
descriptor 2 when it starts; we capture that and log it at debug level, so stderr stays readable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from edge.audio.pcm import AudioError, CleanReport, Framer, Resampler, clean, frame_length
from edge.events import AudioChunk

log = logging.getLogger(__name__)

INSTALL_HINT = ('install the audio extra: pip install "voiceshop-edge[audio]" '
                "(it needs PortAudio: apt-get install libportaudio2 portaudio19-dev)")


class AudioDeviceError(AudioError):
    """PortAudio, pyaudio or the requested input/output device is not available."""


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send fd 2 to a temp file while PortAudio probes devices; log what it said at debug level."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            noise = sink.read().decode(errors="replace").strip()
            if noise:
                log.debug("PortAudio said: %s", noise)


_lock = threading.Lock()
_instance: Any = None


def portaudio() -> tuple[Any, Any]:
    """(pyaudio module, shared PyAudio instance); AudioDeviceError when either is unavailable."""
    global _instance
    try:
        import pyaudio
    except ImportError as exc:
        raise AudioDeviceError(f"no audio device support: pyaudio is not importable ({exc}); {INSTALL_HINT}") from None
    with _lock:
        if _instance is None:
            with _quiet_stderr():
                try:
                    _instance = pyaudio.PyAudio()
                except Exception as exc:  # PortAudio init failures come as OSError or plain Exception
                    raise AudioDeviceError(f"PortAudio failed to start: {exc}") from None
    return pyaudio, _instance


def _device_info(pa: Any, index: int | None, kind: str) -> dict[str, Any]:
    key = "maxInputChannels" if kind == "input" else "maxOutputChannels"
    try:
        if index is None:
            with _quiet_stderr():
                info = pa.get_default_input_device_info() if kind == "input" else pa.get_default_output_device_info()
        else:
            info = pa.get_device_info_by_index(index)
    except (OSError, ValueError):
        count = pa.get_device_count()
        where = f"device {index}" if index is not None else f"a default {kind} device"
        instead = "a WAV file or raw PCM on stdin" if kind == "input" else "a WAV file or the null sink"
        raise AudioDeviceError(f"no {kind} audio device: PortAudio sees {count} device(s) and not {where}; "
                               f"plug one in, or use {instead} instead") from None
    if int(info.get(key, 0)) < 1:
        raise AudioDeviceError(f"audio device {info.get('index')} ({info.get('name')}) has no {kind} channels")
    return info


class MicrophoneSource:
    """Live microphone frames (mono float32 at sample_rate) until close() is called."""

    def __init__(self, sample_rate: int = 16000, frame_ms: int = 80, device_index: int | None = None) -> None:
        pyaudio, pa = portaudio()
        info = _device_info(pa, device_index, "input")
        self.sample_rate = sample_rate
        self.name = f"microphone {info['index']} ({info['name']})"
        self.report = CleanReport()
        # Ask for our rate first (no resampling); many USB mics only do their native 44.1/48 kHz.
        self.device_rate = sample_rate
        for rate in dict.fromkeys((sample_rate, int(info["defaultSampleRate"]), 48000, 44100)):
            try:
                ok = pa.is_format_supported(rate, input_device=info["index"], input_channels=1,
                                            input_format=pyaudio.paFloat32)
            except ValueError:
                ok = False
            if ok:
                self.device_rate = rate
                break
        else:
            raise AudioDeviceError(f"{self.name} supports none of the sample rates we can use")
        self._block = frame_length(self.device_rate, frame_ms)
        self._resampler = Resampler(self.device_rate, sample_rate)
        self._framer = Framer(sample_rate, frame_ms)
        self._closed = threading.Event()
        try:
            self._stream = pa.open(format=pyaudio.paFloat32, channels=1, rate=self.device_rate, input=True,
                                   input_device_index=info["index"], frames_per_buffer=self._block)
        except OSError as exc:
            raise AudioDeviceError(f"cannot open {self.name}: {exc}") from None

    def __iter__(self) -> Iterator[AudioChunk]:
        try:
            while not self._closed.is_set():
                try:
                    data = self._stream.read(self._block, exception_on_overflow=False)
                except OSError as exc:
                    if self._closed.is_set():
                        break
                    raise AudioDeviceError(f"{self.name} stopped delivering audio: {exc}") from None
                samples = clean(np.frombuffer(data, dtype=np.float32), self.report)
                yield from self._framer.push(self._resampler.push(samples))
        finally:
            self.close()

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            with contextlib.suppress(OSError):
                self._stream.stop_stream()
                self._stream.close()


class SpeakerSink:
    """Plays mono float32 at sample_rate on the default (or numbered) output device."""

    def __init__(self, sample_rate: int = 22050, device_index: int | None = None) -> None:
        pyaudio, pa = portaudio()
        info = _device_info(pa, device_index, "output")
        self.sample_rate = sample_rate
        self.name = f"speaker {info['index']} ({info['name']})"
        try:
            self._stream = pa.open(format=pyaudio.paFloat32, channels=1, rate=sample_rate, output=True,
                                   output_device_index=info["index"])
        except OSError as exc:
            raise AudioDeviceError(f"cannot open {self.name} at {sample_rate} Hz: {exc}") from None
        self._stopped = False

    def write(self, samples: np.ndarray) -> None:
        """Blocks until the device has taken the samples (PortAudio's buffer)."""
        if self._stopped:
            return
        try:
            self._stream.write(clean(samples).tobytes())
        except OSError as exc:
            if self._stopped:  # stop() aborted the stream under a blocked write: that is barge-in
                return
            raise AudioDeviceError(f"{self.name} stopped taking audio: {exc}") from None

    def stop(self) -> None:
        """Barge-in: drop whatever is still queued in the device and refuse further writes."""
        self._stopped = True
        with contextlib.suppress(OSError):
            self._stream.abort_stream()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if not self._stopped:
                self._stream.stop_stream()
            self._stream.close()
