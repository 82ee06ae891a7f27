"""Building one device: every stage the loop drives, from settings and the model bundles.

Checks first, loads second (sherpa-onnx examples style): a missing bundle, catalog or audio
device stops here with the command that fixes it, before seconds go into loading models. The
order of `open_device` is the pipeline's own order, so reading it shows what a device is made of:
MCU link and mute gate, wake word, VAD + ASR, NLU + dialogue (over catalog, outbox, sync), TTS,
the reply sink, and the loop that ties them together. Every part gets what it uses through its
constructor: the one NLU serves the recognizer's early-endpoint check (on the audio thread) and
the dialogue (on the responder thread), and nothing is re-pointed after it is built.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.audio import AudioError, NullSink, WavSink, open_sink
from edge.config import Settings
from edge.events import Emit
from edge.mcu_link import bridge_for
from edge.memory import memory_mb, release_freed_memory, tune_allocator
from edge.pipeline import DeviceLoop
from edge.stages import Stages
from firmware_bridge import BridgeError, McuBridge, MuteGate
from firmware_bridge.sim import SimulatedMcu

log = logging.getLogger("edge.device")

MCU_CONNECT_SECONDS = 5.0
WARM_UP_TEXT = "Hello there."
WARM_UP_TEXT_ZH = "您好。"
"""The Mandarin voice's warm-up (it would spell the English one's letters out)."""
WARM_UP = {"en": (WARM_UP_TEXT, "I want to buy apples", "apples"), "zh": (WARM_UP_TEXT_ZH, "我想买苹果", "苹果")}
"""Per [device] language: the voice's first sentence, the first NLU line and catalog query (all warm-ups)."""
LANGUAGE_BUNDLES = {"en": ("nlu", "tts"), "zh": ("nlu-zh", "tts-zh")}
"""Per [device] language: the NLU and voice bundles the device loads."""


class DeviceError(RuntimeError):
    """A part of the device is missing or unusable; the message says how to fix it."""


class TimedUnderstander:
    """The dialogue's NLU, timed, so the loop can report NLU and dialogue time apart.

    `last_seconds` adds up every understand() since the caller set it to 0: a turn may read several lines
    (the command-word re-reading, the recognizer's other readings)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last_seconds = 0.0

    def understand(self, text: str) -> Any:
        began = time.perf_counter()
        try:
            return self.inner.understand(text)
        finally:
            self.last_seconds += time.perf_counter() - began

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SessionResponder:
    """The loop's Responder over a ShopSession (NLU + dialogue + catalog + outbox + sync).

    `nlu` is the TimedUnderstander the session was built with: its clock splits a turn's time.
    """

    def __init__(self, session: Any, nlu: TimedUnderstander) -> None:
        self.session = session
        self._nlu = nlu
        if getattr(session, "corrector", None) is not None:
            session.corrector.warm_spotter()  # phonemize the catalog now (correction, spotting), not in the first reply

    def answer(self, text: str, alternatives: Sequence[tuple[str, float]] = ()) -> tuple[Any, float, float]:
        """The turn as soon as its reply can be spoken; an order's way to the store comes from settle()."""
        began = time.perf_counter()
        self._nlu.last_seconds = 0.0
        turn = self.session.turn(text, settle=False, heard=True, alternatives=alternatives)
        total = time.perf_counter() - began
        return turn, self._nlu.last_seconds, max(0.0, total - self._nlu.last_seconds)

    def settle(self, turn: Any) -> Any:
        return self.session.settle(turn)

    def timeout(self) -> Any:
        return self.session.timeout()

    def waiting_for_answer(self) -> bool:
        return self.session.dialog.state.pending is not None


def sink_opener(spec: str, sample_rate: int) -> Any:
    """open_sink(n) for the loop: "speaker", "null", or a directory that gets reply-NNN.wav per reply.

    The speaker is opened once here to fail fast when there is none, then once per reply: a
    barge-in stops a sink for good, and the next reply needs a fresh one.
    """
    if spec == "null":
        return lambda n: NullSink(sample_rate)
    if spec == "speaker" or spec.startswith("speaker:"):
        open_sink(spec, sample_rate).close()
        return lambda n: open_sink(spec, sample_rate)
    folder = Path(spec).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioError(f"{folder}: cannot create the reply folder ({exc.strerror or exc})") from None
    return lambda n: WavSink(folder / f"reply-{n:03d}.wav", sample_rate)


