"""Device settings: one frozen dataclass per stage, loaded from TOML and the environment.

Precedence, lowest to highest: the defaults shipped in ``edge/default_config.toml``, a user file
(``--config FILE`` or ``$VOICESHOP_CONFIG``), then environment variables named
``VOICESHOP_<SECTION>__<KEY>`` (nested tables add more ``__``, e.g.
``VOICESHOP_PROFILES__CAR__MAX_RESULTS=1``). Everything is validated here, in one place, so a
typo in a device maker's config file fails at start-up with the key and the file named, instead of
surfacing as an odd behaviour an hour into a drive.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")
ENV_PREFIX = "VOICESHOP_"


class ConfigError(ValueError):
    """A config value is unknown, mistyped or out of range; the message names key and source."""


@dataclass(frozen=True)
class DeviceSettings:
    """Who this device is and which profile it runs."""

    id: str = "dev-0001"
    """Device id; also the MQTT username and the topic segment under voiceshop/v1/devices/."""

    profile: Literal["speaker", "car"] = "speaker"
    """Device profile: a smart speaker or a car head unit (see [profiles])."""

    data_dir: str = "~/.local/share/voiceshop"
    """Directory for the device's SQLite files (catalog, outbox) and logs."""

    @property
    def data_path(self) -> Path:
        """data_dir with ~ expanded."""
        return Path(self.data_dir).expanduser()


@dataclass(frozen=True)
class ModelSettings:
    """Where the built model bundles live."""

    dir: str = "~/.cache/voiceshop/models"
    """Directory holding one sub-directory per bundle (nlu, asr, vad, tts, wake), each with manifest.json."""

    @property
    def path(self) -> Path:
        """dir with ~ expanded."""
        return Path(self.dir).expanduser()


@dataclass(frozen=True)
class RuntimeSettings:
    """How models are executed."""

    provider: str = "cpu"
    """Execution provider for onnxruntime and sherpa-onnx ("cpu", "cuda", "coreml", "qnn", "nnapi", ...)."""

    strict_provider: bool = False
    """Fail instead of warning and falling back to CPU when the provider is missing from the wheel."""


@dataclass(frozen=True)
class MemorySettings:
    """How the device keeps its resident memory flat over a session (edge/memory.py says why)."""

    tts_arena: bool = False
    """onnxruntime's CPU arena for the Piper voice: on keeps ~100 MB of clause buffers for good, off
    costs some CPU per clause (on/off)."""

    asr_arena: bool = True
    """onnxruntime's CPU arena for Whisper: off saves ~40 MB but a decode takes ~1.6x the CPU (on/off)."""

    mmap_threshold_kb: int = 256
    """glibc malloc maps blocks at least this big and unmaps them on free; 0 keeps glibc's sliding
    default, which lets big tensors fragment the heap (KiB)."""

    trim_after_reply: bool = True
    """Give freed heap pages back to the kernel (malloc_trim) after each reply, while it plays (on/off)."""


@dataclass(frozen=True)
class ThreadSettings:
    """Intra-op threads per stage (on a busy 2-core box, 1 is often fastest: measure)."""

    wake: int = 1
    """Threads for the wake-word models."""

    vad: int = 1
    """Threads for the Silero VAD."""

    asr: int = 1
    """Threads for the Whisper encoder/decoder."""

    nlu: int = 1
    """Threads for the intent/slot model and the sentence encoder."""

    tts: int = 1
    """Threads for the VITS voice."""


