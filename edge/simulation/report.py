"""What a simulation leaves behind: a JSONL log, a PNG chart of per-stage latency and an HTML report.

The chart stacks, per turn, the stages between the end of the user's speech and the first reply
audio (the VAD's lag behind the real end of speech, the endpoint's silence wait, ASR, NLU, dialogue,
TTS first clause, and the loop's own time between them), with the measured end-to-end value as a
dot and the 650 ms goal as a line. The HTML page has the turns table with audio players for
what the user said and what the device answered, the expectations that failed, and the summary.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("edge.simulation.report")

CHAIN = (("endpoint", "endpoint wait", "#8fb3d9"), ("asr", "ASR", "#3d7ab8"), ("nlu", "NLU", "#f0b25a"),
         ("dialog", "dialogue", "#d9822b"), ("tts_first_audio", "TTS first audio", "#6aa84f"))
GOAL_MS = 650.0


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return path


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def end_to_end(record: dict[str, Any] | None) -> float | None:
    """End of speech -> first reply audio (ms): from the known end of the user's speech when the
    simulator added it, else from the device's own (VAD) estimate."""
    latency = (record or {}).get("latency_ms") or {}
    true = latency.get("true_eos_to_first_audio")
    return true if true is not None else latency.get("eos_to_first_audio")


def latency_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 of end of speech -> first reply audio over the turns that have it."""
    values = [v for v in (end_to_end(r.get("record")) for r in rows) if v is not None]
    return {"turns": len(values), "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
            "max_ms": max(values) if values else None}


def stacked(rows: list[dict[str, Any]]) -> tuple[tuple[str, str, str], ...]:
    """The chain's segments, with two derived ones filled into each record's latency_ms: the VAD's lag
    behind the real end of speech (simulator runs) and the loop's own time between stages."""
    for row in rows:
        lat = row["record"]["latency_ms"]
        if lat.get("true_eos_to_first_audio") is not None and lat.get("eos_to_first_audio") is not None:
            lat["vad_lag"] = round(lat["true_eos_to_first_audio"] - lat["eos_to_first_audio"], 1)
        if lat.get("endpoint_to_first_audio") is not None:
            parts = sum(lat.get(k) or 0.0 for k in ("asr", "nlu", "dialog", "tts_first_audio"))
            lat["loop_overhead"] = round(max(0.0, lat["endpoint_to_first_audio"] - parts), 1)
    return (("vad_lag", "speech end → VAD's end", "#c9d9ec"), *CHAIN[:1], *CHAIN[1:],
            ("loop_overhead", "between stages", "#999999"))


def latency_chart(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Stacked per-stage latency per turn (matplotlib, headless); None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no latency chart (pip install matplotlib)")
        return None
    timed = [r for r in rows if r.get("record") and r["record"].get("latency_ms")]
    fig, ax = plt.subplots(figsize=(max(7.5, 0.9 * len(timed) + 4), 4.2), dpi=110)
    x = np.arange(len(timed))
    bottom = np.zeros(len(timed))
    for key, label, colour in stacked(timed):
        values = np.array([r["record"]["latency_ms"].get(key) or 0.0 for r in timed])
        ax.bar(x, values, bottom=bottom, label=label, color=colour, width=0.6)
        bottom += values
    total = [end_to_end(r["record"]) for r in timed]
    ax.scatter([i for i, v in enumerate(total) if v is not None], [v for v in total if v is not None], color="black",
               zorder=3, label="end of speech → first audio")
    ax.axhline(GOAL_MS, color="#c0392b", linestyle="--", linewidth=1, label=f"goal {GOAL_MS:.0f} ms")
    ax.set_xticks(x, [f"{r['turn']}\n{(r['record'].get('intent') or '')[:12]}" for r in timed], fontsize=8)
    ax.set_ylabel("milliseconds")
    ax.set_title("Per-stage latency per turn")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _audio(name: str | None) -> str:
    return f'<audio controls preload="none" src="{html.escape(name)}"></audio>' if name else ""


def write_html(path: Path, *, title: str, rows: list[dict[str, Any]], summary: dict[str, Any],
               chart: Path | None, timeline: Path | None = None) -> Path:
    """The report page; links to the WAVs and the chart beside it in the same folder."""
    head = ("<tr><th>#</th><th>session</th><th>you said</th><th>device heard</th><th>WER</th><th>intent</th>"
            "<th>device said</th><th>end of speech → audio (ms)</th><th>ok</th></tr>")
    body = []
    for row in rows:
        record = row.get("record") or {}
        latency = end_to_end(record)
        ok = "✓" if not row["failures"] else "✗ " + html.escape("; ".join(row["failures"]))
        body.append(
            f"<tr class={'ok' if not row['failures'] else 'bad'}><td>{row['turn']}</td>"
            f"<td>{html.escape(row['session'])}</td>"
            f"<td>{html.escape(row['said'] or '(silence)')}<br>{_audio(row.get('user_wav'))}</td>"
            f"<td>{html.escape(record.get('transcript') or '')}</td><td>{record.get('wer', '')}</td>"
            f"<td>{html.escape(record.get('intent') or '')}</td>"
            f"<td>{html.escape(record.get('reply') or '')}<br>{_audio(row.get('reply_wav'))}</td>"
            f"<td>{'' if latency is None else f'{latency:.0f}'}</td><td>{ok}</td></tr>")
    facts = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, default=str))}</td></tr>"
                    for k, v in summary.items())
    picture = f'<img src="{chart.name}" alt="per-stage latency per turn">' if chart else \
        "<p>(no chart: matplotlib is not installed)</p>"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}} tr.bad{{background:#fdecea}}
img{{max-width:100%}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{'All expectations held.' if summary.get('passed') else 'Some expectations failed (red rows).'}
 The whole conversation: {_audio('conversation.wav')}</p>
{picture}
{f'<h2>Timeline</h2><img src="{timeline.name}" alt="the terminal timeline">' if timeline else ''}
<h2>Turns</h2><table>{head}{''.join(body)}</table>
<h2>Summary</h2><table>{facts}</table>
</body></html>"""
    path.write_text(page, encoding="utf-8")
    return path