@dataclass
class Models:
    """The loaded models of a device; one set serves every device opened over it (the simulator's sessions)."""

    wake: Any
    asr: Any
    """VAD + ASR, built with the early-endpoint check over `nlu`."""
    synthesizer: Any
    nlu: Any
    seconds: dict[str, float] = field(default_factory=dict)
    """Load time per model (seconds)."""


class LoadTimer:
    """Calls a loader and keeps its wall time by name: the load times `edge run`, `bench e2e` and the
    Wyoming server report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, load: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        value = load()
        self.seconds[name] = round(time.perf_counter() - began, 2)
        return value


def load_models(settings: Settings) -> Models:
    """TTS, NLU, VAD + ASR and wake word from the bundles; DeviceError saying how to build a missing one."""
    try:
        from edge.asr import completeness_check, recognizer_for_settings
    except ImportError as exc:
        raise DeviceError(f"the speech recognizer (edge.asr) is not available: {exc}") from None
    from edge.nlu import NluBundleError, Understander
    from edge.tts import TtsError, synthesizer_for_settings
    from edge.wake import WakeBundleError, confirmed_detector, detector_for_settings

    check_bundles(settings)
    # Before any model allocates: the malloc settings steer only what is allocated after them.
    tune_allocator(settings.memory)
    timed = LoadTimer()
    try:
        # The voice first: building its onnxruntime sessions briefly needs more than their resident
        # size, and on the smallest process that transient sets no peak (measured with the sherpa-onnx
        # voice: peak -27 MB vs loading it last).
        synthesizer = timed("tts", lambda: synthesizer_for_settings(settings))
        # onnxruntime allocates and tunes on the first run: pay it here, not in the first reply.
        timed("tts warm-up", lambda: synthesizer.voice.synthesize(WARM_UP[settings.device.language][0]))
        # Before the recognizer, which asks it on the audio thread whether a request is already
        # complete (early endpoint); the dialogue asks it again, and its cache answers.
        nlu = timed("nlu", lambda: Understander.from_settings(settings))
        # no partials: the loop shows none, and each partial decode holds up the audio thread,
        # which can push back the decode at the end of speech that the answer waits for
        asr = timed("asr", lambda: recognizer_for_settings(
            settings, partials=False, complete=completeness_check(settings, nlu.understand)))
        wake = timed("wake", lambda: detector_for_settings(settings))
        if settings.wake.second_look:
            wake = confirmed_detector(settings, wake, getattr(asr, "decode", None))
    except NluBundleError as exc:
        raise DeviceError(f"No usable NLU bundle under {settings.models.path} ({exc}). "
                          "Build it with: python -m export nlu") from None
    except (WakeBundleError, TtsError, OSError, ValueError) as exc:
        raise DeviceError(str(exc)) from None
    return Models(wake, asr, synthesizer, nlu, timed.seconds)


def attach_prompt(settings: Settings, asr: Any, session: Any) -> None:
    """Whisper's initial prompt over this session's catalog and dialogue ([asr] prompt, edge.asr.prompt):
    the recognizer asks it at each decode, the session tells it the products on screen after each turn."""
    from edge.asr.prompt import attach_prompt as attach

    prompt = attach(asr, settings.asr.prompt, settings.asr.prompt_tokens, session.catalog.conn,
                    (settings.asr.bias_bonus, settings.asr.bias_start_bonus))
    session.on_context = prompt.update if prompt is not None else None


def attach_catalog_check(asr: Any, catalog: Any) -> None:
    """The early endpoint (edge.asr.complete) waits out the full silence hold when the request names a product
    this catalog finds nothing for: the recognizer is built before the session that opens the catalog."""
    from edge.asr.complete import CompleteRequest

    complete = getattr(asr, "complete", None)
    if isinstance(complete, CompleteRequest):
        complete.knows = lambda product: bool(catalog.search(product, limit=1))


def warm_up_session(session: Any, user: str) -> None:
    """The first NLU run and catalog queries are several times slower than the rest: do them now."""
    _voice, line, query = WARM_UP[session.settings.device.language]
    session.nlu.understand(line)
    session.catalog.search(query, limit=3)
    session.catalog.recommend(user, [], 1)


@dataclass
class Device:
    """A built device: the loop and the parts that need closing."""

    loop: DeviceLoop
    session: Any
    gate: MuteGate
    bridge: McuBridge | None = None
    sim: SimulatedMcu | None = None
    load_seconds: dict[str, float] = field(default_factory=dict)
    owns_mcu: bool = True
    """Close the MCU link with the device (False when the caller passed one in to reuse)."""
    ready_memory: dict[str, float] = field(default_factory=dict)
    """RSS and peak when every part was loaded and warmed up (MB), before the first turn."""

    def close(self) -> None:
        self.loop.close()
        self.session.close()
        if self.owns_mcu and self.bridge is not None:
            self.bridge.close()
        if self.owns_mcu and self.sim is not None:
            self.sim.stop()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_bundles(settings: Settings) -> None:
    """Every bundle the loop loads is there (manifest.json); DeviceError naming the build command."""
    from edge.asr.models import WHISPER_BUNDLES

    asr = WHISPER_BUNDLES.get(settings.asr.model, "asr")  # [asr] model picks tiny.en (asr) or base (asr-base)
    nlu, tts = LANGUAGE_BUNDLES[settings.device.language]
    missing = [name for name in ("wake", "vad", asr, nlu, tts)
               if not (settings.models.path / name / "manifest.json").is_file()]
    if missing:
        names = " ".join(missing)
        raise DeviceError(f"model bundle(s) missing under {settings.models.path}: {names}. "
                          f"Build them with: python -m export {names}   (or python -m export all)")


def open_mcu(settings: Settings, serial: str | None, simulate: bool) -> tuple[McuBridge | None, SimulatedMcu | None]:
    """The MCU link: a serial port, a simulated MCU on a pty, or none (a laptop without one)."""
    port = serial or settings.firmware.serial_port
    sim = None
    if simulate:
        sim = SimulatedMcu(heartbeat_seconds=settings.firmware.heartbeat_seconds)
        port = sim.start()
    if not port:
        return None, None
    bridge = bridge_for(settings.firmware, port).start()
    try:
        bridge.wait_connected(MCU_CONNECT_SECONDS)
    except BridgeError as exc:  # the loop runs anyway, muted until the MCU says where the switch is
        log.warning("MCU not answering yet (%s); audio stays muted until it does", exc)
    return bridge, sim


def open_device(settings: Settings, data_dir: Path, *, output: str = "null", serial: str | None = None,
                sim_mcu: bool = False, broker_url: str | None = None, emit: Emit | None = None,
                models: Models | None = None, mcu: tuple[McuBridge | None, SimulatedMcu | None] | None = None,
                open_reply: Any = None) -> Device:
    """Load every stage (or reuse `models` and `mcu`) and return a started device.

    Raises DeviceError or AudioError with the fix; nothing is left open when it does.
    """
    from edge.dialog.session import SessionError, ShopSession

    open_reply = open_reply or sink_opener(output, settings.audio.output_rate)  # a bad output fails first
    check_bundles(settings)
    models = models or load_models(settings)
    bridge, sim = mcu if mcu is not None else open_mcu(settings, serial, sim_mcu)
    began = time.perf_counter()
    nlu = TimedUnderstander(models.nlu)
    try:
        session = ShopSession(settings, data_dir, broker_url=broker_url, nlu=nlu)
    except (SessionError, OSError, ValueError) as exc:
        if mcu is None and bridge is not None:
            bridge.close()
        if mcu is None and sim is not None:
            sim.stop()
        raise DeviceError(str(exc)) from None
    warm_up_session(session, settings.device.id)
    attach_prompt(settings, models.asr, session)
    attach_catalog_check(models.asr, session.catalog)
    loaded = {**models.seconds, "dialog": round(time.perf_counter() - began, 2)}
    gate: MuteGate = MuteGate(muted=bridge is not None)  # with an MCU: closed until it reports the switch
    sync = session.sync_client
    stages = Stages(
        gate=gate, wake=models.wake, asr=models.asr, responder=SessionResponder(session, nlu),
        synthesizer=models.synthesizer, open_sink=open_reply,
        set_led=(lambda pattern: bridge.set_led(pattern, wait=False)) if bridge is not None else None,
        online=(lambda: sync.connected.is_set()) if sync is not None else (lambda: None))
    loop = DeviceLoop(stages, settings, emit)
    if bridge is not None:
        gate.attach(bridge)
        bridge.subscribe(loop.on_mcu_event)
    if settings.memory.trim_after_reply:
        # Loading parsed every model file and tokenizer on the heap; what it freed would stay resident
        # until the first reply's trim (measured: ~6 MB per onnxruntime session after it is built).
        gc.collect()
        release_freed_memory()
    log.info("device ready (loaded in %s)", ", ".join(f"{k} {v:.1f} s" for k, v in loaded.items()))
    return Device(loop.start(), session, gate, bridge, sim, loaded, owns_mcu=mcu is None, ready_memory=memory_mb())
