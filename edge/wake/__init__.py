"""Wake word: a streaming detector over the openWakeWord-style front end and our trained head.

`load_for_settings(settings)` loads the bundle built by `python -m export wake`; a
`WakeDetector(model, threshold, refractory_seconds)` turns 16 kHz AudioChunks into WakeDetected
events. `detector_for_settings` does both with the thresholds from settings.wake.
"""

from __future__ import annotations

import logging
from typing import Any

from edge.config import Settings
from edge.wake.detector import WakeDetector, WakeInputError, check_frame
from edge.wake.model import (
    ListenModel,
    WakeBundleError,
    WakeModel,
    load_for_settings,
    load_wake_model,
    threshold_for,
)
from edge.wake.packaged import PackagedModel

log = logging.getLogger(__name__)


def detector_for_settings(settings: Settings, model: ListenModel | None = None) -> WakeDetector:
    """A detector for settings.wake.model with its threshold and settings.wake's refractory period
    (loading the model if not given)."""
    model = model or load_for_settings(settings)
    return WakeDetector(model, threshold=threshold_for(settings, model),
                        refractory_seconds=settings.wake.refractory_seconds)


def confirmed_detector(settings: Settings, detector: WakeDetector, decode: Any) -> Any:
    """detector behind a second look with the recognizer's Whisper (settings.wake.second_look): decode is
    the recognizer's decode(samples) -> text, whose `recognizer` the forced look scores with."""
    from edge.wake.second_look import ConfirmedWakeDetector, SecondLook

    if decode is None:
        raise ValueError("wake.second_look needs the Whisper recognizer (asr.engine = \"whisper\")")
    wake = settings.wake
    look: Any
    if wake.second_look_method == "forced":
        from edge.wake.look_minimum import resolve
        from edge.wake.phrase_score import ForcedLook

        model = getattr(detector, "model", None)
        minimum = resolve(settings, getattr(model, "manifest", None))
        log.info("wake: second look minimum %.2f (%s)", minimum.value, minimum.source)
        look = ForcedLook(getattr(decode, "recognizer", None), detector.phrase,
                          min_logprob=minimum.value, window_seconds=wake.second_look_window_seconds,
                          minimum_source=minimum.source)
    else:
        from edge.catalog.correction import espeak_pronouncer

        look = SecondLook(decode, detector.phrase, espeak_pronouncer(), min_similarity=wake.second_look_similarity,
                          window_seconds=wake.second_look_window_seconds)
    return ConfirmedWakeDetector(detector, look, tail_seconds=wake.second_look_tail_seconds)


__all__ = ["ListenModel", "PackagedModel", "WakeBundleError", "WakeDetector", "WakeInputError", "WakeModel",
           "check_frame", "confirmed_detector", "detector_for_settings", "load_for_settings", "load_wake_model", "threshold_for"]
