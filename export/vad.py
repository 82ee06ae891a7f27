"""`python -m export vad`: the Silero VAD file sherpa-onnx 2.0.1 accepts, from the silero-vad wheel.

sherpa-onnx's VoiceActivityDetector accepts only `silero_vad.onnx` and `silero_vad_16k_op15.onnx`
from `silero_vad/data/`; given any other Silero variant its C++ side calls exit(-1) and the whole
process dies with code 255, no Python exception. So the file's interface (inputs `input`, `state`,
`sr`; outputs `output`, `stateN`) is checked with onnx and onnxruntime here, and again by the
device before sherpa ever sees it (edge/asr), and parity is measured on real audio: three
sentences with pauses between them must come out of sherpa's detector as three segments.

The bundle also carries the wheel's `silero_vad_16k_sequence.onnx`, the same network taking a run of
windows per call (inputs `input` (n, 576), `h`, `c`), for the device's own onnxruntime VAD
(edge.asr.vad_ort): every probability equal to the single-window file's (checked here on the parity
audio), at ~107 µs a window one at a time and ~70 µs three at a time (a 100 ms frame) against ~169 µs:
the single-window file runs its graph inside an `If` over the sample rate, a subgraph call per window.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from edge.asr.vad_ort import OVERLAP, SHIFT, SINGLE_INPUTS, SileroVadOrt
from export.bundle import Manifest, tool_versions
from export.bundle import source_key as hash_key
from export.speech_corpus import PIPER_JOE, SENTENCES, clip, read_wav_16k

SOURCE_PACKAGE = "silero-vad"
SOURCE_FILE = "silero_vad.onnx"
FILE = "silero_vad.onnx"
SEQUENCE_FILE = "silero_vad_16k_sequence.onnx"
SEQUENCE_TOLERANCE = 1e-5
"""Largest speech-probability difference allowed between the two files (measured: 0.0)."""
INPUTS = SINGLE_INPUTS
"""The file sherpa-onnx loads (the device's runtime names it; its other Silero variants exit the process)."""
WINDOW = SHIFT
"""Samples per Silero call at 16 kHz (what sherpa's SileroVadModelConfig.window_size defaults to)."""


def source_path(name: str = SOURCE_FILE) -> Path:
    import silero_vad

    path = Path(silero_vad.__file__).parent / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: reinstall {SOURCE_PACKAGE}")
    return path


def source_key() -> str:
    return hash_key(f"{SOURCE_PACKAGE}={importlib.metadata.version(SOURCE_PACKAGE)}", source_path(),
                    source_path(SEQUENCE_FILE), Path(__file__), Path(__file__).parent.parent / "edge/asr/vad_ort.py")


def check_interface(path: Path) -> list[str]:
    """Problems that would make sherpa kill the process; empty when the file is the right one."""
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # a corrupt file: onnx raises several types
        return [f"{path.name}: not a readable ONNX file ({exc})"]
    graph_inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if graph_inputs != INPUTS:
        return [f"{path.name}: inputs {graph_inputs}, sherpa-onnx's Silero VAD needs {INPUTS}"]
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        return [f"{path.name}: onnxruntime cannot load it ({exc})"]
    names = [i.name for i in session.get_inputs()]
    if names != INPUTS:
        return [f"{path.name}: onnxruntime sees inputs {names}, expected {INPUTS}"]
    return []


def _parity_audio() -> tuple[np.ndarray, int]:
    """Three Piper sentences separated by 0.8 s of silence, and how many there are."""
    silence = np.zeros(12800, np.float32)
    parts = [silence]
    texts = SENTENCES[:3]
    for text in texts:
        parts += [read_wav_16k(clip(text, PIPER_JOE).path), silence]
    return np.concatenate(parts), len(texts)


def segment(path: Path, audio: np.ndarray, min_silence: float = 0.5) -> list[tuple[float, float]]:
    """(start, end) seconds of the speech segments sherpa-onnx's VoiceActivityDetector finds.

    Only call this on a file check_interface() passed: a wrong file kills the process.
    """
    import sherpa_onnx

    config = sherpa_onnx.VadModelConfig(
        silero_vad=sherpa_onnx.SileroVadModelConfig(model=str(path), threshold=0.5, min_silence_duration=min_silence,
                                                    min_speech_duration=0.25, window_size=WINDOW),
        sample_rate=16000, num_threads=1)
    vad = sherpa_onnx.VoiceActivityDetector(config, buffer_size_in_seconds=60)
    found = []
    for start in range(0, len(audio), 1600):
        vad.accept_waveform(audio[start:start + 1600])
        while not vad.empty():
            seg = vad.front
            found.append((seg.start / 16000, (seg.start + len(seg.samples)) / 16000))
            vad.pop()
    vad.flush()
    while not vad.empty():
        seg = vad.front
        found.append((seg.start / 16000, (seg.start + len(seg.samples)) / 16000))
        vad.pop()
    return found


def sequence_agreement(single: Path, sequence: Path, audio: np.ndarray, run: int = 3) -> float:
    """Largest difference between the two files' speech probabilities over audio's 576-sample windows (every
    512 samples), each through the device's own onnxruntime VAD (edge.asr.vad_ort), the sequence file fed `run`
    windows per call with its LSTM state carried over."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    one, many = (SileroVadOrt(ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]))
                 for path in (single, sequence))
    windows = np.stack([audio[at:at + SHIFT + OVERLAP] for at in range(0, len(audio) - SHIFT - OVERLAP, SHIFT)])
    expected = one.probabilities(windows)
    got = [prob for at in range(0, len(windows), run) for prob in many.probabilities(windows[at:at + run])]
    return float(np.abs(np.array(expected) - np.array(got)).max())


def _parity(bundle_file: Path) -> dict[str, float]:
    audio, spoken = _parity_audio()
    segments = segment(bundle_file, audio)
    return {"sentences": spoken, "segments": len(segments),
            "speech_seconds": round(sum(end - start for start, end in segments), 2),
            "audio_seconds": round(len(audio) / 16000, 2)}


def build(staging: Path) -> tuple[Manifest, dict[str, str]]:
    problems = check_interface(source_path())
    if problems:
        raise RuntimeError("; ".join(problems))
    shutil.copy(source_path(), staging / FILE)
    shutil.copy(source_path(SEQUENCE_FILE), staging / SEQUENCE_FILE)
    parity = _parity(staging / FILE)
    if parity["segments"] != parity["sentences"]:
        raise RuntimeError(f"VAD parity failed: {parity['sentences']} sentences gave {parity['segments']} segments")
    parity["sequence_max_prob_diff"] = sequence_agreement(staging / FILE, staging / SEQUENCE_FILE, _parity_audio()[0])
    if parity["sequence_max_prob_diff"] > SEQUENCE_TOLERANCE:
        raise RuntimeError(f"{SEQUENCE_FILE} disagrees with {FILE}: probabilities {parity['sequence_max_prob_diff']} apart")
    manifest = Manifest(
        bundle="vad",
        source={"package": SOURCE_PACKAGE, "version": importlib.metadata.version(SOURCE_PACKAGE),
                "licence": "MIT", "file": f"silero_vad/data/{SOURCE_FILE}"},
        source_key="",
        parity=parity,
        decisions=[f"{SOURCE_FILE}: one of the two Silero files sherpa-onnx 2.0.1 accepts (inputs {INPUTS}); "
                   "others make its C++ call exit(-1)", "shipped unchanged (1.2-2.3 MB; no quantization)",
                   f"{SEQUENCE_FILE}: the same network over a run of windows per call, for edge.asr.vad_ort "
                   "(no If subgraph per window); probabilities checked equal to the single-window file's"],
        tools=tool_versions([SOURCE_PACKAGE]),
        extra={"sample_rate": 16000, "window_size": WINDOW, "inputs": INPUTS},
    )
    return manifest, {FILE: "model", SEQUENCE_FILE: "model_sequence"}


def check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]:
    path = manifest.path_of("model", bundle_dir)
    problems = check_interface(path)
    if problems:
        return problems
    now = _parity(path)
    recorded = manifest.parity
    if now["segments"] != recorded.get("segments"):
        return [f"{now['segments']} speech segments on the parity audio, recorded {recorded.get('segments')}"]
    if abs(now["speech_seconds"] - recorded.get("speech_seconds", -1.0)) > 0.1:
        return [f"{now['speech_seconds']} s of speech found, recorded {recorded.get('speech_seconds')} s"]
    return []
