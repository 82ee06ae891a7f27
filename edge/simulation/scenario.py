"""Scenario files: the scripted conversations `python -m edge.simulate` plays (YAML, validated here).

    name: seed
    profile: speaker              # or car (--profile overrides)
    language: en                  # or zh: the device's [device] language for this run (default en)
    wer_tolerance: 0.25           # word error rate allowed between what was said and the transcript
    user_voice: {speed: 0.92, pitch: 1.12, noise_scale: 0.8, noise_w: 0.9}
    sessions:                     # one device, several sessions (the dialogue starts afresh each time)
      - name: first purchase
        turns:
          - say: I want to buy apples
            wake: true            # the wake phrase first, in the same breath (default: first turn)
            expect: {intent: add_to_cart, reply_has: ["$"], actions: [results]}
          - say: two bags please  # a follow-up: no wake word, the device is still listening
            expect: {intent: add_to_cart, reply_has: [you may also like]}
        expect_after: {cloud_orders: 1}   # orders the cloud has stored once this session is over

A turn may change the voice for its line (`voice: {pitch: 1.2, speed: 0.9}` over user_voice), press a button instead of saying the wake phrase (`button: ptt` holds push-to-talk
while speaking; `button: tap` taps it first), or say nothing (`say: ""`: the device must time out).
`--scenario zh` names edge/scenarios/zh.yaml (a bare name is a file in that folder). In a zh scenario,
`wer_tolerance` bounds the character error rate (edge.text.cer): Chinese has no words to count.
Every mistake is reported with the file and the place in it, before any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "default.yaml"

EXPECT_KEYS = {"intent", "reply_has", "reply_lacks", "actions", "state_after", "transcript"}
VOICE_KEYS = {"speed", "pitch", "noise_scale", "noise_w"}


class ScenarioError(ValueError):
    """The scenario file is missing or malformed; the message names the file and the place."""


@dataclass(frozen=True)
class UserVoice:
    """How the simulated user sounds: the Piper voice made into another speaker."""

    speed: float = 0.92
    """Speaking rate relative to the voice's own (the assistant speaks at 1.0)."""
    pitch: float = 1.12
    """Pitch factor (1.12: about two semitones higher than the assistant)."""
    noise_scale: float = 0.8
    """VITS noise scale: variation in the voice's timbre."""
    noise_w: float = 0.9
    """VITS duration noise: variation in timing."""


@dataclass(frozen=True)
class Turn:
    say: str
    wake: bool = False
    button: str | None = None
    """None, "ptt" (hold push-to-talk while speaking) or "tap" (tap the button, then speak)."""
    expect: dict[str, Any] = field(default_factory=dict)
    voice: dict[str, float] = field(default_factory=dict)
    """This line's changes to the scenario's user_voice (speed, pitch, ...): a person's pitch and tempo vary."""


@dataclass(frozen=True)
class Session:
    name: str
    turns: tuple[Turn, ...]
    expect_after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    sessions: tuple[Session, ...]
    profile: str | None = None
    wer_tolerance: float = 0.25
    voice: UserVoice = field(default_factory=UserVoice)
    description: str = ""
    language: str = "en"
    """The device language the conversation is in ("en" or "zh"); the run sets [device] language to it."""

    @property
    def turns(self) -> int:
        return sum(len(s.turns) for s in self.sessions)


