"""`python -m edge mcu`: talk to the microcontroller: handshake, set an LED or volume, watch its events.

The bring-up tool for a new board: it shows whether the MCU answers, which protocol and firmware it
speaks, where its switches are, and prints every button, mute, volume and DSP-wake event as it
happens. With --sim-mcu it runs against the simulated MCU instead of a serial port.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import queue
import time
from typing import Any, NoReturn

from edge.cli import WORLD_FAILED, emit_json, fail
from edge.config import Settings
from edge.mcu_link import bridge_for
from firmware_bridge import BridgeError, LedPattern, McuBridge
from firmware_bridge.sim import SimulatedMcu

log = logging.getLogger("edge.mcu")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--serial", metavar="PORT",
                       help="serial port or pyserial URL (default: [firmware] serial_port)")
    where.add_argument("--sim-mcu", action="store_true", help="start a simulated MCU on a pty and use it")
    parser.add_argument("--led", metavar="PATTERN",
                        help=f"set this LED pattern ({', '.join(p.name.lower() for p in LedPattern)})")
    parser.add_argument("--volume", type=int, metavar="N", help="set the volume (0-100)")
    parser.add_argument("--watch", type=float, default=0.0, metavar="SECONDS",
                        help="then print MCU events for this long (negative: until Ctrl-C)")
    parser.add_argument("--connect-timeout", type=float, default=5.0, metavar="SECONDS",
                        help="how long to wait for the handshake")


def _record(event: Any) -> dict[str, Any]:
    name = "".join("_" + c.lower() if c.isupper() else c for c in type(event).__name__).lstrip("_")
    return {"event": name, **dataclasses.asdict(event)}


def _show(args: argparse.Namespace, record: dict[str, Any]) -> None:
    if args.json:
        emit_json(record)
    else:
        fields = " ".join(f"{k}={v}" for k, v in record.items() if k not in ("event", "timestamp"))
        print(f"{record['event']}: {fields}", flush=True)



def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.led is not None:
        try:
            LedPattern.parse(args.led)
        except ValueError as exc:
            fail(str(exc))
    if args.volume is not None and not 0 <= args.volume <= 100:
        fail(f"--volume must be 0-100, got {args.volume}")
    sim = None
    port = args.serial or settings.firmware.serial_port
    if not port and not args.sim_mcu:
        fail("no MCU configured: pass --serial PORT or --sim-mcu, or set [firmware] serial_port")
    if args.sim_mcu:
        sim = SimulatedMcu(heartbeat_seconds=settings.firmware.heartbeat_seconds)
        port = sim.start()
    try:
        with bridge_for(settings.firmware, port) as bridge:
            return _session(args, bridge)
    finally:
        if sim is not None:
            sim.stop()


def _failed(args: argparse.Namespace, exc: BridgeError) -> NoReturn:
    """The link failed (the world, not the command line): an error record for --json, then exit 1."""
    if args.json:
        emit_json({"event": "error", "message": str(exc)})
    fail(str(exc), WORLD_FAILED)


def _print_queued(args: argparse.Namespace, bridge: McuBridge) -> None:
    while True:
        try:
            _show(args, _record(bridge.events.get_nowait()))
        except queue.Empty:
            return


def _session(args: argparse.Namespace, bridge: McuBridge) -> int:
    try:
        bridge.wait_connected(args.connect_timeout)
    except BridgeError as exc:
        return _failed(args, exc)
    _print_queued(args, bridge)  # link_up and the switch state first
    try:
        if args.led is not None:
            bridge.set_led(args.led)
            _show(args, {"event": "led", "pattern": LedPattern.parse(args.led).name.lower(), "acked": True})
        if args.volume is not None:
            bridge.set_volume(args.volume)
            _show(args, {"event": "volume_set", "level": args.volume, "acked": True})
    except BridgeError as exc:
        return _failed(args, exc)
    end = time.monotonic() + args.watch if args.watch >= 0 else float("inf")
    while True:
        try:
            event = bridge.events.get(timeout=max(0.0, min(0.2, end - time.monotonic())))
            _show(args, _record(event))
        except queue.Empty:
            if time.monotonic() >= end:
                break
    stats = bridge.decoder.stats
    _show(args, {"event": "stats", "frames": stats.frames, "errors": stats.errors,
                 "retransmits": bridge.acks.retransmits, **bridge.counters})
    return 0
