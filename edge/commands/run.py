"""`python -m edge run`: the device loop, from a microphone or a WAV file to the speaker.

    python -m edge run --profile speaker --mic --sim-mcu
    python -m edge run --wav request.wav --output replies/ --json

States idle -> wake -> listening -> thinking -> speaking -> idle, the LED set on the MCU at each
(`--serial PORT` for a real board or a `python -m firmware_bridge.sim --link PATH` in another
terminal, `--sim-mcu` for one in-process, neither for no MCU). `--wav FILE` is the user's side of a
conversation: it is held while the device thinks and speaks, as a person waits for the answer
(`--realtime` plays it like a live microphone instead, so it can barge in). With `--json` stdout
carries one object per state change ({"event": "state"}), per turn ({"event": "turn"}: transcript,
intent, slots, reply, actions, latency_ms per stage) and a closing {"event": "summary"}.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
from pathlib import Path
from typing import Any

from edge.cli import add_demo_catalog_option, emit_json, fail, load_demo_catalog_if_asked
from edge.config import Settings
from edge.events import LoopEvent
from edge.memory import memory_mb
from edge.records import to_record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=("speaker", "car"), help="override [device] profile")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--wav", metavar="FILE", help="the user's audio from a WAV file (any rate/width)")
    source.add_argument("--mic", action="store_true", help="the default microphone (pyaudio), until Ctrl-C")
    mcu = parser.add_mutually_exclusive_group()
    mcu.add_argument("--serial", metavar="PORT", help="the MCU's serial port or pyserial URL")
    mcu.add_argument("--sim-mcu", action="store_true", help="a simulated MCU on a pty, in this process")
    parser.add_argument("--output", default="speaker", metavar="SPEC",
                        help="where replies go: speaker (default), null, or a directory for reply-NNN.wav")
    parser.add_argument("--realtime", action="store_true", help="play --wav at the microphone's pace (barge-in)")
    parser.add_argument("--db", metavar="DIR", help="device data dir (default: [device] data_dir)")
    parser.add_argument("--broker", metavar="URL", help="sync orders through this broker (default: [broker] url)")
    add_demo_catalog_option(parser)



class Printer:
    """The loop's events to stdout, from the audio and responder threads alike: with --json one
    object per line in edge.records' shape, otherwise a line a person reads."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.lock = threading.Lock()

    def __call__(self, event: LoopEvent) -> None:
        self.show(to_record(event))

    def show(self, record: dict[str, Any]) -> None:
        with self.lock:
            if self.as_json:
                emit_json(record)
            elif record["event"] == "state":
                print(f"[{record['at']:7.2f}] {record['previous']} -> {record['state']}", flush=True)
            elif record["event"] == "turn":
                lat = record["latency_ms"]
                print(f"  you:    {record['transcript']!r}  ({record['intent']})\n  device: {record['reply']}\n"
                      f"  end of speech -> first audio {lat['eos_to_first_audio']} ms", flush=True)
            else:
                print(f"  {record}", flush=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from edge.audio import AudioError, open_source
    from edge.device import DeviceError, open_device

    if args.profile:
        settings = dataclasses.replace(settings, device=dataclasses.replace(settings.device, profile=args.profile))
    data_dir = Path(args.db).expanduser() if args.db else settings.device.data_path
    try:
        source = open_source(args.wav if args.wav else "mic", settings.audio.sample_rate, settings.audio.frame_ms)
    except AudioError as exc:
        fail(str(exc))
    failed = load_demo_catalog_if_asked(args, data_dir, settings)
    if failed is not None:
        fail(failed)
    printer = Printer(args.json)
    try:
        device = open_device(settings, data_dir, output=args.output, serial=args.serial, sim_mcu=args.sim_mcu,
                             broker_url=args.broker, emit=printer)
    except (DeviceError, AudioError) as exc:
        source.close()
        fail(str(exc))
    try:
        device.loop.run(source, realtime=args.realtime, pause_while_busy=bool(args.wav) and not args.realtime)
    except KeyboardInterrupt:
        pass
    except AudioError as exc:
        print(f"python -m edge run: {exc}", file=sys.stderr)
    finally:
        source.close()
        counts = {**device.loop.counts, **memory_mb(), "ready_rss_mb": device.ready_memory.get("rss_mb"),
                  "ready_anon_mb": device.ready_memory.get("anon_mb"), "ready_file_mb": device.ready_memory.get("file_mb")}
        leds = None
        if device.sim is not None:  # LEDs are set without waiting for the ACK: let the last one land
            device.sim.wait_for(lambda: device.sim.led.name.lower() == device.loop.led, 2.0)
            leds = [p.name.lower() for p in device.sim.led_history]
        device.close()
    printer.show({"event": "summary", "profile": settings.device.profile, **counts, "led_history": leds,
             "load_seconds": device.load_seconds})
    return 0