@dataclass(frozen=True)
class BrokerSettings:
    """The MQTT broker the device syncs orders and catalog deltas through."""

    url: str = ""
    """mqtt://host:port or mqtts://host:port; empty means the simulator starts an embedded broker."""

    username: str = ""
    """MQTT username (per device; defaults to the device id when empty)."""

    password: str = ""
    """MQTT password."""

    ca_file: str = ""
    """CA certificate (PEM) for mqtts:// URLs; empty uses the system store."""

    keepalive_seconds: int = 30
    """MQTT keep-alive interval (seconds)."""

    protocol: Literal["auto", "5", "3.1.1"] = "auto"
    """MQTT version: "auto" tries 5 and falls back to 3.1.1 when the broker refuses it (amqtt)."""

    client_id: str = ""
    """Fixed MQTT client id for the persistent session; empty means "voiceshop-<device id>"."""

    session_expiry_seconds: int = 604800
    """How long the broker keeps the device's session and queued messages while offline (seconds, MQTT 5)."""

    backoff_initial_seconds: float = 0.5
    """First reconnect delay; doubles per failed attempt, with full jitter (seconds)."""

    backoff_max_seconds: float = 60.0
    """Longest reconnect delay (seconds)."""

    ack_timeout_seconds: float = 30.0
    """An order not acked by the cloud this long after publishing is published again; doubles per attempt (seconds)."""

    max_inflight: int = 100
    """Orders published but not yet acknowledged by the broker (PUBACK) at any one time (messages)."""


@dataclass(frozen=True)
class AudioSettings:
    """Microphone and speaker."""

    sample_rate: int = 16000
    """Rate every source is resampled to before wake word, VAD and ASR (hertz)."""

    frame_ms: int = 80
    """Length of one audio frame handed between stages (milliseconds, 10-100)."""

    output_rate: int = 22050
    """Sample rate of the speaker sink (hertz); synthesis is resampled to it."""


@dataclass(frozen=True)
class AsrSettings:
    """Voice activity detection, endpointing and recognition."""

    min_silence_seconds: float = 0.5
    """Silence that ends a request (seconds)."""

    relaxed_min_silence_seconds: float = 1.0
    """Silence that ends a request in relaxed mode, for slow speakers (seconds)."""

    relaxed: bool = False
    """Use relaxed_min_silence_seconds instead of min_silence_seconds."""

    vad_threshold: float = 0.5
    """Silero speech probability above which a frame counts as speech (0-1)."""

    partial_interval_seconds: float = 0.5
    """Re-decode the growing segment for a partial transcript this often (seconds of speech)."""

    max_segment_seconds: float = 28.0
    """Split segments longer than this at a low-energy point (Whisper drops audio past 29.5 s)."""

    pause_seconds: float = 0.12
    """Silence after speech that counts as a pause: the speculative decode starts here (seconds)."""

    early_endpoint_seconds: float = 0.3
    """Silence that ends a request early when what was heard so far is already a complete request (the NLU is confident and it does not end in "of", "and", "um", ...); 0 always waits min_silence_seconds; relaxed mode always does (seconds)."""

    early_endpoint_confidence: float = 0.8
    """NLU intent probability the text heard so far needs for an early endpoint (0-1)."""

    tail_padding_frames: int = 1000
    """Zero feature frames sherpa appends to each segment so Whisper finds its end (10 ms frames)."""

    engine: Literal["whisper", "online"] = "whisper"
    """Recognizer: "whisper" (VAD + the shipped Whisper bundle) or "online" (a streaming transducer)."""

    online_model_dir: str = ""
    """Directory of a sherpa-onnx streaming transducer (encoder/decoder/joiner + tokens.txt) for engine "online"."""


@dataclass(frozen=True)
class TtsSettings:
    """Speech synthesis."""

    speed: float = 1.0
    """Speaking rate multiplier (1.0 = the voice's own)."""

    first_clause_words: int = 2
    """Most words in a reply's first synthesized clause: fewer means sooner first audio. 2 rather than 4:
    first audio p50 105 vs 147 ms, p95 155 vs 258 ms on the scenario's replies (same process, load 1.5);
    the clause joins the next without a gap, at some cost in prosody across the cut (words)."""

    max_clause_words: int = 10
    """Most words in each later clause, synthesized while the previous one plays; the voice's working
    memory grows with a clause's length, ~17 MB per second of speech (words)."""


