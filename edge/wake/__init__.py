"""Wake word: a streaming detector over the openWakeWord-style front end and our trained head,
confirmed by a transcript of the moment it fired (edge.wake.verify).

`load_for_settings(settings)` loads the bundle built by `python -m export wake`; a
`WakeDetector(model, threshold, refractory_seconds)` turns 16 kHz AudioChunks into WakeDetected
events. `detector_for_settings` does both with the thresholds from settings.wake, and wraps the
detector in the second stage when settings.wake.verify is on and a Whisper decode is given.
"""

from __future__ import annotations

from edge.config import Settings
from edge.wake.detector import WakeDetector, WakeInputError, check_frame
from edge.wake.model import WakeBundleError, WakeModel, load_for_settings, load_wake_model
from edge.wake.verify import Decode, VerifiedWakeWord, phrase_heard


def detector_for_settings(settings: Settings, model: WakeModel | None = None,
                          decode: Decode | None = None) -> WakeDetector | VerifiedWakeWord:
    """The device's wake word: settings.wake's threshold and refractory period, verified by decode
    (a samples -> text function over the device's Whisper) when settings.wake.verify is on."""
    model = model or load_for_settings(settings)
    detector = WakeDetector(model, threshold=settings.wake.threshold,
                            refractory_seconds=settings.wake.refractory_seconds)
    if settings.wake.verify and decode is not None:
        return VerifiedWakeWord(detector, decode, window_seconds=settings.wake.verify_window_seconds)
    return detector


__all__ = ["Decode", "VerifiedWakeWord", "WakeBundleError", "WakeDetector", "WakeInputError", "WakeModel",
           "check_frame", "detector_for_settings", "load_for_settings", "load_wake_model", "phrase_heard"]
