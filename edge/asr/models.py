"""Load the recognition models from their bundles: one function per engine, file checks first.

Every path and number is visible here, sherpa-onnx example style, and every failure is an
`AsrError` whose message names the file and the command that builds it. The Silero file is checked
with onnxruntime before sherpa-onnx touches it: given the wrong file, sherpa's C++ calls exit(-1)
and the whole device dies without a Python exception.

sherpa_onnx is imported only where a sherpa model is built (`[asr] runtime` or `vad_runtime`
"sherpa", the online engine): it loads a second onnxruntime, ~17 MB of code and allocator a device
that runs everything on the onnxruntime package does not need (edge.asr.vad_ort).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort

from edge.asr.vad_ort import SEQUENCE_INPUTS, SHIFT, SINGLE_INPUTS, SileroVadOrt
from edge.config import Settings, whisper_runtime
from edge.memory import sherpa_provider_string, whisper_ort_memory
from edge.providers import ProviderError, ort_providers, ort_session, sherpa_provider

log = logging.getLogger("edge.asr")

WHISPER_ENCODER_IO = (["mel"], ["n_layer_cross_k", "n_layer_cross_v"])
WHISPER_DECODER_INPUTS = ["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", "n_layer_cross_k",
                          "n_layer_cross_v", "offset"]
MIN_SPEECH_SECONDS = 0.25
"""Silero must call this much audio speech before a segment opens (either VAD runtime)."""
WHISPER_BUNDLES = {"tiny.en": "asr", "base": "asr-base"}
"""`[asr] model` -> the bundle that holds it (python -m export <bundle> builds it)."""


class AsrError(RuntimeError):
    """A recognition model is missing or unusable; the message says which file and what to do."""


@dataclass(frozen=True)
class BundleFiles:
    """A bundle directory, its manifest and the files by role."""

    path: Path
    manifest: dict[str, Any]

    def file(self, role: str) -> Path:
        for name, info in self.manifest.get("files", {}).items():
            if info.get("role") == role:
                path = self.path / name
                if not path.is_file():
                    raise AsrError(f"{path} is missing (listed in {self.path / 'manifest.json'}); "
                                   f"rebuild: python -m export {self.path.name} --force")
                return path
        raise AsrError(f"{self.path}/manifest.json lists no '{role}' file; rebuild: python -m export {self.path.name}")

    def has(self, role: str) -> bool:
        return any(info.get("role") == role for info in self.manifest.get("files", {}).values())


def open_bundle(models_dir: Path, name: str) -> BundleFiles:
    path = models_dir / name
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise AsrError(f"no '{name}' bundle at {path}; build it with: python -m export {name}")
    try:
        return BundleFiles(path, json.loads(manifest.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise AsrError(f"{manifest}: unreadable ({exc}); rebuild: python -m export {name} --force") from None


def provider_for(settings: Settings) -> str:
    """sherpa's provider string for the configured provider (edge.providers decides the fallback)."""
    try:
        return sherpa_provider(settings.runtime)
    except ProviderError as exc:
        raise AsrError(str(exc)) from None


def _io_names(path: Path) -> tuple[list[str], list[str]]:
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several types for corrupt files
        raise AsrError(f"{path}: onnxruntime cannot load it ({exc}); rebuild: python -m export {path.parent.name} "
                       "--force") from None
    return [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]


def check_vad_file(path: Path) -> None:
    """Raise AsrError unless path is a Silero file sherpa-onnx accepts (see module docstring)."""
    inputs, _ = _io_names(path)
    if inputs != SINGLE_INPUTS:
        raise AsrError(f"{path}: inputs {inputs}; sherpa-onnx's Silero VAD needs {SINGLE_INPUTS} "
                       "(silero_vad.onnx or silero_vad_16k_op15.onnx). Rebuild: python -m export vad --force")


def vad_config(settings: Settings, min_silence: float, max_speech: float) -> tuple[Any, int]:
    """sherpa VadModelConfig for the vad bundle, and its window size (samples)."""
    import sherpa_onnx

    bundle = open_bundle(settings.models.path, "vad")
    model = bundle.file("model")
    check_vad_file(model)
    window = int(bundle.manifest.get("extra", {}).get("window_size", 512))
    silero = sherpa_onnx.SileroVadModelConfig(
        model=str(model), threshold=settings.asr.vad_threshold, min_silence_duration=min_silence,
        min_speech_duration=MIN_SPEECH_SECONDS, window_size=window, max_speech_duration=max_speech)
    config = sherpa_onnx.VadModelConfig(silero_vad=silero, sample_rate=16000, num_threads=settings.threads.vad,
                                        provider=provider_for(settings))
    return config, window