@dataclass(frozen=True)
class WakeSettings:
    """Wake word."""

    phrase: str = "hey shop"
    """The wake phrase the wake model listens for (a packaged model's own phrase when one is chosen)."""

    model: str = "custom"
    """Which model listens: "custom" (the head `python -m export wake --phrase` trained) or a packaged one
    from `python -m export wake-packaged` ("hey_mycroft", "hey_mycroft_synthetic", "alexa", "wake_up")."""

    threshold: float = 0.5
    """Score above which the custom model fires (0-1)."""

    packaged_threshold: float = 0.0
    """Score above which a packaged model fires (0-1); 0 uses the model's own calibrated threshold."""

    refractory_seconds: float = 2.0
    """Seconds after a detection during which no second detection fires."""

    request_preroll_seconds: float = 0.3
    """Audio from just before the wake word fired handed to the recognizer, so a request said in the same breath keeps its first word (seconds)."""


@dataclass(frozen=True)
class NluSettings:
    """Intent and slot understanding."""

    min_confidence: float = 0.5
    """Intent confidence below which the dialogue reprompts once (0-1)."""


@dataclass(frozen=True)
class DialogSettings:
    """Shopping dialogue and purchase safety."""

    purchasing_enabled: bool = True
    """False switches ordering off entirely (browsing and questions still work)."""

    spending_limit_cents: int = 10000
    """Orders above this total ask for the voice PIN (cents)."""

    pin: str = ""
    """4-digit voice PIN; empty means orders above the limit are refused."""

    max_quantity: int = 20
    """Quantities above this are questioned before they reach the cart (items)."""

    cancel_window_seconds: int = 900
    """How long after confirmation an order can still be cancelled by voice (seconds)."""

    turn_timeout_seconds: float = 8.0
    """Silence after a question before the device gives up waiting (seconds)."""

    sync_wait_seconds: float = 2.0
    """How long the order confirmation waits for the cloud's ack before saying "queued" (seconds)."""


@dataclass(frozen=True)
class ProfileSettings:
    """Behaviour that differs between a speaker and a car."""

    max_results: int = 3
    """Search results read out per answer."""

    short_replies: bool = False
    """Shorter answers (cars: keep the driver's attention on the road)."""

    push_to_talk: bool = False
    """Accept the push-to-talk button as well as the wake word."""


@dataclass(frozen=True)
class ProfilesSettings:
    """The two shipped profiles."""

    speaker: ProfileSettings = field(default_factory=ProfileSettings)
    """Smart-speaker profile."""

    car: ProfileSettings = field(
        default_factory=lambda: ProfileSettings(max_results=2, short_replies=True, push_to_talk=True)
    )
    """Car head-unit profile."""


@dataclass(frozen=True)
class FirmwareSettings:
    """Serial link to the device's microcontroller."""

    serial_port: str = ""
    """Serial device (e.g. /dev/ttyACM0); empty means no MCU (or --sim-mcu)."""

    baudrate: int = 115200
    """Serial baud rate (bits per second)."""

    heartbeat_seconds: float = 1.0
    """Interval between heartbeats to the MCU (seconds); 3 silent intervals end the link."""

    ack_timeout_seconds: float = 0.25
    """Wait this long for the MCU's ACK before re-sending a request (seconds)."""

    retries: int = 3
    """Re-sends of an unanswered request before giving up (count)."""

    reconnect_seconds: float = 0.5
    """Wait between attempts to reopen a vanished serial port (seconds)."""


@dataclass(frozen=True)
class CatalogSettings:
    """The offline product catalog and how it is kept in sync."""

    public_key_file: str = ""
    """Ed25519 public key (PEM or hex) catalog snapshots/deltas must be signed with; empty: <data_dir>/catalog_signing.pub."""

    semantic_search: bool = True
    """Add sentence-embedding similarity to search when the NLU bundle matches the catalog's vectors (on/off)."""


