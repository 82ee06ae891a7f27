"""Loading the Wyoming server's models once, for every connection: the device's own loaders, in order.

Checks first (every bundle and the catalog, with the command that builds what is missing), then
the voice (warmed up, like the device does, so the first client does not pay onnxruntime's first
run), the recognizer pool (Silero + one Whisper), the wake model, and the shopping session (NLU,
catalog, outbox, purchase guard, sync). A failure is one `ServiceError` whose message says how
to fix it; nothing stays open when it is raised.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wyoming.info import Info

from edge.config import Settings
from edge.tts import Synthesizer
from edge.wake import WakeModel
from edge.wyoming.asr import RecognizerPool
from edge.wyoming.handle import Conversations
from edge.wyoming.info import build_info

log = logging.getLogger("edge.wyoming")


class ServiceError(RuntimeError):
    """A model, the catalog or the session cannot be loaded; the message says how to fix it."""


@dataclass
class Services:
    """Everything a connection uses, loaded once and shared."""

    settings: Settings
    synthesizer: Synthesizer
    voice_name: str
    wake_model: WakeModel
    recognizers: RecognizerPool
    conversations: Conversations
    info: Info
    load_seconds: dict[str, float] = field(default_factory=dict)
    """Load time per part (seconds)."""

    def close(self) -> None:
        self.conversations.session.close()


def _manifest(settings: Settings, name: str) -> dict[str, Any]:
    try:
        return json.loads((settings.models.path / name / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def voice_name(manifest: dict[str, Any]) -> str:
    """The Piper voice's own name ("en_US-joe-medium") from the file the bundle was built from."""
    source = str(manifest.get("source", {}).get("file", ""))
    return Path(source).name.removesuffix(".onnx") if source.endswith(".onnx") else "voiceshop-voice"


def load_services(settings: Settings, data_dir: Path, broker_url: str | None = None) -> Services:
    """The loaded services (see module docstring); ServiceError with the fix when something is missing."""
    from edge.asr import AsrError
    from edge.device import WARM_UP_TEXT, DeviceError, LoadTimer, check_bundles, warm_up_session
    from edge.dialog.session import SessionError, ShopSession, catalog_problem
    from edge.memory import tune_allocator
    from edge.tts import TtsError, synthesizer_for_settings, voice_for_settings
    from edge.wake import WakeBundleError, load_for_settings

    problem = catalog_problem(data_dir)
    if problem:
        raise ServiceError(problem.replace("python -m edge chat", "python -m edge wyoming"))
    try:
        check_bundles(settings)
    except DeviceError as exc:
        raise ServiceError(str(exc)) from None
    tune_allocator(settings.memory)  # before any model allocates (edge.memory)
    timed = LoadTimer()
    seconds = timed.seconds
    try:
        voice = timed("tts", lambda: voice_for_settings(settings))
        timed("tts warm-up", lambda: voice.synthesize(WARM_UP_TEXT))
        # Wyoming clients take any rate and play what audio-start says: the voice's own, no resampling.
        synthesizer = synthesizer_for_settings(settings, voice=voice, output_rate=voice.sample_rate)
        recognizers = timed("asr", lambda: RecognizerPool(settings))
        wake_model = timed("wake", lambda: load_for_settings(settings))
    except (AsrError, TtsError, WakeBundleError, OSError, ValueError) as exc:
        raise ServiceError(str(exc)) from None
    try:
        session = timed("nlu+dialog", lambda: ShopSession(settings, data_dir, broker_url=broker_url))
    except (SessionError, OSError, ValueError) as exc:
        raise ServiceError(str(exc)) from None
    warm_up_session(session, settings.device.id)
    tts_manifest = _manifest(settings, "tts")
    info = build_info(asr_manifest=_manifest(settings, "asr"), voice_name=voice_name(tts_manifest),
                      voice_manifest=tts_manifest, wake_phrase=wake_model.phrase, wake_manifest=wake_model.manifest,
                      nlu_manifest=_manifest(settings, "nlu"))
    log.info("wyoming services loaded (%s)", ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return Services(settings, synthesizer, voice_name(tts_manifest), wake_model, recognizers,
                    Conversations(session), info, seconds)
