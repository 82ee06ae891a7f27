"""The device loop's events as JSON records: the one place their wire shape is decided.

The loop emits typed events (edge.events: StateChanged, TurnFinished, BargeIn, StageFailed), as
Home Assistant's assist pipeline does; `python -m edge run --json`, the simulator's run.jsonl and
anything else that wants text turn them into dicts here, so the shape a script relies on
({"event": "state", "state", "previous", "at", ...}) cannot drift between printers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from edge.events import BargeIn, LoopEvent, StageFailed, StateChanged, TurnFinished


def _state(event: StateChanged) -> dict[str, Any]:
    details = {"source": event.source, "score": event.score, "reason": event.reason}
    return {"event": "state", "state": event.state.value, "previous": event.previous.value,
            "at": round(event.timestamp, 3), **{k: v for k, v in details.items() if v is not None}}


def _turn(event: TurnFinished) -> dict[str, Any]:
    record = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    # fresh containers: a reader (the simulator adds its own latencies) must not reach into the event
    record.update(slots=dict(event.slots), actions=[dict(a) for a in event.actions],
                  latency_ms=dict(event.latency_ms), reply_audio_seconds=round(event.reply_audio_seconds, 3))
    if event.passed_over is None:
        del record["passed_over"]
    return {"event": "turn", **record}


def _barge_in(event: BargeIn) -> dict[str, Any]:
    return {"event": "barge_in", "at": round(event.timestamp, 3)}


def _failed(event: StageFailed) -> dict[str, Any]:
    return {"event": "error", "stage": event.stage, "message": event.message}


_SHAPES: dict[type, Callable[[Any], dict[str, Any]]] = {
    StateChanged: _state, TurnFinished: _turn, BargeIn: _barge_in, StageFailed: _failed}


def to_record(event: LoopEvent) -> dict[str, Any]:
    """The JSON object for one loop event (a new dict each call)."""
    try:
        shape = _SHAPES[type(event)]
    except KeyError:
        raise TypeError(f"not a device-loop event: {type(event).__name__}") from None
    return shape(event)
