"""The one table `python -m bench all` ends with: each benchmark adds its headline figures here.

Every benchmark prints its own detailed table as it goes; `add()` keeps the few figures a reader
compares across runs (with the goal and the anchor they are judged against), and `render()` turns
them into one Markdown table headed by the date, the machine and its load, ready for docs/measured/per_goal.md.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    area: str
    measure: str
    value: str
    goal: str = ""
    anchor: str = ""
    """The reference measured in the same run (faster-whisper, piper-tts, FP32, raw paho, ...)."""


ROWS: list[Row] = []


def add(area: str, measure: str, value: str, goal: str = "", anchor: str = "") -> None:
    ROWS.append(Row(area, measure, value, goal, anchor))


def machine() -> str:
    """CPU model, cores and memory, as /proc tells them (falls back to platform on other systems)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        model = names[0] if names else model
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            kib = int(meminfo.readline().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    except OSError:
        memory = ""
    return f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.machine()}, Python {platform.python_version()}"


def render(started: float, seconds: float) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [f"`python -m bench all`, {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, "
             f"{seconds / 60:.0f} min; {machine()}; load average at the end {load}", "",
             "| area | measure | value | goal | anchor (same run) |", "|---|---|---|---|---|"]
    lines += [f"| {r.area} | {r.measure} | {r.value} | {r.goal} | {r.anchor} |" for r in ROWS]
    return "\n".join(lines)
