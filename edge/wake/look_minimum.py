"""The forced second look's minimum for this device's own build, read from the `wake-look` bundle.

Why not one constant: the look's scores move with each build's INT8 Whisper and each build's wake head.
The same training-side rule (`python -m export wake-look`, export/wake_look.py) chose -4.5 on one
build, -4.0 on an AVX2-only EPYC's and -5.0 on an AVX-512 VNNI Xeon's: a constant tuned on one is
too strict or too loose on the others. So the export runs the rule on the bundles this machine built
and records the minimum with fingerprints of the two bundles it measured. The device takes it only
when `[wake] second_look_min_logprob` is left at CALIBRATED and the fingerprints (the head's stands for its
phrase: it is trained for one), `[asr] model`, the window and the tail all match what it runs; anything else falls back to FALLBACK and says why (a
stale calibration is worse than the constant: it was chosen for other scores).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.config import Settings

BUNDLE = "wake-look"
CALIBRATED = 0.0
"""`[wake] second_look_min_logprob` meaning "the minimum calibrated for this build" (0 is never a usable minimum:
a mean log-probability of 0 means every phrase token certain)."""
FALLBACK = -4.5
"""Used when no calibration fits: the rule's answer on the build the "hello shopkeeper" default was chosen on. For
"hey voice shop" the builds so far said -5.5, -5.0 and -5.0, so this errs on the strict side (fewer wakes, not more)."""


@dataclass(frozen=True)
class LookMinimum:
    value: float
    source: str
    """Where value came from, for the log and for `edge wake`: the setting, the calibration, or why the fallback."""


def fingerprint(manifest: dict[str, Any]) -> str:
    """A bundle's identity by the files it ships (sha256 of each), not by its recipe: a rebuild from the same
    recipe on another CPU trains other weights and so gets another fingerprint."""
    files = {name: info.get("sha256", "") for name, info in sorted(manifest.get("files", {}).items())}
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def read_calibration(models_dir: Path) -> dict[str, Any] | None:
    """The wake-look bundle's manifest `extra`, or None when it is absent or unreadable."""
    path = models_dir / BUNDLE / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    extra = manifest.get("extra")
    return extra if manifest.get("bundle") == BUNDLE and isinstance(extra, dict) else None


def _asr_manifest(settings: Settings) -> dict[str, Any] | None:
    from edge.asr.models import AsrError, open_bundle, whisper_bundle_name

    try:
        return open_bundle(settings.models.path, whisper_bundle_name(settings.asr.model)).manifest
    except AsrError:
        return None


def resolve(settings: Settings, wake_manifest: dict[str, Any] | None,
            asr_manifest: dict[str, Any] | None = None) -> LookMinimum:
    """The minimum the forced look should use on this device (see the module docstring)."""
    wake = settings.wake
    if wake.second_look_min_logprob != CALIBRATED:
        return LookMinimum(wake.second_look_min_logprob, "[wake] second_look_min_logprob")
    calibration = read_calibration(settings.models.path)
    asr_manifest = asr_manifest if asr_manifest is not None else _asr_manifest(settings)
    why = _mismatch(settings, calibration, wake_manifest, asr_manifest)
    if why:
        return LookMinimum(FALLBACK, f"fallback {FALLBACK:g}: {why}")
    assert calibration is not None
    return LookMinimum(float(calibration["minimum"]),
                       f"calibrated for this wake head and Whisper by `python -m export {BUNDLE}`")


def _mismatch(settings: Settings, calibration: dict[str, Any] | None, wake_manifest: dict[str, Any] | None,
              asr_manifest: dict[str, Any] | None) -> str:
    """Why the calibration does not apply here ("" when it does)."""
    wake = settings.wake
    if wake.model != "custom":
        return f"the calibration is for the custom head, not the packaged {wake.model!r}"
    if calibration is None:
        return f"no {BUNDLE} bundle in {settings.models.path} (build it: python -m export {BUNDLE})"
    if not isinstance(calibration.get("minimum"), int | float):
        why = calibration.get("no_minimum_reason") or f"rebuild: python -m export {BUNDLE} --force"
        return f"the {BUNDLE} bundle records no minimum ({why})"
    checks = [
        (wake_manifest is not None and calibration.get("wake") == fingerprint(wake_manifest), "wake head"),
        (asr_manifest is not None and calibration.get("asr") == fingerprint(asr_manifest), f"{settings.asr.model} Whisper"),
        (calibration.get("asr_model") == settings.asr.model, "[asr] model"),
        (calibration.get("window_seconds") == wake.second_look_window_seconds, "second_look_window_seconds"),
        (calibration.get("tail_seconds") == wake.second_look_tail_seconds, "second_look_tail_seconds"),
    ]
    stale = [what for ok, what in checks if not ok]
    if stale:
        return (f"the {BUNDLE} calibration was measured with another {', '.join(stale)} "
                f"(rebuild it: python -m export {BUNDLE})")
    return ""
