"""`python -m firmware_bridge.sim`: run a simulated MCU and drive it with commands on stdin.

The first stdout line is `pty: PATH` (plus `link: PATH` with --link), so a script can start the
simulator in the background and connect the host to it. Then one line per thing the MCU shows or
hears (LED pattern, volume set by the host, host connected/lost, NACKs); with --json, one JSON
object per line instead. Commands, one per line:

    press | long | ptt down | ptt up      buttons (add "talk" for the push-to-talk button)
    mute on | mute off                     the mute switch
    volume N                               the volume knob (0-100)
    wake [SCORE]                           the DSP keyword spotter fires (score 0-1)
    garbage N                              N random bytes on the line
    unknown TYPE                           a frame with a type id the host does not know
    status                                 print the MCU's state
    quit

At the end of stdin the simulator keeps running (so it can be backgrounded) until quit or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
from typing import Any

from firmware_bridge.protocol import PROTOCOL_MAJOR, PROTOCOL_MINOR
from firmware_bridge.sim import SimulatedMcu


class Console:
    """Parses command lines into SimulatedMcu calls and prints what changes."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.lock = threading.Lock()
        self.mcu: SimulatedMcu | None = None

    def out(self, what: str, value: Any) -> None:
        with self.lock:
            if self.as_json:
                sys.stdout.write(json.dumps({"event": what, "value": value}, default=str) + "\n")
            else:
                sys.stdout.write(f"{what}: {value}\n")
            sys.stdout.flush()

    def on_change(self, what: str, value: Any) -> None:
        if what == "nack":
            value = {"type": f"0x{value.acked_type:02x}", "seq": value.acked_seq, "reason": value.reason}
        self.out(what, value)

    def status(self) -> dict[str, Any]:
        mcu = self.mcu
        assert mcu is not None
        return {"led": mcu.led.name.lower(), "muted": mcu.muted, "volume": mcu.volume,
                "host": mcu.handshaken, "host_heartbeats": mcu.host_heartbeats,
                "decoder_errors": mcu.decoder.stats.errors}

    def command(self, line: str) -> bool:
        """Run one command; False means quit. Bad commands print a message and change nothing."""
        mcu = self.mcu
        assert mcu is not None
        words = shlex.split(line.strip().lower()) if line.strip() else []
        if not words:
            return True
        verb, args = words[0], words[1:]
        button = "talk" if "talk" in args else "action"
        try:
            if verb == "quit":
                return False
            if verb == "press":
                mcu.press("short", button)
            elif verb == "long":
                mcu.press("long", button)
            elif verb == "ptt" and args[:1] in (["down"], ["up"]):
                mcu.press(f"ptt_{args[0]}", "talk" if "action" not in args else "action")
            elif verb == "mute" and args in (["on"], ["off"]):
                mcu.set_mute(args[0] == "on")
            elif verb == "volume" and len(args) == 1:
                mcu.turn_volume(int(args[0]))
            elif verb == "wake":
                mcu.dsp_wake(float(args[0]) if args else 0.9)
            elif verb == "garbage" and len(args) == 1:
                mcu.send_raw(os.urandom(int(args[0])))
            elif verb == "unknown" and len(args) == 1:
                mcu.send_frame(int(args[0], 0))
            elif verb == "status":
                self.out("status", self.status())
            else:
                self.out("error", f"unknown command {line.strip()!r} (see python -m firmware_bridge.sim --help)")
        except (ValueError, KeyError, IndexError) as exc:
            self.out("error", f"bad command {line.strip()!r}: {exc}")
        return True


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # leaves a blocking stdin read too, so stop() runs and the link goes away


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m firmware_bridge.sim", description="A simulated MCU on a pty pair.",
        epilog="commands, one per line on stdin:" + __doc__.split("Commands, one per line:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--link", metavar="PATH", help="also publish the pty as this symlink (stable across restarts)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="heartbeat interval (seconds)")
    parser.add_argument("--protocol", default=f"{PROTOCOL_MAJOR}.{PROTOCOL_MINOR}",
                        help="protocol version to claim, MAJOR.MINOR (to try a mismatch)")
    parser.add_argument("--firmware", default="voiceshop-sim 1.0", help="firmware name sent in HELLO_REPLY")
    parser.add_argument("--muted", action="store_true", help="start with the mute switch on")
    parser.add_argument("--volume", type=int, default=50, help="initial volume (0-100)")
    args = parser.parse_args(argv)
    try:
        major, minor = (int(x) for x in args.protocol.split("."))
    except ValueError:
        parser.error(f"--protocol must be MAJOR.MINOR, got {args.protocol!r}")

    console = Console(args.json)
    mcu = SimulatedMcu(args.link, major=major, minor=minor, firmware=args.firmware,
                       heartbeat_seconds=args.heartbeat, muted=args.muted, volume=args.volume,
                       on_change=console.on_change)
    console.mcu = mcu
    mcu.start()
    console.out("pty", mcu.path)
    if args.link:
        console.out("link", args.link)
    done = threading.Event()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for line in sys.stdin:
            if not console.command(line):
                done.set()
                break
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        mcu.stop()
    return 0
