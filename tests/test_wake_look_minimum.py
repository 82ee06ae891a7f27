"""The forced look's minimum per build: the rule, the device's choice between calibration and fallback, the bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge.config import load_settings
from edge.wake.look_minimum import BUNDLE, CALIBRATED, FALLBACK, fingerprint, resolve
from export.wake_look import GRID, MARGIN, MIN_NEGATIVES, choose

WAKE = {"bundle": "wake", "files": {"wake_head.onnx": {"sha256": "a" * 64}, "mel.onnx": {"sha256": "b" * 64}}}
ASR = {"bundle": "asr", "files": {"encoder.int8.onnx": {"sha256": "c" * 64}}}


def test_the_rule_keeps_every_ordinary_negative_a_margin_below() -> None:
    # the first three builds' highest ordinary dev negatives (the 0.5-step grid said -4.5, -4.0, -5.0 on them)
    assert choose([-8.0, -5.18]) == -4.6
    assert choose([-4.89]) == -4.3
    assert choose([-5.64, -7.0]) == -5.1
    assert choose([-5.5]) == -5.0  # exactly MARGIN below is enough
    assert choose([-5.45]) == -4.9  # the rounding no longer adds to the margin (the 0.5-step grid said -4.5)
    assert choose([]) == min(GRID)  # nothing fired: the loosest minimum tried
    assert choose([-3.9]) == max(GRID)  # nothing fits: the strictest, never looser than the rule allows
    for top in np.linspace(-9.5, -4.5, 41):
        chosen = choose([float(top)])
        assert chosen in GRID and top - 1e-9 <= chosen - MARGIN < top + 0.1 + 1e-9


def test_fingerprints_follow_the_files_not_the_order() -> None:
    same = {"files": dict(reversed(list(WAKE["files"].items())))}
    assert fingerprint(WAKE) == fingerprint(same)
    retrained = json.loads(json.dumps(WAKE))
    retrained["files"]["wake_head.onnx"]["sha256"] = "d" * 64
    assert fingerprint(retrained) != fingerprint(WAKE)


def _models(tmp_path: Path, **changes: object) -> Path:
    """A models dir with an asr manifest and a wake-look calibration for WAKE and ASR (changes applied)."""
    (tmp_path / "asr").mkdir(exist_ok=True)
    (tmp_path / "asr" / "manifest.json").write_text(json.dumps(ASR))
    defaults = load_settings(environ={}).wake
    extra = {"minimum": -5.0, "phrase": "hello shopkeeper", "wake": fingerprint(WAKE), "asr": fingerprint(ASR),
             "asr_model": "tiny.en", "window_seconds": defaults.second_look_window_seconds,
             "tail_seconds": defaults.second_look_tail_seconds} | changes
    (tmp_path / BUNDLE).mkdir(exist_ok=True)
    (tmp_path / BUNDLE / "manifest.json").write_text(json.dumps({"bundle": BUNDLE, "extra": extra}))
    return tmp_path


def _settings(models: Path, **wake: str):
    environ = {"VOICESHOP_MODELS__DIR": str(models)}
    environ |= {f"VOICESHOP_WAKE__{k.upper()}": v for k, v in wake.items()}
    return load_settings(environ=environ)


def test_the_device_takes_its_own_builds_minimum(tmp_path) -> None:
    settings = _settings(_models(tmp_path))
    assert settings.wake.second_look_min_logprob == CALIBRATED  # the shipped default
    chosen = resolve(settings, WAKE)
    assert chosen.value == -5.0 and "calibrated" in chosen.source


def test_a_set_minimum_wins(tmp_path) -> None:
    chosen = resolve(_settings(_models(tmp_path), second_look_min_logprob="-6.5"), WAKE)
    assert chosen.value == -6.5 and chosen.source == "[wake] second_look_min_logprob"


@pytest.mark.parametrize(("case", "reason"), [
    ("no bundle", "no wake-look bundle"),
    ("retrained head", "wake head"),
    ("other whisper", "tiny.en Whisper"),
    ("other window", "second_look_window_seconds"),
    ("other tail", "second_look_tail_seconds"),
    ("packaged model", "packaged"),
    ("no minimum", "records no minimum (too few"),
])
def test_a_calibration_that_does_not_fit_falls_back_and_says_why(tmp_path, case, reason) -> None:
    models = _models(tmp_path, **({"minimum": None, "no_minimum_reason": "too few ordinary dev negatives"}
                                  if case == "no minimum" else {}))
    wake, asr, environ = WAKE, ASR, {}
    if case == "no bundle":
        shutil.rmtree(models / BUNDLE)
    elif case == "retrained head":
        wake = {"files": {"wake_head.onnx": {"sha256": "e" * 64}}}
    elif case == "other whisper":
        asr = {"files": {"encoder.int8.onnx": {"sha256": "f" * 64}}}
    elif case == "other window":
        environ = {"second_look_window_seconds": "2.2"}
    elif case == "other tail":
        environ = {"second_look_tail_seconds": "0.4"}
    elif case == "packaged model":
        environ = {"model": "hey_mycroft", "phrase": "hey mycroft"}
    chosen = resolve(_settings(models, **environ), wake, asr)
    assert chosen.value == FALLBACK and reason in chosen.source, chosen


def test_an_unreadable_calibration_falls_back(tmp_path) -> None:
    models = _models(tmp_path)
    (models / BUNDLE / "manifest.json").write_text("{not json")
    assert resolve(_settings(models), WAKE).value == FALLBACK


def test_the_confirmed_detector_uses_the_resolved_minimum(tmp_path) -> None:
    """edge.wake.confirmed_detector builds the device's forced look with this build's minimum."""
    from edge.wake import confirmed_detector

    class _Model:
        manifest = WAKE

    class _Detector:
        phrase, model = "hello shopkeeper", _Model()

    class _Whisper:
        def continuation_logprobs(self, cross, sequences):
            raise AssertionError("not called here")

        def encode_text(self, text: str) -> list[int]:
            return [1, 2]

    def decode(audio: np.ndarray) -> str:
        return ""

    decode.recognizer = _Whisper()  # type: ignore[attr-defined]
    models = _models(tmp_path)
    wrapped = confirmed_detector(_settings(models), _Detector(), decode)
    assert wrapped.look.min_score == -5.0 and "calibrated" in wrapped.look.minimum_source
    wrapped = confirmed_detector(_settings(models, second_look_window_seconds="2.0"), _Detector(), decode)
    assert wrapped.look.min_score == FALLBACK and "window" in wrapped.look.minimum_source


@pytest.mark.slow
def test_the_export_calibrates_this_build_and_check_notices_a_new_head(bundle, cli, tmp_path) -> None:
    """`python -m export wake-look` on this machine's wake and asr bundles: the recorded minimum is the rule's
    answer on its own recorded scores, the device takes it, and --check fails once the head is another."""
    from edge.wake import load_wake_model

    built = bundle(BUNDLE)
    models = built.parent
    report = json.loads((built / "look_dev.json").read_text())
    manifest = json.loads((built / "manifest.json").read_text())
    minimum = manifest["extra"]["minimum"]
    assert report["rule_minimum"] == choose([o["score"] for o in report["ordinary"]])
    assert len(report["positives"]) >= 150 and report["first_stage_detection"] > 0.8
    if len(report["ordinary"]) < MIN_NEGATIVES:  # too little to go by: nothing recorded, the device falls back
        assert minimum is None and "too few" in manifest["extra"]["no_minimum_reason"]
        chosen = resolve(load_settings(environ={"VOICESHOP_MODELS__DIR": str(models)}),
                         load_wake_model(models / "wake").manifest)
        assert chosen.value == FALLBACK and "too few" in chosen.source, chosen
        return
    assert minimum == report["minimum"] == report["rule_minimum"]
    # the chosen minimum keeps most of the phrase the head found (a build where it does not is worth a look)
    assert report["per_minimum"][f"{minimum:g}"]["detection"] >= 0.6, report["per_minimum"]
    chosen = resolve(load_settings(environ={"VOICESHOP_MODELS__DIR": str(models)}),
                     load_wake_model(models / "wake").manifest)
    assert chosen.value == minimum and "calibrated" in chosen.source, chosen

    for name in ("asr", "wake"):
        (tmp_path / name).symlink_to(models / name)
    shutil.copytree(built, tmp_path / BUNDLE)
    intact = cli("export", BUNDLE, "--check", "--out", str(tmp_path), timeout=900)
    assert intact.returncode == 0, intact.stderr  # the stored windows score as recorded
    (tmp_path / "wake").unlink()
    shutil.copytree(models / "wake", tmp_path / "wake")
    head = json.loads((tmp_path / "wake" / "manifest.json").read_text())
    head["files"]["wake_head.onnx"]["sha256"] = "0" * 64  # as if retrained
    (tmp_path / "wake" / "manifest.json").write_text(json.dumps(head))
    stale = cli("export", BUNDLE, "--check", "--out", str(tmp_path), timeout=900)
    assert stale.returncode == 1 and "wake bundle" in stale.stderr, stale.stderr
    fallback = resolve(load_settings(environ={"VOICESHOP_MODELS__DIR": str(tmp_path)}), head)
    assert fallback.value == FALLBACK and "wake head" in fallback.source


def test_the_export_never_builds_the_wake_head_itself(bundle, cli, tmp_path) -> None:
    """A device maker's own phrase (`export wake --phrase`) must not be retrained for the default one: without a wake
    bundle beside it the export says what to build, in one line, and builds nothing."""
    bundle("asr")
    from tests.conftest import MODELS_DIR

    (tmp_path / "asr").symlink_to(MODELS_DIR / "asr")
    result = cli("export", BUNDLE, "--out", str(tmp_path), timeout=600)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "no wake bundle" in result.stderr and "python -m export wake" in result.stderr
    assert not (tmp_path / "wake").exists() and not (tmp_path / BUNDLE).exists()


@pytest.mark.parametrize(("fires", "recorded"), [(12, True), (3, False)])
def test_too_few_ordinary_fires_record_no_minimum(monkeypatch, fires, recorded) -> None:
    """calibrate on scripted head scores and look verdicts: with fewer than MIN_NEGATIVES ordinary fires the rule's
    answer is reported but not recorded (with none it would be its loosest minimum, a look that confirms anything)."""
    import export.wake_look as wake_look
    from edge.wake.second_look import Verdict
    from export.wake_eval import PositiveStream

    steps = 400  # 32 s of 80 ms steps; a fire every 30 steps, past the 2 s refractory period
    ordinary = np.zeros(steps * 1280, np.float32)
    positive = PositiveStream(np.ones(steps * 1280, np.float32), phrase_start=1.0, phrase_end=2.0, voice="espeak")

    def scores(model, audio: np.ndarray) -> np.ndarray:
        out = np.zeros(len(audio) // 1280, np.float32)
        if audio[0] == 1.0:  # the positive stream: the head fires as the phrase ends
            out[24] = 0.9
        else:
            out[[30 * (k + 1) for k in range(fires)]] = 0.9
        return out

    class _Look:
        window = 16000

        def check(self, audio: np.ndarray) -> Verdict:
            phrase = bool(audio[-1] == 1.0)
            return Verdict(phrase, "hello shopkeeper" if phrase else "some words", -2.0 if phrase else -7.2, 1.0)

    class _Model:
        manifest = {"extra": {"threshold": 0.5}}

    monkeypatch.setattr(wake_look, "batch_scores", scores)
    material = {"synthetic": [ordinary], "real": [], "positives": [positive], "confusables": []}
    result, _judge = wake_look.calibrate(_Model(), _Look(), 0.24, 2.0, material)
    assert len(result["ordinary"]) == fires and result["rule_minimum"] == choose([-7.2]) == -6.7
    assert result["per_minimum"]["-6.7"]["detection"] == 1.0
    if recorded:
        assert result["minimum"] == -6.7 and not result["no_minimum_reason"]
    else:
        assert result["minimum"] is None and "only 3 ordinary dev negatives" in result["no_minimum_reason"]
