"""Wake word: a streaming detector over the openWakeWord-style front end and our trained head.

`load_for_settings(settings)` loads the bundle built by `python -m export wake`; a
`WakeDetector(model, threshold, refractory_seconds)` turns 16 kHz AudioChunks into WakeDetected
events. `detector_for_settings` does both with the thresholds from settings.wake.
"""

from __future__ import annotations

from edge.config import Settings
from edge.wake.detector import WakeDetector, WakeInputError, check_frame
from edge.wake.model import WakeBundleError, WakeModel, load_for_settings, load_wake_model


def detector_for_settings(settings: Settings, model: WakeModel | None = None) -> WakeDetector:
    """A detector with settings.wake's threshold and refractory period (loading the model if not given)."""
    model = model or load_for_settings(settings)
    return WakeDetector(model, threshold=settings.wake.threshold,
                        refractory_seconds=settings.wake.refractory_seconds)


__all__ = ["WakeBundleError", "WakeDetector", "WakeInputError", "WakeModel", "check_frame",
           "detector_for_settings", "load_for_settings", "load_wake_model"]
