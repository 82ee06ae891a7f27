"""The host bridge against the simulated MCU over a real pty: handshake, events, acks, errors, reconnects.

Timings are shortened (200 ms heartbeats, 100 ms ACK timeouts) so the whole file runs in seconds; the
logic is the same as with the 1 s / 250 ms defaults.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from edge.config import FirmwareSettings
from edge.mcu_link import bridge_options
from firmware_bridge import (
    AckTimeout,
    ButtonPressed,
    DspWake,
    LinkDown,
    LinkUp,
    McuBridge,
    MuteChanged,
    NotConnected,
    VersionMismatch,
    VolumeChanged,
)
from firmware_bridge.protocol import ButtonMsg, LedPattern, MsgType, NackReason
from firmware_bridge.sim import SimulatedMcu

FAST = {"heartbeat_seconds": 0.2, "ack_timeout": 0.1}


def timing(**firmware: float) -> dict[str, Any]:
    """McuBridge's timing: the device's [firmware] defaults with FAST's heartbeat and ACK timeout."""
    return bridge_options(FirmwareSettings(heartbeat_seconds=0.2, ack_timeout_seconds=0.1, **firmware))


def next_event(bridge: McuBridge, kind: type, timeout: float = 10.0):
    """The next event of this kind from the bridge's queue (skipping others). The timeout only bounds the
    wait for an event that must come: 2 s ran out once on a 2-core machine busy with a model build."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            event = bridge.events.get(timeout=max(0.0, end - time.monotonic()))
        except queue.Empty:
            break
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} within {timeout} s")


def drain(bridge: McuBridge) -> list:
    out = []
    while not bridge.events.empty():
        out.append(bridge.events.get_nowait())
    return out


@pytest.fixture
def sim(tmp_path) -> Iterator[SimulatedMcu]:
    mcu = SimulatedMcu(tmp_path / "mcu", **FAST)
    mcu.start()
    yield mcu
    mcu.stop()


@pytest.fixture
def bridge(sim) -> Iterator[McuBridge]:
    with McuBridge(str(sim.link_path), **timing(reconnect_seconds=0.05)) as host:
        host.wait_connected(3.0)
        yield host


def test_handshake_reports_firmware_version_and_switch_state(tmp_path):
    with SimulatedMcu(tmp_path / "mcu", muted=True, volume=30, firmware="fw 2.3", **FAST) as mcu, \
            McuBridge(str(mcu.link_path), **timing()) as host:
        info = host.wait_connected(3.0)
        assert (info.firmware, info.major, info.has_dsp_wake, info.has_ptt) == ("fw 2.3", 1, True, True)
        up = next_event(host, LinkUp)
        assert up.muted is True and up.volume == 30 and up.version == "1.0"
        assert host.muted is True and host.volume == 30
        assert mcu.wait_for(lambda: mcu.host_heartbeats >= 2)  # heartbeats flow both ways
        assert mcu.handshaken


def test_set_led_waits_for_the_ack(sim, bridge):
    for name in ("listening", "thinking", "speaking", "idle"):
        bridge.set_led(name)
        assert sim.led == LedPattern[name.upper()]  # applied before the ACK came back
    assert sim.led_history == [LedPattern.LISTENING, LedPattern.THINKING, LedPattern.SPEAKING, LedPattern.IDLE]
    bridge.set_volume(35)
    assert sim.volume == 35


def test_lost_request_is_retried_and_applied_once(sim, bridge):
    sim.drop_incoming[MsgType.SET_LED] = 2  # the first two tries vanish on the line
    bridge.set_led("wake")
    assert sim.led == LedPattern.WAKE
    assert bridge.acks.retransmits == 2


def test_request_times_out_when_the_mcu_never_answers(sim, bridge):
    sim.drop_incoming[MsgType.SET_LED] = 1000
    with pytest.raises(AckTimeout, match="no answer after 4 tries"):  # 1 try + 3 retries
        bridge.set_led("error")
    assert sim.led != LedPattern.ERROR
    assert bridge.connected  # one unanswered request does not end the session


def test_mcu_events_arrive_as_typed_events(sim, bridge):
    drain(bridge)
    sim.press("short")
    sim.press("long")
    sim.press("ptt_down", "talk")
    sim.press("ptt_up", "talk")
    assert [(e.kind, e.button) for e in (next_event(bridge, ButtonPressed) for _ in range(4))] == [
        ("short", "action"), ("long", "action"), ("ptt_down", "talk"), ("ptt_up", "talk")]
    sim.set_mute(True)
    assert next_event(bridge, MuteChanged) == MuteChanged(True, "switch", pytest.approx(time.monotonic(), abs=2))
    sim.turn_volume(80)
    assert next_event(bridge, VolumeChanged).level == 80
    sim.dsp_wake(1.0, keyword=2)
    wake = next_event(bridge, DspWake)
    assert wake.score == 1.0 and wake.keyword == 2
    assert sim.wait_for(lambda: not sim._outbox)  # every event was ACKed by the host


def test_retransmitted_event_is_delivered_once(sim, bridge):
    drain(bridge)
    seq = sim._send(ButtonMsg(1, 0))
    sim._send(ButtonMsg(1, 0), seq)  # as if our ACK had been lost
    sim.press("long")
    assert next_event(bridge, ButtonPressed).kind == "short"
    assert next_event(bridge, ButtonPressed).kind == "long"
    assert not [e for e in drain(bridge) if isinstance(e, ButtonPressed)]


def test_unknown_message_type_gets_a_nack_and_the_link_carries_on(sim, bridge):
    seq = sim.send_frame(0x7E, b"from the future")
    assert sim.wait_for(lambda: any(n.acked_seq == seq for n in sim.nacks_received))
    nack = sim.nacks_received[-1]
    assert (nack.acked_type, nack.reason) == (0x7E, NackReason.UNKNOWN_TYPE)
    bad = sim.send_frame(MsgType.VOLUME, b"\xff")  # known type, volume 255 is out of range
    assert sim.wait_for(lambda: any(n.acked_seq == bad for n in sim.nacks_received))
    assert sim.nacks_received[-1].reason == NackReason.BAD_PAYLOAD
    wrong = sim.send_frame(MsgType.SET_LED, b"\x01")  # only the host may send SET_LED
    assert sim.wait_for(lambda: any(n.acked_seq == wrong for n in sim.nacks_received))
    assert sim.nacks_received[-1].reason == NackReason.WRONG_DIRECTION
    assert bridge.connected
    bridge.set_led("thinking")
    assert sim.led == LedPattern.THINKING


def test_garbage_on_the_line_is_skipped(sim, bridge):
    drain(bridge)
    for noise in (b"\xff" * 300, b"boot v1.2\r\n", bytes(range(256)), b"\x00\x00\x07\x01"):
        sim.send_raw(noise)
        sim.press("short")
    assert [next_event(bridge, ButtonPressed).kind for _ in range(4)] == ["short"] * 4
    assert bridge.decoder.stats.errors >= 3
    bridge.set_led("listening")
    assert bridge.connected


def test_version_mismatch_is_refused_with_a_clear_message(tmp_path):
    with SimulatedMcu(tmp_path / "mcu", major=2, minor=1, firmware="fw-next", **FAST) as mcu, \
            McuBridge(str(mcu.link_path), **timing()) as host:
        with pytest.raises(VersionMismatch, match=r"MCU 'fw-next' speaks protocol 2\.1, host speaks 1\.0"):
            host.wait_connected(3.0)
        assert not host.connected and not mcu.handshaken
        with pytest.raises(NotConnected):
            host.set_led("idle")


def test_reconnects_after_the_simulator_restarts(tmp_path):
    link = tmp_path / "mcu"
    first = SimulatedMcu(link, **FAST)
    first.start()
    with McuBridge(str(link), **timing(reconnect_seconds=0.05)) as host:
        host.wait_connected(3.0)
        host.set_led("speaking")
        first.stop()  # unplugged
        assert "port error" in next_event(host, LinkDown).reason
        with pytest.raises(NotConnected):
            host.set_led("error")
        host.set_led("thinking", wait=False)  # fire-and-forget never raises, and is remembered
        second = SimulatedMcu(link, muted=True, **FAST)
        second.start()  # plugged back in (new pty, same path)
        try:
            host.wait_connected(3.0)
            assert next_event(host, LinkUp).muted is True
            assert second.wait_for(lambda: second.led == LedPattern.THINKING)  # wanted LED re-sent
            host.set_led("idle")
            assert second.led == LedPattern.IDLE
            assert host.counters["sessions"] >= 2
        finally:
            second.stop()


def test_silent_mcu_times_out_and_the_link_comes_back(sim, bridge):
    drain(bridge)
    sim.silent = True  # firmware hangs: no heartbeats, no ACKs
    assert "no frame from the MCU" in next_event(bridge, LinkDown).reason
    sim.silent = False
    next_event(bridge, LinkUp, timeout=3.0)
    bridge.set_led("idle")


def test_mcu_reboot_is_noticed_when_it_refuses_a_request(sim, bridge):
    drain(bridge)
    bridge.set_led("listening")
    sim.reboot()
    with pytest.raises(NotConnected, match="lost our session"):
        bridge.set_led("thinking")  # NACK: handshake required
    assert "restarted" in next_event(bridge, LinkDown).reason
    next_event(bridge, LinkUp, timeout=3.0)
    assert sim.wait_for(lambda: sim.led == LedPattern.THINKING)  # the wanted LED is re-sent


def test_mcu_reboot_is_noticed_from_its_silence(sim, bridge):
    drain(bridge)
    bridge.set_led("speaking")
    sim.reboot()  # a rebooted MCU sends no heartbeats until it hears HELLO
    assert "no frame from the MCU" in next_event(bridge, LinkDown).reason
    next_event(bridge, LinkUp, timeout=3.0)
    assert sim.wait_for(lambda: sim.led == LedPattern.SPEAKING)


def test_no_port_at_all_is_a_clear_error(tmp_path):
    with McuBridge(str(tmp_path / "nothing"), **timing(reconnect_seconds=0.05)) as host, \
            pytest.raises(NotConnected, match="cannot open"):
        host.wait_connected(0.3)


def test_a_failing_subscriber_does_not_stop_the_bridge(sim, bridge):
    calls = []

    def broken(event):
        calls.append(event)
        raise RuntimeError("subscriber bug")

    bridge.subscribe(broken)
    sim.press("short")
    assert next_event(bridge, ButtonPressed).kind == "short"
    assert calls and bridge.connected
    bridge.set_led("idle")


def settle(bridge: McuBridge) -> None:
    """Give a stale retransmission every chance to arrive: longer than all of a request's retries.

    Not a timing assertion: the test only checks state afterwards, and a slow machine only makes the
    window the bug needs wider.
    """
    time.sleep(bridge.ack_timeout * (bridge.retries + 2))


def test_a_lost_older_led_is_not_resent_after_a_newer_one(sim, bridge):
    sim.drop_incoming[MsgType.SET_LED] = 1  # 'listening' vanishes on the line; 'thinking' arrives
    bridge.set_led("listening", wait=False)  # the device loop never waits on LEDs
    bridge.set_led("thinking")
    settle(bridge)
    assert sim.led == LedPattern.THINKING
    assert sim.led_history == [LedPattern.THINKING]  # 'listening' never shows after 'thinking'
    assert bridge.acks.retransmits == 0


def test_a_lost_older_volume_is_not_resent_after_a_newer_one(sim, bridge):
    sim.drop_incoming[MsgType.SET_VOLUME] = 1
    bridge.set_volume(20, wait=False)
    bridge.set_volume(70)
    settle(bridge)
    assert sim.volume == 70 and bridge.volume == 70


def test_a_caller_waiting_on_a_superseded_led_gets_the_newer_ones_answer(sim, bridge):
    sim.drop_incoming[MsgType.SET_LED] = 1  # 'listening' is eaten, so it is still waiting
    errors: list[Exception] = []

    def first() -> None:
        try:
            bridge.set_led("listening")
        except Exception as exc:
            errors.append(exc)

    waiter = threading.Thread(target=first)
    waiter.start()
    assert sim.wait_for(lambda: sim.drop_incoming[MsgType.SET_LED] == 0)
    bridge.set_led("thinking")
    waiter.join(timeout=3.0)
    assert not waiter.is_alive() and errors == []  # neither an error nor a hang for the first caller
    assert sim.led == LedPattern.THINKING


def test_an_older_led_whose_ack_was_lost_is_not_resent_after_a_newer_one(sim, bridge):
    sim.drop_outgoing[MsgType.ACK] = 1  # the MCU shows 'listening' but its ACK is lost
    bridge.set_led("listening", wait=False)
    bridge.set_led("thinking")
    settle(bridge)
    assert sim.led == LedPattern.THINKING
    assert sim.led_history == [LedPattern.LISTENING, LedPattern.THINKING]


def test_a_lost_older_mute_event_is_not_resent_after_a_newer_one(tmp_path):
    with SimulatedMcu(tmp_path / "mcu", muted=True, **FAST) as mcu, \
            McuBridge(str(mcu.link_path), **timing()) as host:
        host.wait_connected(3.0)
        drain(host)
        mcu.drop_outgoing[MsgType.MUTE] = 1
        mcu.set_mute(False)  # lost on the line
        mcu.set_mute(True)  # arrives; the host stays muted
        settle(host)
        changes = [e.muted for e in drain(host) if isinstance(e, MuteChanged)]
        assert False not in changes  # a stale 'off' would open the mic while the switch is on
        assert host.muted is True
