"""The two command lines: `python -m firmware_bridge.sim` (driven on stdin) and `python -m edge mcu`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from firmware_bridge import ButtonPressed, McuBridge, MuteChanged, VolumeChanged
from tests.conftest import REPO
from tests.test_firmware_link import next_event, timing

FAST_ENV = {"VOICESHOP_FIRMWARE__HEARTBEAT_SECONDS": "0.2", "VOICESHOP_FIRMWARE__ACK_TIMEOUT_SECONDS": "0.1"}


class SimProcess:
    """`python -m firmware_bridge.sim --json` as a child process, commands in, JSON lines out."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "firmware_bridge.sim", "--json", *args], cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read_until(self, event: str) -> dict:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            record = json.loads(line)
            if record["event"] == event:
                return record
        raise AssertionError(f"simulator ended before a {event!r} line; stderr: {self.proc.stderr.read()}")

    def close(self) -> int:
        if self.proc.poll() is None:
            self.send("quit")
        return self.proc.wait(timeout=10)


@pytest.fixture
def sim_process(tmp_path) -> Iterator[tuple[SimProcess, str]]:
    link = str(tmp_path / "mcu")
    sim = SimProcess("--link", link, "--heartbeat", "0.2")
    pty = sim.read_until("pty")["value"]
    assert pty.startswith("/dev/") and os.path.realpath(link) == pty
    yield sim, link
    assert sim.close() == 0
    assert not os.path.lexists(link)  # the simulator removes its link on quit


def test_sim_cli_commands_reach_the_host(sim_process):
    sim, link = sim_process
    with McuBridge(link, **timing()) as host:
        host.wait_connected(5.0)
        assert sim.read_until("host")["value"] == "connected"
        sim.send("press")
        sim.send("ptt down")
        sim.send("mute on")
        sim.send("volume 12")
        assert next_event(host, ButtonPressed).kind == "short"
        assert next_event(host, ButtonPressed).kind == "ptt_down"
        assert next_event(host, MuteChanged).muted is True
        assert next_event(host, VolumeChanged).level == 12
        host.set_led("thinking")
        assert sim.read_until("led")["value"] == "thinking"
        sim.send("garbage 200")
        sim.send("unknown 0x7f")
        nack = sim.read_until("nack")["value"]
        assert nack["type"] == "0x7f" and nack["reason"] == 1
        sim.send("fly away")
        assert "unknown command" in sim.read_until("error")["value"]
        sim.send("status")
        status = sim.read_until("status")["value"]
        assert status["led"] == "thinking" and status["muted"] is True and status["volume"] == 12
        assert host.connected


def test_edge_mcu_sets_the_led_and_prints_events(sim_process, cli):
    sim, link = sim_process
    result = cli("edge", "mcu", "--serial", link, "--led", "listening", "--volume", "40", "--json", env=FAST_ENV)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["event"] for r in records][:2] == ["mute_changed", "link_up"]
    assert {"event": "led", "pattern": "listening", "acked": True} in records
    assert records[-1]["event"] == "stats" and records[-1]["errors"] == 0
    assert sim.read_until("led")["value"] == "listening"


def test_edge_mcu_with_the_simulator_in_process(cli):
    result = cli("edge", "mcu", "--sim-mcu", "--led", "thinking", "--json", env=FAST_ENV)
    assert result.returncode == 0, result.stderr
    assert {"event": "led", "pattern": "thinking", "acked": True} in map(json.loads, result.stdout.splitlines())


def test_edge_mcu_bad_input_and_missing_port(cli, tmp_path):
    bad = cli("edge", "mcu", "--sim-mcu", "--led", "disco")
    assert bad.returncode == 2 and "unknown LED pattern 'disco'" in bad.stderr and bad.stdout == ""
    missing = cli("edge", "mcu", "--serial", str(tmp_path / "none"), "--connect-timeout", "0.5", "--json")
    assert missing.returncode == 1
    assert "cannot open" in json.loads(missing.stdout.splitlines()[-1])["message"]
    assert "Traceback" not in missing.stderr


def test_version_mismatch_is_reported_by_edge_mcu(tmp_path, cli):
    link = str(tmp_path / "mcu")
    sim = SimProcess("--link", link, "--protocol", "2.0", "--firmware", "next-gen")
    try:
        sim.read_until("pty")
        result = cli("edge", "mcu", "--serial", link, "--connect-timeout", "3", "--json", env=FAST_ENV)
        assert result.returncode == 1
        message = json.loads(result.stdout.splitlines()[-1])["message"]
        assert "version mismatch" in message and "2.0" in message
    finally:
        assert sim.close() == 0