def vad_maker(settings: Settings, min_silence: float, max_speech: float,
              buffer_seconds: float) -> Callable[[], Any]:
    """A function that builds a fresh Silero VoiceActivityDetector on `[asr] vad_runtime` (the file is
    checked now, so a missing or wrong file fails at load, not at the first frame).

    "onnxruntime": edge.asr.vad_ort.SileroVadOrt, one session shared by every detector made (each
    keeps its own LSTM state); "sherpa": sherpa_onnx.VoiceActivityDetector, a model per detector."""
    if settings.asr.vad_runtime == "sherpa":
        import sherpa_onnx

        config, _window = vad_config(settings, min_silence, max_speech)
        return lambda: sherpa_onnx.VoiceActivityDetector(config, buffer_size_in_seconds=buffer_seconds)
    bundle = open_bundle(settings.models.path, "vad")
    sequence = bundle.has("model_sequence")  # a bundle built before 2026-12-06 has only sherpa's file
    model = bundle.file("model_sequence" if sequence else "model")
    expected = SEQUENCE_INPUTS if sequence else SINGLE_INPUTS
    window = int(bundle.manifest.get("extra", {}).get("window_size", SHIFT))
    if window != SHIFT:
        raise AsrError(f"{bundle.path}/manifest.json: window_size {window}; Silero v5 at 16 kHz takes {SHIFT}. "
                       "Rebuild: python -m export vad --force")
    try:
        session = ort_session(str(model), settings.runtime, settings.threads.vad)
    except ProviderError as exc:
        raise AsrError(str(exc)) from None
    except Exception as exc:  # onnxruntime raises several types for corrupt files
        raise AsrError(f"{model}: onnxruntime cannot load it ({exc}); rebuild: python -m export vad --force") from None
    inputs = [i.name for i in session.get_inputs()]
    if inputs != expected:
        raise AsrError(f"{model}: inputs {inputs}; the Silero VAD needs {expected} "
                       f"({model.name}). Rebuild: python -m export vad --force")
    threshold = settings.asr.vad_threshold
    return lambda: SileroVadOrt(session, threshold=threshold, min_silence_duration=min_silence,
                                min_speech_duration=MIN_SPEECH_SECONDS, max_speech_duration=max_speech,
                                buffer_size_in_seconds=buffer_seconds)


def whisper_bundle_name(model: str) -> str:
    """The bundle directory of an `[asr] model` choice."""
    try:
        return WHISPER_BUNDLES[model]
    except KeyError:
        raise AsrError(f"asr.model {model!r}: known models are {', '.join(WHISPER_BUNDLES)}") from None


def bundle_languages(bundle: BundleFiles) -> list[str]:
    """Languages the bundle's Whisper transcribes: the manifest's list, or English for an English-only model."""
    return list(bundle.manifest.get("extra", {}).get("languages") or ["en"])


def whisper_recognizer(settings: Settings, threads: int | None = None) -> Any:
    """The INT8 Whisper bundle of `[asr] model`, in `[asr] language`, on `[asr] runtime`: sherpa-onnx's
    OfflineRecognizer, or edge.asr.whisper_ort.WhisperOrt (the same calls: create_stream, decode_stream).

    The language is checked against the manifest here: sherpa given a code the model lacks exits the
    process (multilingual) or ignores it (English-only), and neither says why."""
    name = whisper_bundle_name(settings.asr.model)
    bundle = open_bundle(settings.models.path, name)
    languages = bundle_languages(bundle)
    if settings.asr.language not in languages:
        raise AsrError(f"asr.language {settings.asr.language!r}: the {name} bundle (asr.model "
                       f"{settings.asr.model!r}) transcribes {', '.join(languages[:12])}"
                       f"{' ...' if len(languages) > 12 else ''}")
    encoder, decoder, tokens = bundle.file("encoder"), bundle.file("decoder"), bundle.file("tokens")
    if _io_names(encoder) != WHISPER_ENCODER_IO:
        raise AsrError(f"{encoder}: not a sherpa-onnx Whisper encoder; rebuild: python -m export {name} --force")
    if whisper_runtime(settings.asr) == "onnxruntime":
        # the decoder built for this runtime (cross keys/values laid out once per segment), where the bundle has one
        ort_decoder = bundle.file("decoder_ort") if bundle.has("decoder_ort") else decoder
        return _whisper_ort(settings, encoder, ort_decoder, tokens, threads)
    import sherpa_onnx

    return sherpa_onnx.OfflineRecognizer.from_whisper(
        encoder=str(encoder), decoder=str(decoder), tokens=str(tokens), language=settings.asr.language,
        task="transcribe",
        num_threads=threads or settings.threads.asr,
        # segments vary in length: no memory pattern kept per length, arena per [memory] asr_arena (edge.memory)
        provider=sherpa_provider_string(provider_for(settings), settings.memory.asr_arena),
        tail_paddings=settings.asr.tail_padding_frames)


