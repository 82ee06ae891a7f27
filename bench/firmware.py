"""`python -m bench firmware`: what the MCU link costs: request latency, decoder speed, idle CPU.

Each figure is printed next to an anchor measured in the same process, so the ratio says what the
protocol adds over the bare mechanism:
- set_led round trip (frame out, simulated MCU applies it, ACK back) vs. a bare pty echo of the
  same number of bytes;
- the streaming FrameDecoder vs. bare cobs.decode + CRC on frames already split at the 0x00s;
- CPU time of the bridge's supervisor thread while idle (1 s heartbeats), per core.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
import tty
from pathlib import Path

import serial
from cobs import cobs

from bench import summary
from edge.config import FirmwareSettings
from edge.mcu_link import bridge_for
from firmware_bridge.framing import Frame, FrameDecoder, crc16, encode_frame
from firmware_bridge.sim import SimulatedMcu


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], ordered[-1]


def led_round_trips(count: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp, SimulatedMcu(Path(tmp) / "mcu") as sim, \
            bridge_for(FirmwareSettings(), str(sim.link_path)) as bridge:
        bridge.wait_connected(5.0)
        patterns = ["listening", "thinking", "speaking", "idle"]
        times = []
        for i in range(count):
            start = time.perf_counter()
            bridge.set_led(patterns[i % 4])
            times.append(time.perf_counter() - start)
        return times


def pty_echo_round_trips(count: int, size: int) -> list[float]:
    """Anchor: write `size` bytes to a pty and read them back through an echoing thread."""
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def echo() -> None:
        while not stop.is_set():
            try:
                os.write(master, os.read(master, 4096))
            except OSError:
                return

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    port = serial.Serial(os.ttyname(slave), timeout=1.0)
    payload = bytes(range(1, size + 1))
    times = []
    for _ in range(count):
        start = time.perf_counter()
        port.write(payload)
        port.read(size)
        times.append(time.perf_counter() - start)
    stop.set()
    port.close()
    os.close(slave)
    os.close(master)
    return times


def decoder_rates(count: int) -> tuple[float, float]:
    rng = random.Random(8)
    frames = [Frame(rng.randrange(256), i & 0xFF, rng.randbytes(rng.randrange(0, 8))) for i in range(count)]
    wire = b"".join(encode_frame(f) for f in frames)
    start = time.perf_counter()
    decoder = FrameDecoder()
    decoded = 0
    for i in range(0, len(wire), 256):
        decoded += len(decoder.feed(wire[i:i + 256]))
    ours = time.perf_counter() - start
    assert decoded == count
    pieces = [p for p in wire.split(b"\x00") if p]
    start = time.perf_counter()
    for piece in pieces:
        raw = cobs.decode(piece)
        crc16(raw[:-2])
    anchor = time.perf_counter() - start
    return count / ours, count / anchor


def idle_cpu(seconds: float) -> float:
    """Share of one core used by the bridge's supervisor thread with a quiet MCU attached."""
    with tempfile.TemporaryDirectory() as tmp, SimulatedMcu(Path(tmp) / "mcu") as sim, \
            bridge_for(FirmwareSettings(), str(sim.link_path)) as bridge:
        bridge.wait_connected(5.0)
        native = bridge._thread.native_id if bridge._thread else None
        stat = Path(f"/proc/self/task/{native}/stat")
        if native is None or not stat.exists():
            return float("nan")

        def ticks() -> int:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime

        before, start = ticks(), time.monotonic()
        time.sleep(seconds)
        used = (ticks() - before) / os.sysconf("SC_CLK_TCK")
        return used / (time.monotonic() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench firmware", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="set_led round trips to time")
    parser.add_argument("--frames", type=int, default=20000, help="frames for the decoder rate")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="how long to sample idle CPU")
    args = parser.parse_args(argv)

    led = _percentiles(led_round_trips(args.requests))
    echo = _percentiles(pty_echo_round_trips(args.requests, len(encode_frame(Frame(0x20, 1, b"\x02")))))
    ours, anchor = decoder_rates(args.frames)
    cpu = idle_cpu(args.idle_seconds)

    print("firmware_bridge (simulated MCU on a pty; anchors in the same process)")
    print(f"{'measure':44} {'p50':>9} {'p95':>9} {'max':>9} {'vs anchor':>10}")
    print(f"{'set_led round trip with ACK (ms)':44} {led[0]*1e3:9.3f} {led[1]*1e3:9.3f} {led[2]*1e3:9.3f} "
          f"{led[0]/echo[0]:9.1f}x")
    print(f"{'  anchor: bare pty echo, same bytes (ms)':44} {echo[0]*1e3:9.3f} {echo[1]*1e3:9.3f} "
          f"{echo[2]*1e3:9.3f} {'1.0x':>10}")
    print(f"{'FrameDecoder (frames/s)':44} {ours:9.0f} {'':9} {'':9} {ours/anchor:9.2f}x")
    print(f"{'  anchor: bare cobs.decode + CRC (frames/s)':44} {anchor:9.0f} {'':9} {'':9} {'1.00x':>10}")
    print(f"{'idle bridge thread, % of one core':44} {cpu*100:9.2f}")
    summary.add("MCU link", "set_led round trip with ACK over a pty, p50", f"{led[0] * 1e3:.2f} ms", "",
                f"bare pty echo {echo[0] * 1e3:.2f} ms")
    return 0
