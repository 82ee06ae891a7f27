"""Did the turn do what the scenario said? Word error rate of the transcript, intent, reply, actions.

Transcripts are scored with `edge.text.wer`, the normalizer the export's WER figures use (lower
case, punctuation dropped, digits spelt out: "two bags" and "2 bags" are the same request; Whisper
writes either).
"""

from __future__ import annotations

from typing import Any

from edge.text.cer import character_error_rate
from edge.text.wer import word_error_rate


def check_turn(said: str, expect: dict[str, Any], record: dict[str, Any] | None, state_after: str,
               wer_tolerance: float, language: str = "en") -> list[str]:
    """The expectations this turn broke (empty when it did everything asked). In Mandarin the
    transcript is scored by character error rate (record["wer"] then holds the CER)."""
    if record is None:
        if said:
            return [f"no answer to {said!r} (the device never finished a turn)"]
        return [] if expect.get("state_after", state_after) == state_after else \
            [f"state {state_after}, expected {expect['state_after']}"]
    failures = []
    if said and expect.get("transcript", True):
        score, label = (character_error_rate, "CER") if language == "zh" else (word_error_rate, "WER")
        wer = score(said, record.get("transcript") or "")
        record["wer"] = round(wer, 3)
        if wer > wer_tolerance:
            failures.append(f"transcript {record.get('transcript')!r} for {said!r}: {label} {wer:.2f} > {wer_tolerance}")
    if "intent" in expect and record.get("intent") != expect["intent"]:
        failures.append(f"intent {record.get('intent')!r}, expected {expect['intent']!r}")
    reply = (record.get("reply") or "").lower()
    failures += [f"reply lacks {text!r}" for text in expect.get("reply_has", []) if text.lower() not in reply]
    failures += [f"reply should not say {text!r}" for text in expect.get("reply_lacks", []) if text.lower() in reply]
    kinds = [a.get("type") for a in record.get("actions") or []]
    failures += [f"no {kind!r} action (got {kinds})" for kind in expect.get("actions", []) if kind not in kinds]
    if "state_after" in expect and state_after != expect["state_after"]:
        failures.append(f"state after the reply {state_after!r}, expected {expect['state_after']!r}")
    return failures
