"""The device loop with every real part: wake word, VAD + Whisper, NLU, dialogue, Piper voice, MCU.

A WAV with the wake phrase and a request drives `python -m edge run` through every state, with each
LED pattern seen by the simulated MCU; a WAV without the phrase never wakes; the mute switch keeps
every frame from the wake word and the recognizer (counted at their inputs); a wake word while the
device speaks stops the reply (barge-in); the car's push-to-talk button opens the microphone; an
unreachable broker shows the offline LED while an order placed meanwhile waits in the outbox.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.audio import WavSource
from edge.config import WakeSettings
from edge.device import load_models, open_device
from edge.mcu_link import bridge_for
from edge.simulation.driver import Recorder, User
from edge.simulation.world import demo_catalog, device_dir
from edge.text.wer import word_error_rate
from firmware_bridge import LedPattern
from firmware_bridge.sim import SimulatedMcu
from tests.conftest import MODELS_DIR
from tests.pipeline_rig import BUNDLES, RATE, edge_run, settings_for, speaker, with_silence, write

pytestmark = pytest.mark.slow

PHRASE = WakeSettings.phrase
"""The default wake phrase, which the default wake bundle listens for."""
# The reply asks "how many?", so the device listens on without a wake word; the file then ends in
# silence, the question times out and the device says so before going idle.
EVERY_STATE = ["wake", "listening", "thinking", "speaking", "listening", "thinking", "speaking", "idle"]


@pytest.fixture(scope="module")
def catalog(bundle) -> Path:
    for name in BUNDLES:
        bundle(name)
    return demo_catalog(MODELS_DIR)


@pytest.fixture(scope="module")
def voice(catalog):
    return speaker()


@pytest.fixture(scope="module")
def models(catalog):
    return load_models(settings_for())


def _dedupe(items: list[str]) -> list[str]:
    return [x for i, x in enumerate(items) if i == 0 or items[i - 1] != x]


def test_wake_phrase_then_request_drives_every_state(catalog, voice, tmp_path: Path) -> None:
    audio = with_silence(voice.wake_and_say(PHRASE, "I want to buy apples"))
    replies = tmp_path / "replies"
    records, result = edge_run(write(tmp_path / "request.wav", audio), device_dir(catalog, tmp_path),
                               "--sim-mcu", "--output", str(replies))
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r["state"] for r in records if r["event"] == "state"] == EVERY_STATE, records
    turns = [r for r in records if r["event"] == "turn"]
    assert [t["kind"] for t in turns] == ["turn", "timeout"], records
    turn = turns[0]
    assert word_error_rate("I want to buy apples", turn["transcript"]) <= 0.25, turn["transcript"]
    assert turn["intent"] == "add_to_cart" and "$" in turn["reply"], turn
    assert all(turn["latency_ms"][k] is not None for k in ("endpoint", "asr", "nlu", "dialog", "tts_first_audio",
                                                            "eos_to_first_audio")), turn["latency_ms"]
    summary = records[-1]
    assert summary["event"] == "summary" and summary["turns"] == 2
    assert _dedupe(summary["led_history"]) == ["idle", *EVERY_STATE], summary["led_history"]
    reply = replies / "reply-001.wav"
    assert reply.is_file() and reply.stat().st_size > 22050 * 2, "the reply was not spoken"


class Rig:
    """One in-process device on the simulated MCU, with the simulated user at its microphone."""

    def __init__(self, models: Any, catalog: Path, root: Path, *, muted: bool = False, profile: str = "speaker",
                 broker_url: str | None = None, open_reply: Any = None) -> None:
        self.settings = settings_for(profile)
        self.sim = SimulatedMcu(muted=muted)
        self.bridge = bridge_for(self.settings.firmware, self.sim.start()).start()
        self.bridge.wait_connected(5.0)
        self.recorder = Recorder()
        self.device = open_device(self.settings, device_dir(catalog, root), models=models, mcu=(self.bridge, self.sim),
                                  emit=self.recorder, broker_url=broker_url or "", open_reply=open_reply)
        self.loop = self.device.loop
        self.user = User(RATE, self.settings.audio.frame_ms, mcu=self.sim)
        self.user.attach(self.loop, self.recorder)

    def events(self, kind: str) -> list[dict[str, Any]]:
        return self.recorder.since(0, kind)

    def close(self) -> None:
        self.device.close()
        self.bridge.close()
        self.sim.stop()


def test_speech_without_the_wake_phrase_never_wakes(models, catalog, voice, tmp_path: Path) -> None:
    audio = with_silence(voice.say("I want to buy apples"), voice.say("Yes, place the order."),
                         voice.say("Shopping list."))
    rig = Rig(models, catalog, tmp_path)
    try:
        rig.loop.run(WavSource(write(tmp_path / "no-wake.wav", audio)), pause_while_busy=True)
        counts = rig.loop.counts
        assert rig.recorder.records == [], rig.recorder.records
        assert counts["wake_in"] == counts["frames"] > 50
        assert counts["asr_in"] == 0 and counts["turns"] == 0
        assert [p.name.lower() for p in rig.sim.led_history] == ["idle"]
    finally:
        rig.close()


def _until(predicate: Any, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.02)
    return predicate()


def test_mute_is_a_hard_gate(models, catalog, voice, tmp_path: Path) -> None:
    rig = Rig(models, catalog, tmp_path, muted=True)
    try:
        request = voice.wake_and_say(PHRASE, "I want to buy apples")
        played = rig.user.play(request, "I want to buy apples", button=None, timeout=2.0)
        counts = rig.loop.counts
        assert counts["wake_in"] == 0 and counts["asr_in"] == 0, counts
        assert counts["blocked"] == counts["frames"] > 20
        assert played.record is None and rig.events("state") == []
        assert _until(lambda: rig.sim.led == LedPattern.MUTED)

        rig.sim.set_mute(False)
        assert _until(lambda: not rig.device.gate.muted)
        played = rig.user.play(request, "I want to buy apples", button=None, timeout=2.0)
        assert played.record is not None and played.record["intent"] == "add_to_cart", played
        assert played.state_after == "listening"  # the reply asked how many

        # Muted while the device listens for the answer: nothing more reaches the recognizer.
        before = dict(rig.loop.counts)
        rig.sim.set_mute(True)
        assert _until(lambda: rig.device.gate.muted)
        rig.user.feed(with_silence(voice.say("Two bags, please.")))
        after = rig.loop.counts
        assert (after["wake_in"], after["asr_in"]) == (before["wake_in"], before["asr_in"]), (before, after)
        assert after["blocked"] > before["blocked"]
        assert rig.loop.state == "idle" and _until(lambda: rig.sim.led == LedPattern.MUTED)
        assert len(rig.events("turn")) == 1
    finally:
        rig.close()


class PacedSink:
    """A stand-in for a speaker without a sound card: writes take as long as the audio lasts."""

    def __init__(self, sample_rate: int = 22050) -> None:
        self.sample_rate, self.seconds, self.stopped = sample_rate, 0.0, False

    def write(self, samples: np.ndarray) -> None:
        if self.stopped:
            return
        duration = len(samples) / self.sample_rate
        end = time.monotonic() + duration
        while not self.stopped and time.monotonic() < end:
            time.sleep(0.01)
        self.seconds += duration

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        pass


def test_wake_word_while_speaking_stops_the_reply(models, catalog, voice, tmp_path: Path) -> None:
    rig = Rig(models, catalog, tmp_path, open_reply=lambda n: PacedSink())
    try:
        rig.user.feed(with_silence(voice.wake_and_say(PHRASE, "I want to buy apples"), gap=0.2))
        assert _until(lambda: rig.loop.state == "speaking" or not rig.loop.busy, 30.0)
        while rig.loop.state in ("wake", "listening"):  # the endpoint needs its silence
            rig.user.silence(0.08)
        assert _until(lambda: rig.loop.state == "speaking", 30.0), rig.loop.state
        played = rig.user.play(voice.wake_and_say(PHRASE, "what's in my cart"), "what's in my cart",
                               button=None, timeout=2.0)
        assert [r["event"] for r in rig.recorder.records].count("barge_in") == 1
        first, second = rig.events("turn")[:2]
        assert first["barged_in"] and first["intent"] == "add_to_cart"
        assert played.record is second and second["intent"] == "view_cart", second
    finally:
        rig.close()


def test_car_push_to_talk_opens_the_microphone(models, catalog, voice, tmp_path: Path) -> None:
    rig = Rig(models, catalog, tmp_path, profile="car")
    try:
        played = rig.user.play(voice.say("I want to buy apples"), "I want to buy apples", button="ptt", timeout=2.0)
        assert played.record is not None and played.record["source"] == "button", played
        assert played.record["intent"] == "add_to_cart"
        assert played.states[:2] == ["wake", "listening"]
        assert rig.loop.counts["wake_in"] < rig.loop.counts["frames"]
    finally:
        rig.close()


def test_unreachable_broker_shows_offline_and_orders_queue(models, catalog, voice, tmp_path: Path) -> None:
    from cloud.broker import free_port

    rig = Rig(models, catalog, tmp_path, broker_url=f"mqtt://127.0.0.1:{free_port()}")
    try:
        rig.user.silence(0.5)
        assert _until(lambda: rig.sim.led == LedPattern.OFFLINE), rig.sim.led
        lines = ["I want to buy apples", "Two bags, please.", "I'm ready to check out.", "Yes, place the order."]
        for n, line in enumerate(lines):
            clip = voice.wake_and_say(PHRASE, line) if n == 0 else voice.say(line)
            played = rig.user.play(clip, line, button=None, timeout=2.0)
            assert played.record is not None, (line, rig.recorder.records[-5:])
        assert played.record["intent"] == "confirm" and "queued" in played.record["reply"], played.record
        orders = rig.device.session.outbox.list()
        assert len(orders) == 1 and orders[0].state in ("confirmed", "queued"), orders  # kept for later
        rig.user.end_session(rig.settings.dialog.turn_timeout_seconds)
        assert rig.loop.state == "idle" and _until(lambda: rig.sim.led == LedPattern.OFFLINE)
        assert "listening" in [p.name.lower() for p in rig.sim.led_history]
    finally:
        rig.close()
