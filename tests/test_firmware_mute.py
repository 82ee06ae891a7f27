"""Mute is a hard gate: while the switch is on, no audio frame gets past the MuteGate.

The integration tests drive the real chain: simulated MCU switch -> pty -> McuBridge -> MuteGate,
with numpy audio frames (edge.events.AudioChunk) fed through the gate as the device loop does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from edge.config import FirmwareSettings
from edge.events import AudioChunk
from edge.mcu_link import bridge_options
from firmware_bridge import McuBridge, MuteChanged, MuteGate
from firmware_bridge.sim import SimulatedMcu

FAST = {"heartbeat_seconds": 0.2, "ack_timeout": 0.1}


def timing(**firmware: float) -> dict[str, Any]:
    """McuBridge's timing: the device's [firmware] defaults with FAST's heartbeat and ACK timeout."""
    return bridge_options(FirmwareSettings(heartbeat_seconds=0.2, ack_timeout_seconds=0.1, **firmware))
RATE, FRAME = 16000, 1280  # 80 ms frames, as [audio] frame_ms


def chunk(i: int) -> AudioChunk:
    rng = np.random.default_rng(i)
    return AudioChunk(rng.uniform(-0.5, 0.5, FRAME).astype(np.float32), RATE, i * FRAME / RATE)


@pytest.fixture
def linked(tmp_path) -> Iterator[tuple[SimulatedMcu, McuBridge, MuteGate]]:
    with SimulatedMcu(tmp_path / "mcu", **FAST) as sim, \
            McuBridge(str(sim.link_path), **timing(reconnect_seconds=0.05)) as bridge:
        gate: MuteGate[AudioChunk] = MuteGate().attach(bridge)
        bridge.wait_connected(3.0)
        assert sim.wait_for(lambda: not gate.muted)
        yield sim, bridge, gate


def test_closed_until_told_then_passes_frames_unchanged():
    gate: MuteGate[AudioChunk] = MuteGate()
    frame = chunk(0)
    assert gate.muted and gate.passes(frame) is None
    gate.set_muted(False)
    assert gate.passes(frame) is frame
    assert (gate.passed, gate.blocked) == (1, 1)


def test_filter_drops_exactly_the_frames_that_arrive_while_muted():
    gate: MuteGate[int] = MuteGate(muted=False)

    def stream():
        for i in range(30):
            if i == 10:
                gate.set_muted(True)
            if i == 20:
                gate.set_muted(False)
            yield i

    assert list(gate.filter(stream())) == list(range(10)) + list(range(20, 30))


def test_listeners_hear_each_change_once_and_a_broken_one_is_contained():
    gate: MuteGate[int] = MuteGate(muted=False)
    heard: list[bool] = []
    gate.add_listener(lambda muted: 1 / 0)
    gate.add_listener(heard.append)
    for state in (True, True, False, False, True):
        gate.set_muted(state)
    assert heard == [True, False, True]


def test_mute_switch_on_the_mcu_blocks_every_frame(linked):
    sim, bridge, gate = linked
    downstream: list[AudioChunk] = []  # what wake word and ASR would receive
    for i in range(20):
        if (frame := gate.passes(chunk(i))) is not None:
            downstream.append(frame)
    assert len(downstream) == 20

    sim.set_mute(True)
    assert sim.wait_for(lambda: gate.muted)
    for i in range(20, 220):
        assert gate.passes(chunk(i)) is None
    assert len(downstream) == 20

    sim.set_mute(False)
    assert sim.wait_for(lambda: not gate.muted)
    assert gate.passes(chunk(300)) is not None


def test_no_frame_passes_while_muted_with_audio_flowing_concurrently(linked):
    sim, bridge, gate = linked
    leaked: list[int] = []
    passed: list[int] = []
    stop = threading.Event()

    def microphone() -> None:
        i = 0
        while not stop.is_set():
            before = gate.muted
            out = gate.passes(chunk(i % 8))
            after = gate.muted
            if out is not None:
                passed.append(i)
                if before and after:  # the gate was shut for the whole call and still let it through
                    leaked.append(i)
            i += 1

    feeder = threading.Thread(target=microphone)
    feeder.start()
    try:
        for _ in range(3):
            sim.set_mute(True)
            assert sim.wait_for(lambda: gate.muted)
            blocked_before = gate.blocked
            assert sim.wait_for(lambda b=blocked_before: gate.blocked > b + 100)
            sim.set_mute(False)
            assert sim.wait_for(lambda: not gate.muted)
            passed_before = len(passed)
            assert sim.wait_for(lambda p=passed_before: len(passed) > p + 100)
    finally:
        stop.set()
        feeder.join()
    assert leaked == []


def test_lost_mute_message_is_caught_by_the_next_heartbeat(linked):
    sim, bridge, gate = linked
    changes: list[MuteChanged] = []
    bridge.subscribe(lambda e: changes.append(e) if isinstance(e, MuteChanged) else None)
    sim.muted = True  # the switch moved, but its MUTE frame never made it onto the line
    assert sim.wait_for(lambda: gate.muted, timeout=2.0)
    assert changes[-1].source == "heartbeat"
    assert gate.passes(chunk(1)) is None


def test_losing_the_mcu_link_does_not_unmute(linked):
    sim, bridge, gate = linked
    sim.set_mute(True)
    assert sim.wait_for(lambda: gate.muted)
    sim.stop()
    assert sim.wait_for(lambda: not bridge.connected)
    assert gate.muted and gate.passes(chunk(2)) is None


def test_gate_opens_only_after_the_handshake_reports_the_switch_off(tmp_path):
    with SimulatedMcu(tmp_path / "mcu", muted=True, **FAST) as sim, \
            McuBridge(str(sim.link_path), **timing()) as bridge:
        gate: MuteGate[AudioChunk] = MuteGate().attach(bridge)
        bridge.wait_connected(3.0)
        assert gate.muted and gate.passes(chunk(0)) is None  # switch was on at boot
        sim.set_mute(False)
        assert sim.wait_for(lambda: not gate.muted)
        assert gate.passes(chunk(1)) is not None
