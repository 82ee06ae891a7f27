"""edge/audio: WAV files of every common layout (written by sox, an independent writer), raw PCM,
synthetic sources, sinks, and every kind of bad input getting a clear AudioError or being cleaned."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import wave

import numpy as np
import pytest

from edge.audio import (
    AudioDeviceError,
    AudioError,
    NullSink,
    RawPcmSource,
    SyntheticSource,
    WavSink,
    WavSource,
    open_sink,
    open_source,
    read_audio,
    write_wav,
)
from tests.conftest import REPO

needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox (Debian package) not installed")


def sox_tone(path, rate, channels=1, bits=16, encoding="signed-integer", seconds=1.0, freq=440):
    """A sine tone written by sox: real-world headers (extensible for >16 bit, fact chunks for float)."""
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(channels), "-b", str(bits), "-e", encoding,
                    str(path), "synth", str(seconds), "sine", str(freq), "vol", "0.5"], check=True)
    return path


def dominant_hz(samples, rate=16000):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))]


def riff(fmt_body: bytes, data: bytes, data_size: int | None = None, extra: bytes = b"") -> bytes:
    """A hand-made RIFF file, for headers no tool would write."""
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body + extra
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(tag=1, channels=1, rate=16000, bits=16):
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


@needs_sox
@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_wav_rates_resample_to_16k_mono_frames(tmp_path, rate):
    path = sox_tone(tmp_path / f"tone{rate}.wav", rate)
    source = WavSource(path, sample_rate=16000, frame_ms=80)
    chunks = list(source)
    assert all(c.sample_rate == 16000 and c.samples.dtype == np.float32 and c.samples.ndim == 1 for c in chunks)
    assert all(len(c.samples) == 1280 for c in chunks[:-1])
    assert [round(c.timestamp, 6) for c in chunks] == [round(0.08 * i, 6) for i in range(len(chunks))]
    samples = np.concatenate([c.samples for c in chunks])
    assert abs(len(samples) - 16000) <= 2
    assert abs(dominant_hz(samples) - 440) < 3
    assert 0.3 < np.abs(samples).max() <= 0.51
    assert source.report.problems() == []


@needs_sox
@pytest.mark.parametrize("bits,encoding", [(8, "unsigned-integer"), (24, "signed-integer"),
                                           (32, "signed-integer"), (32, "floating-point"),
                                           (64, "floating-point")])
def test_wav_widths_and_float(tmp_path, bits, encoding):
    path = sox_tone(tmp_path / "w.wav", 44100, channels=1, bits=bits, encoding=encoding)
    samples = read_audio(path)
    assert abs(len(samples) - 16000) <= 2
    assert abs(dominant_hz(samples) - 440) < 3
    tolerance = 0.02 if bits == 8 else 0.002
    assert abs(np.abs(samples[100:-100]).max() - 0.5) < tolerance


@needs_sox
def test_stereo_and_multichannel_are_averaged_to_mono(tmp_path):
    # Left: 440 Hz, right: silence -> mono is the tone at half the amplitude.
    left = sox_tone(tmp_path / "l.wav", 48000)
    silent = tmp_path / "s.wav"
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(silent), "trim", "0", "1"], check=True)
    stereo = tmp_path / "st.wav"
    subprocess.run(["sox", "-M", str(left), str(silent), str(stereo)], check=True)
    assert WavSource(stereo).info.channels == 2
    samples = read_audio(stereo)
    assert abs(np.abs(samples[100:-100]).max() - 0.25) < 0.005
    six = sox_tone(tmp_path / "six.wav", 48000, channels=6, bits=24)
    assert WavSource(six).info.channels == 6
    assert abs(dominant_hz(read_audio(six)) - 440) < 3


def test_frame_lengths_10_to_100_ms(tmp_path):
    path = write_wav(tmp_path / "a.wav", np.zeros(16000, dtype=np.float32), 16000)
    assert len(next(iter(WavSource(path, frame_ms=10))).samples) == 160
    assert len(next(iter(WavSource(path, frame_ms=100))).samples) == 1600
    with pytest.raises(AudioError, match="10-100 ms"):
        WavSource(path, frame_ms=5)


def test_nan_inf_and_overs_are_cleaned_and_reported(tmp_path):
    x = np.full(8000, 0.1, dtype=np.float32)
    x[10], x[20], x[30], x[40:50] = np.nan, np.inf, -np.inf, 3.0
    path = tmp_path / "bad.wav"
    path.write_bytes(riff(fmt_chunk(tag=3, bits=32), x.astype("<f4").tobytes()))
    source = WavSource(path)
    samples = np.concatenate([c.samples for c in source])
    assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0
    assert source.report.nonfinite == 3 and source.report.clipped == 10
    problems = " ".join(source.report.problems())
    assert "NaN/inf" in problems and "clipped" in problems


def test_full_scale_integer_audio_is_reported_as_clipped(tmp_path):
    square = np.where(np.arange(16000) % 40 < 20, 1.0, -1.0).astype(np.float32)
    path = write_wav(tmp_path / "square.wav", square, 16000)
    source = WavSource(path)
    list(source)
    assert any("full scale" in p for p in source.report.problems())


@pytest.mark.parametrize("content,message", [
    (b"", "file is empty"),
    (b"RIFF\x10\x00", "truncated header"),
    (b"hello, this is not audio at all", "not a WAV file"),
    (b"RIFX" + b"\0" * 40, "big-endian"),
    (riff(fmt_chunk(), b"")[:30], "truncated header"),
    (riff(fmt_chunk(channels=0), b"\0" * 100), "0 channels"),
    (riff(fmt_chunk(rate=0), b"\0" * 100), "not plausible"),
    (riff(fmt_chunk(rate=50_000_000), b"\0" * 100), "not plausible"),
    (riff(fmt_chunk(rate=7), b"\0" * 100), "not plausible"),
    (riff(fmt_chunk(), b""), "no audio samples"),
    (riff(fmt_chunk(tag=2), b"\0" * 100), "not PCM or float"),
    (riff(fmt_chunk(bits=12)[:8], b"\0" * 100), "too short"),
])
def test_bad_wavs_raise_audio_error_with_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        list(WavSource(path))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        WavSource(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="directory"):
        WavSource(tmp_path)


def test_truncated_data_plays_what_is_there(tmp_path):
    data = (np.sin(np.arange(16000) * 0.1) * 8000).astype("<i2").tobytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(riff(fmt_chunk(), data[:16001], data_size=len(data)))  # half a file and an odd byte
    source = WavSource(path)
    samples = np.concatenate([c.samples for c in source])
    assert len(samples) == 8000
    assert any("cut short" in p for p in source.report.problems())


def test_streamed_wav_with_unknown_size_and_extra_chunks(tmp_path):
    data = (np.sin(np.arange(4000) * 0.2) * 8000).astype("<i2").tobytes()
    path = tmp_path / "stream.wav"
    list_chunk = b"LIST" + struct.pack("<I", 5) + b"abcde\0"  # odd size + pad byte
    path.write_bytes(riff(fmt_chunk(), data, data_size=0xFFFFFFFF, extra=list_chunk))
    assert len(read_audio(path)) == 4000


def test_raw_pcm_stream_any_rate_and_format():
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.float32)
    stereo = np.stack([tone, tone], axis=1)
    data = (stereo * 32767).astype("<i2").tobytes() + b"\x01"  # one stray byte at the end
    source = RawPcmSource(io.BytesIO(data), input_rate=8000, fmt="s16", channels=2, frame_ms=20)
    chunks = list(source)
    samples = np.concatenate([c.samples for c in chunks])
    assert abs(len(samples) - 16000) <= 2 and abs(dominant_hz(samples) - 440) < 3
    assert len(chunks[0].samples) == 320
    assert source.report.dropped_bytes == 1
    f32 = RawPcmSource(io.BytesIO(tone.astype("<f4").tobytes()), input_rate=8000, fmt="f32")
    assert abs(dominant_hz(np.concatenate([c.samples for c in f32])) - 440) < 3


def test_raw_pcm_bad_parameters_and_empty_stream():
    with pytest.raises(AudioError, match="no audio arrived"):
        list(RawPcmSource(io.BytesIO(b"")))
    with pytest.raises(AudioError, match="unknown sample format"):
        RawPcmSource(io.BytesIO(b"\0\0"), fmt="s12")
    with pytest.raises(AudioError, match="not plausible"):
        RawPcmSource(io.BytesIO(b"\0\0"), input_rate=10)
    with pytest.raises(AudioError, match="channels"):
        RawPcmSource(io.BytesIO(b"\0\0"), channels=0)


def test_raw_pcm_on_real_stdin():
    code = ("from edge.audio import open_source\n"
            "import numpy as np\n"
            "s = np.concatenate([c.samples for c in open_source('-', raw_rate=16000)])\n"
            "print(len(s), round(float(np.abs(s).max()), 2))\n")
    pcm = (np.full(3200, 0.25) * 32767).astype("<i2").tobytes()
    result = subprocess.run([sys.executable, "-c", code], input=pcm, capture_output=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split() == ["3200", "0.25"]


def test_synthetic_sources():
    silence = np.concatenate([c.samples for c in SyntheticSource("silence", 1.0)])
    assert len(silence) == 16000 and not silence.any()
    tone = np.concatenate([c.samples for c in open_source("synth:tone:0.5:1000")])
    assert len(tone) == 8000 and abs(dominant_hz(tone) - 1000) < 3
    noise = np.concatenate([c.samples for c in SyntheticSource("noise", 1.0, amplitude=0.3)])
    assert 0.05 < noise.std() < 0.15 and abs(dominant_hz(noise)) > 0
    with pytest.raises(AudioError, match="unknown synthetic"):
        SyntheticSource("music")


def test_wav_sink_round_trips_through_python_wave(tmp_path):
    tone = (0.5 * np.sin(2 * np.pi * 300 * np.arange(22050) / 22050)).astype(np.float32)
    sink = open_sink(str(tmp_path / "out.wav"), 22050)
    assert isinstance(sink, WavSink)
    sink.write(tone[:10000])
    sink.write(tone[10000:])
    sink.close()
    with wave.open(str(tmp_path / "out.wav")) as fh:
        assert (fh.getframerate(), fh.getnchannels(), fh.getsampwidth(), fh.getnframes()) == (22050, 1, 2, 22050)
        back = np.frombuffer(fh.readframes(22050), dtype="<i2") / 32767.0
    assert np.abs(back - tone).max() < 1e-4


def test_null_sink_counts_and_stops():
    sink = open_sink("null", 24000)
    assert isinstance(sink, NullSink)
    sink.write(np.zeros(2400, dtype=np.float32))
    sink.stop()
    sink.write(np.zeros(2400, dtype=np.float32))
    assert sink.seconds == pytest.approx(0.1)
    with pytest.raises(AudioError, match="unknown audio sink"):
        open_sink("out.mp3")


def _portaudio_devices() -> tuple[bool, bool]:
    try:
        from edge.audio.portaudio import portaudio
        _, pa = portaudio()
    except AudioDeviceError:
        return False, False
    def has(getter):
        try:
            getter()
            return True
        except OSError:
            return False
    return has(pa.get_default_input_device_info), has(pa.get_default_output_device_info)


def test_microphone_and_speaker_open_or_say_what_is_missing():
    has_input, has_output = _portaudio_devices()
    if has_input:
        mic = open_source("mic", frame_ms=20)
        chunk = next(iter(mic))
        mic.close()
        assert chunk.sample_rate == 16000 and len(chunk.samples) == 320
    else:
        with pytest.raises(AudioDeviceError, match="input|pyaudio|PortAudio"):
            open_source("mic")
    if has_output:
        sink = open_sink("speaker", 22050)
        sink.write(np.zeros(2205, dtype=np.float32))
        sink.close()
    else:
        with pytest.raises(AudioDeviceError, match="output|pyaudio|PortAudio"):
            open_sink("speaker")


def test_missing_pyaudio_gives_install_hint():
    code = ("import sys; sys.modules['pyaudio'] = None\n"
            "from edge.audio import open_source, AudioDeviceError\n"
            "try:\n    open_source('mic')\nexcept AudioDeviceError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "pip install" in result.stdout and "PortAudio" in result.stdout