def _need(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise ScenarioError(f"{where}: {message}")


def _strings(value: Any, where: str) -> list[str]:
    _need(isinstance(value, list) and all(isinstance(v, str) for v in value), where, "must be a list of strings")
    return list(value)


def _expect(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    _need(isinstance(raw, dict), where, "must be a mapping")
    unknown = set(raw) - EXPECT_KEYS
    _need(not unknown, where, f"unknown key(s) {sorted(unknown)}; known: {sorted(EXPECT_KEYS)}")
    out = dict(raw)
    for key in ("reply_has", "reply_lacks", "actions"):
        if key in out:
            out[key] = _strings(out[key], f"{where}.{key}")
    if "intent" in out:
        _need(isinstance(out["intent"], str), f"{where}.intent", "must be a string")
    if "state_after" in out:
        _need(out["state_after"] in ("idle", "listening"), f"{where}.state_after", "must be idle or listening")
    if "transcript" in out:
        _need(isinstance(out["transcript"], bool), f"{where}.transcript", "must be true or false")
    return out


def _turn(raw: Any, where: str, first: bool) -> Turn:
    _need(isinstance(raw, dict), where, "a turn must be a mapping with at least 'say'")
    unknown = set(raw) - {"say", "wake", "button", "expect", "voice"}
    _need(not unknown, where, f"unknown key(s) {sorted(unknown)}")
    say = raw.get("say")
    _need(isinstance(say, str), f"{where}.say", "must be a string (\"\" for silence)")
    button = raw.get("button")
    _need(button in (None, "ptt", "tap"), f"{where}.button", "must be ptt or tap")
    wake = raw.get("wake", first and button is None)
    _need(isinstance(wake, bool), f"{where}.wake", "must be true or false")
    _need(not (wake and button), where, "use either the wake word or a button, not both")
    _need(bool(say.strip()) or not (wake or button), where, "a silent turn cannot wake the device")
    voice = _voice(raw["voice"], f"{where}.voice").__dict__ if raw.get("voice") is not None else {}
    return Turn(say=say.strip(), wake=wake, button=button, expect=_expect(raw.get("expect"), f"{where}.expect"),
                voice={k: v for k, v in voice.items() if k in raw["voice"]} if voice else {})


def _voice(raw: Any, where: str) -> UserVoice:
    if raw is None:
        return UserVoice()
    _need(isinstance(raw, dict), where, "must be a mapping")
    unknown = set(raw) - VOICE_KEYS
    _need(not unknown, where, f"unknown key(s) {sorted(unknown)}; known: {sorted(VOICE_KEYS)}")
    for key, value in raw.items():
        _need(isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 3,
              f"{where}.{key}", "must be a number between 0 and 3")
    _need(raw.get("speed", 1) > 0 and raw.get("pitch", 1) > 0, where, "speed and pitch must be positive")
    return UserVoice(**{k: float(v) for k, v in raw.items()})


def scenario_for(profile: str | None) -> Path:
    """The scenario written for a device profile (edge/scenarios/<profile>.yaml), else the default.

    A profile changes what the device says (the car drops recommendations), so a scenario's
    expectations hold for the profile it was written for: `--profile car` runs car.yaml.
    """
    written = SCENARIO_DIR / f"{profile}.yaml" if profile else None
    return written if written is not None and written.is_file() else DEFAULT_SCENARIO


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and check a scenario file (default: edge/scenarios/default.yaml)."""
    path = Path(path).expanduser() if path else DEFAULT_SCENARIO
    if path.parent == Path(".") and not path.suffix and not path.exists():  # "zh" -> edge/scenarios/zh.yaml
        path = SCENARIO_DIR / f"{path.name}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc})") from None
    where = str(path)
    _need(isinstance(data, dict), where, "must be a mapping with 'sessions'")
    unknown = set(data) - {"name", "description", "profile", "language", "wer_tolerance", "user_voice", "sessions"}
    _need(not unknown, where, f"unknown key(s) {sorted(unknown)}")
    profile = data.get("profile")
    language = data.get("language", "en")
    _need(language in ("en", "zh"), f"{where}: language", "must be en or zh")
    _need(profile in (None, "speaker", "car"), f"{where}: profile", "must be speaker or car")
    tolerance = data.get("wer_tolerance", 0.25)
    _need(isinstance(tolerance, (int, float)) and 0 <= tolerance <= 1, f"{where}: wer_tolerance",
          "must be between 0 and 1")
    raw_sessions = data.get("sessions")
    _need(isinstance(raw_sessions, list) and raw_sessions, f"{where}: sessions", "must be a non-empty list")
    sessions = []
    for i, raw in enumerate(raw_sessions, 1):
        at = f"{where}: sessions[{i}]"
        _need(isinstance(raw, dict), at, "must be a mapping with 'turns'")
        unknown = set(raw) - {"name", "turns", "expect_after"}
        _need(not unknown, at, f"unknown key(s) {sorted(unknown)}")
        turns = raw.get("turns")
        _need(isinstance(turns, list) and turns, f"{at}.turns", "must be a non-empty list")
        after = raw.get("expect_after") or {}
        _need(isinstance(after, dict) and set(after) <= {"cloud_orders"}, f"{at}.expect_after",
              "only cloud_orders is known")
        if "cloud_orders" in after:
            _need(isinstance(after["cloud_orders"], int) and after["cloud_orders"] >= 0,
                  f"{at}.expect_after.cloud_orders", "must be a whole number")
        sessions.append(Session(
            name=str(raw.get("name") or f"session {i}"),
            turns=tuple(_turn(t, f"{at}.turns[{n}]", n == 1) for n, t in enumerate(turns, 1)),
            expect_after=dict(after)))
    return Scenario(name=str(data.get("name") or path.stem), path=path, sessions=tuple(sessions), profile=profile,
                    wer_tolerance=float(tolerance), voice=_voice(data.get("user_voice"), f"{where}: user_voice"),
                    description=str(data.get("description") or ""), language=language)