@dataclass(frozen=True)
class Settings:
    """Everything the device reads at start-up."""

    device: DeviceSettings = field(default_factory=DeviceSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    threads: ThreadSettings = field(default_factory=ThreadSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    wake: WakeSettings = field(default_factory=WakeSettings)
    nlu: NluSettings = field(default_factory=NluSettings)
    dialog: DialogSettings = field(default_factory=DialogSettings)
    profiles: ProfilesSettings = field(default_factory=ProfilesSettings)
    firmware: FirmwareSettings = field(default_factory=FirmwareSettings)
    catalog: CatalogSettings = field(default_factory=CatalogSettings)

    @property
    def profile(self) -> ProfileSettings:
        """The settings of the active device profile."""
        return getattr(self.profiles, self.device.profile)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (for `python -m edge config --json`)."""
        return dataclasses.asdict(self)


# Range checks that types alone cannot express: (section path, key) -> (predicate, what it must be).
_RANGES: dict[tuple[str, str], tuple[typing.Callable[[Any], bool], str]] = {
    ("audio", "frame_ms"): (lambda v: 10 <= v <= 100, "between 10 and 100"),
    ("tts", "speed"): (lambda v: 0.25 <= v <= 4.0, "between 0.25 and 4"),
    ("tts", "first_clause_words"): (lambda v: 1 <= v <= 40, "between 1 and 40"),
    ("tts", "max_clause_words"): (lambda v: 1 <= v <= 60, "between 1 and 60"),
    ("audio", "sample_rate"): (lambda v: v == 16000, "16000 (the models' rate)"),
    ("audio", "output_rate"): (lambda v: 8000 <= v <= 192000, "between 8000 and 192000"),
    ("asr", "vad_threshold"): (lambda v: 0.0 < v < 1.0, "between 0 and 1"),
    ("asr", "max_segment_seconds"): (lambda v: 1.0 <= v <= 29.0, "between 1 and 29"),
    ("asr", "pause_seconds"): (lambda v: 0.05 <= v <= 1.0, "between 0.05 and 1"),
    ("asr", "tail_padding_frames"): (lambda v: 50 <= v <= 2000, "between 50 and 2000"),
    ("asr", "min_silence_seconds"): (lambda v: 0.1 <= v <= 5.0, "between 0.1 and 5"),
    ("asr", "relaxed_min_silence_seconds"): (lambda v: 0.1 <= v <= 5.0, "between 0.1 and 5"),
    ("asr", "partial_interval_seconds"): (lambda v: 0.1 <= v <= 10.0, "between 0.1 and 10"),
    ("asr", "early_endpoint_seconds"): (lambda v: 0.0 <= v <= 2.0, "between 0 and 2"),
    ("asr", "early_endpoint_confidence"): (lambda v: 0.0 <= v <= 1.0, "between 0 and 1"),
    ("wake", "threshold"): (lambda v: 0.0 < v < 1.0, "between 0 and 1"),
    ("wake", "packaged_threshold"): (lambda v: 0.0 <= v < 1.0, "between 0 and 1 (0: the model's own)"),
    ("wake", "model"): (lambda v: v == "custom" or (v.replace("_", "").isalnum() and v.islower()),
                        "\"custom\" or a packaged model name such as \"hey_mycroft\""),
    ("wake", "request_preroll_seconds"): (lambda v: 0.0 <= v <= 2.0, "between 0 and 2"),
    ("nlu", "min_confidence"): (lambda v: 0.0 <= v < 1.0, "between 0 and 1"),
    ("dialog", "pin"): (lambda v: v == "" or (len(v) == 4 and v.isdigit()), "empty or 4 digits"),
    ("dialog", "max_quantity"): (lambda v: v >= 1, "at least 1"),
    ("broker", "keepalive_seconds"): (lambda v: 5 <= v <= 3600, "between 5 and 3600"),
    ("broker", "backoff_initial_seconds"): (lambda v: 0.01 <= v <= 60, "between 0.01 and 60"),
    ("broker", "backoff_max_seconds"): (lambda v: 0.1 <= v <= 3600, "between 0.1 and 3600"),
    ("broker", "ack_timeout_seconds"): (lambda v: 0.1 <= v <= 86400, "between 0.1 and 86400"),
    ("broker", "max_inflight"): (lambda v: 1 <= v <= 65535, "between 1 and 65535"),
    ("broker", "session_expiry_seconds"): (lambda v: 0 <= v <= 4294967295, "between 0 and 2^32-1"),
    ("profiles.speaker", "max_results"): (lambda v: 1 <= v <= 10, "between 1 and 10"),
    ("profiles.car", "max_results"): (lambda v: 1 <= v <= 10, "between 1 and 10"),
    ("firmware", "baudrate"): (lambda v: 300 <= v <= 4_000_000, "between 300 and 4000000"),
    ("firmware", "heartbeat_seconds"): (lambda v: 0.01 <= v <= 60, "between 0.01 and 60"),
    ("firmware", "ack_timeout_seconds"): (lambda v: 0.005 <= v <= 10, "between 0.005 and 10"),
    ("firmware", "retries"): (lambda v: 0 <= v <= 20, "between 0 and 20"),
    ("firmware", "reconnect_seconds"): (lambda v: 0.01 <= v <= 300, "between 0.01 and 300"),
}
_RANGES[("memory", "mmap_threshold_kb")] = (lambda v: v == 0 or 16 <= v <= 32768, "0 or between 16 and 32768")
for _name in ("wake", "vad", "asr", "nlu", "tts"):
    _RANGES[("threads", _name)] = (lambda v: 1 <= v <= 64, "between 1 and 64")


def _check_type(value: Any, hint: Any, where: str) -> Any:
    """Return value coerced to hint (int -> float only), or raise ConfigError naming where."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(f"{where}: must be one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {type(value).__name__} {value!r}")
        return value
    if hint in (str, bool):
        if not isinstance(value, hint):
            raise ConfigError(f"{where}: expected {hint.__name__}, got {type(value).__name__} {value!r}")
        return value
    if origin in (types.UnionType, typing.Union):  # pragma: no cover - no optional fields yet
        raise ConfigError(f"{where}: unsupported union type")
    raise ConfigError(f"{where}: unsupported type {hint!r}")


def _build(cls: type, data: Mapping[str, Any], base: Any, path: str, source: str) -> Any:
    """Overlay data onto the dataclass instance base, validating each key against cls."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else key
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{dotted}' (known: {', '.join(sorted(known))})")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: '{dotted}' must be a table, got {type(value).__name__}")
            changes[key] = _build(hint, value, getattr(base, key), dotted, source)
            continue
        value = _check_type(value, hint, f"{source}: '{dotted}'")
        check = _RANGES.get((path, key))
        if check and not check[0](value):
            raise ConfigError(f"{source}: '{dotted}' must be {check[1]}, got {value!r}")
        changes[key] = value
    return dataclasses.replace(base, **changes)


def _parse_env_value(raw: str, hint: Any, where: str) -> Any:
    """Environment values are strings; read them as the field's type wants."""
    if hint is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected a boolean (true/false), got {raw!r}")
    if hint is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{where}: expected an integer, got {raw!r}") from None
    if hint is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, got {raw!r}") from None
    return raw


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Turn VOICESHOP_A__B=v variables into a nested dict {a: {b: v}} with typed leaves."""
    tree: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name or name == "VOICESHOP_CONFIG":
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        cls: Any = Settings
        for part in parts[:-1]:
            hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
            cls = hints.get(part)
            if cls is None or not dataclasses.is_dataclass(cls):
                raise ConfigError(f"environment: unknown section in {name}")
        hints = typing.get_type_hints(cls)
        if parts[-1] not in hints:
            raise ConfigError(f"environment: unknown key in {name}")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_env_value(raw, hints[parts[-1]], f"environment: {name}")
    return tree


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_settings(
    config_file: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then the user's file, then the environment; raise ConfigError on anything wrong."""
    environ = os.environ if environ is None else environ
    settings = _build(Settings, _read_toml(DEFAULT_CONFIG_PATH), Settings(), "", str(DEFAULT_CONFIG_PATH))
    config_file = config_file or environ.get("VOICESHOP_CONFIG") or None
    if config_file:
        path = Path(config_file).expanduser()
        settings = _build(Settings, _read_toml(path), settings, "", str(path))
    return _build(Settings, _env_overrides(environ), settings, "", "environment")
