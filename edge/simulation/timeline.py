"""The live timeline in the terminal: one row per turn, updated as the device moves between states.

Each row: what the user said, what the device heard, the intent, the reply, the per-stage
latencies (wake, endpoint, ASR, NLU, dialogue, TTS first audio, end of speech -> first reply audio)
and whether the turn met the scenario's expectations. Below the table, the device's state and LED
right now. Drawn with rich's Live display on a terminal; elsewhere the rows are printed as they come.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from edge.simulation.report import end_to_end

STAGES = (("wake", "wake"), ("endpoint", "endpt"), ("asr", "asr"), ("nlu", "nlu"), ("dialog", "dlg"),
          ("tts_first_audio", "tts 1st"))


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


class Timeline:
    """Rows of turns plus a status line; `live` draws in place, otherwise rows print one by one."""

    def __init__(self, console: Console | None = None, *, live: bool | None = None, title: str = "") -> None:
        self.console = console or Console()
        self.live_mode = self.console.is_terminal if live is None else live
        self.title = title
        self.rows: list[dict[str, Any]] = []
        self.status = "starting"
        self._live: Live | None = None

    def __enter__(self) -> Timeline:
        if self.live_mode:
            self._live = Live(self._render(), console=self.console, refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(*exc)
            self._live = None

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def on_record(self, record: dict[str, Any]) -> None:
        """Recorder listener: keeps the status line current."""
        if record["event"] == "state":
            self.status = f"device {record['state']}" + (f" ({record['source']})" if record.get("source") else "")
            self._refresh()
        elif record["event"] == "barge_in":
            self.status = "barge-in: the device stopped speaking"
            self._refresh()

    def note(self, text: str) -> None:
        self.status = text
        if self._live is None:
            self.console.print(f"[dim]{text}[/dim]")
        self._refresh()

    def add(self, row: dict[str, Any]) -> None:
        """row: session, turn, said, record (the device's turn record or None), failures."""
        self.rows.append(row)
        if self._live is None:
            self.console.print(self._lines(row), highlight=False)
        self._refresh()

    @staticmethod
    def _lines(row: dict[str, Any]) -> Text:
        """One turn as three short lines, for logs and narrow or non-interactive outputs."""
        record = row.get("record") or {}
        latency = record.get("latency_ms") or {}
        stages = "  ".join(f"{label} {_ms(latency.get(key))}" for key, label in STAGES)
        text = Text(f"{row['turn']:>2} you:    {row['said'] or '(silence)'}\n", style="bold")
        text.append(f"   heard:  {record.get('transcript') or '–'}  [{record.get('intent') or '–'}]\n")
        text.append(f"   device: {record.get('reply') or '–'}\n")
        text.append(f"   ms: {stages}  eos→audio {_ms(end_to_end(record))}  ")
        text.append("✓" if not row["failures"] else "✗ " + "; ".join(row["failures"]),
                    style="green" if not row["failures"] else "red")
        return text

    def _table(self, rows: list[dict[str, Any]]) -> Table:
        table = Table(title=self.title, expand=True, show_lines=True)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("device heard", ratio=3)
        table.add_column("intent", no_wrap=True)
        table.add_column("device said", ratio=5)
        for _key, label in STAGES:
            table.add_column(label, justify="right", no_wrap=True)
        table.add_column("eos→audio", justify="right", no_wrap=True)
        table.add_column("ok", no_wrap=True)
        for row in rows:
            record = row.get("record") or {}
            latency = record.get("latency_ms") or {}
            ok = Text("✓", style="green") if not row["failures"] else Text("✗ " + "; ".join(row["failures"]),
                                                                          style="red")
            table.add_row(str(row["turn"]), record.get("transcript") or f"({row['said'] or 'silence'})",
                          record.get("intent") or "", record.get("reply") or "",
                          *(_ms(latency.get(key)) for key, _ in STAGES), _ms(end_to_end(record)), ok)
        return table

    def save_svg(self, path: Any, width: int = 160) -> None:
        """The final timeline as an SVG picture (a terminal screenshot for reports and the README)."""
        import io

        recorder = Console(record=True, width=width, file=io.StringIO(), force_terminal=True)
        recorder.print(self._table(self.rows))
        recorder.save_svg(str(path), title="python -m edge.simulate")

    def _render(self) -> Group:
        return Group(self._table(self.rows), Text(self.status, style="bold cyan"))