def _decoder_inputs_known(names: list[str]) -> bool:
    """sherpa's decoder inputs, or the per-layer decoder's (export/whisper_onnx.py: cross_k_0.., cross_v_0..)."""
    if names == WHISPER_DECODER_INPUTS:
        return True
    layers = (len(names) - 4) // 2
    return layers > 0 and names == [*WHISPER_DECODER_INPUTS[:3], *(f"cross_k_{i}" for i in range(layers)),
                                    *(f"cross_v_{i}" for i in range(layers)), "offset"]


def _whisper_ort(settings: Settings, encoder: Path, decoder: Path, tokens: Path, threads: int | None) -> Any:
    """edge.asr.whisper_ort's recognizer on the same files, a memory setting per graph (see whisper_ort_memory)."""
    from edge.asr.whisper_ort import WhisperOrt

    if not _decoder_inputs_known(_io_names(decoder)[0]):
        raise AsrError(f"{decoder}: not a sherpa-onnx Whisper decoder; rebuild: python -m export "
                       f"{decoder.parent.name} --force")
    encoder_memory, decoder_memory = whisper_ort_memory(settings.memory)
    try:
        providers = ort_providers(settings.runtime)
    except ProviderError as exc:
        raise AsrError(str(exc)) from None
    try:
        return WhisperOrt(encoder, decoder, tokens, language=settings.asr.language,
                          threads=threads or settings.threads.asr, tail_padding_frames=settings.asr.tail_padding_frames,
                          short_padding_frames=settings.asr.short_tail_padding_frames, beam_size=settings.asr.beam_size,
                          encoder_memory=encoder_memory, decoder_memory=decoder_memory,
                          providers=providers)
    except ValueError as exc:
        raise AsrError(f"{exc}; rebuild: python -m export {encoder.parent.name} --force") from None


def online_recognizer(settings: Settings, model_dir: Path, threads: int | None = None) -> Any:
    """sherpa-onnx OnlineRecognizer on a streaming transducer a device maker downloaded themselves.

    The directory holds encoder.onnx, decoder.onnx, joiner.onnx (or their .int8.onnx) and
    tokens.txt, as sherpa-onnx's streaming zipformer releases do. Endpointing uses our settings.
    """
    def pick(stem: str) -> Path:
        for name in (f"{stem}.int8.onnx", f"{stem}.onnx"):
            if (model_dir / name).is_file():
                return model_dir / name
        matches = sorted(model_dir.glob(f"{stem}*.onnx"))
        if matches:
            return matches[0]
        raise AsrError(f"{model_dir}: no {stem}*.onnx (a streaming transducer needs encoder, decoder, joiner)")

    import sherpa_onnx

    if not model_dir.is_dir():
        raise AsrError(f"online model directory {model_dir} does not exist (asr.online_model_dir)")
    tokens = model_dir / "tokens.txt"
    if not tokens.is_file():
        raise AsrError(f"{tokens} missing")
    silence = settings.asr.relaxed_min_silence_seconds if settings.asr.relaxed else settings.asr.min_silence_seconds
    return sherpa_onnx.OnlineRecognizer.from_transducer(
        tokens=str(tokens), encoder=str(pick("encoder")), decoder=str(pick("decoder")), joiner=str(pick("joiner")),
        num_threads=threads or settings.threads.asr, sample_rate=16000, feature_dim=80,
        enable_endpoint_detection=True, rule1_min_trailing_silence=max(2.4, 2 * silence),
        rule2_min_trailing_silence=silence, rule3_min_utterance_length=settings.asr.max_segment_seconds,
        provider=provider_for(settings))
