"""Pooling, goals and the printed tables of `python -m bench task` (the run itself is bench/task.py).

A record is one command heard once: model, voice, field, noise, snr ("clean" or the dB figure as
text; "typed" for the text typed, no ASR) and the Outcome's scores. Rates pool records: intent
accuracy over all commands, product-correct over the commands that name a product, slot F1 micro
over all slots, WER over all words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

GOAL_INTENT = 0.976
GOAL_PRODUCT = 0.95
ANCHOR = {"system": "Picovoice Rhino (published)", "measure": "command acceptance in noise", "rate": 0.976,
          "source": "Picovoice's published speech-to-intent benchmark; not measured here"}
AT_LEAST_10DB = ("clean", "20", "10")
"""The SNR labels the goals are judged on (>= 10 dB, clean included)."""


def pool(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Rates over records (None where nothing counts)."""
    rows = list(records)
    products = [r["product_ok"] for r in rows if r["product_ok"] is not None]
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    words = sum(r["words"] for r in rows)
    return {
        "n": len(rows),
        "intent_accuracy": sum(r["intent_ok"] for r in rows) / len(rows) if rows else None,
        "product_n": len(products),
        "product_correct": sum(products) / len(products) if products else None,
        "slot_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
        "wer": sum(r["errors"] for r in rows) / words if words else None,
    }


def grouped(records: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One pooled row per distinct value of keys, in first-seen order."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[tuple(record[k] for k in keys)].append(record)
    return [{**dict(zip(keys, key, strict=True)), **pool(rows)} for key, rows in groups.items()]


def goals(records: Sequence[dict[str, Any]], model: str) -> dict[str, Any]:
    """The issue's goals for one model: >= 10 dB on held-out voices, and no drop on clean speech."""
    heard = [r for r in records if r["model"] == model]
    typed = pool(r for r in records if r["snr"] == "typed")
    good = pool(r for r in heard if r["snr"] in AT_LEAST_10DB)
    near = pool(r for r in heard if r["snr"] in AT_LEAST_10DB and r["field"] == "near")
    clean = pool(r for r in heard if r["snr"] == "clean" and r["field"] == "near")
    perfect = pool(r for r in heard if r["errors"] == 0 and r["words"])
    met = lambda value, goal: value is not None and value >= goal  # noqa: E731
    return {
        "model": model,
        "at_least_10db": good, "at_least_10db_near": near, "clean_near": clean, "typed": typed,
        "word_perfect": perfect,  # clips heard without a word error: what the chain after hearing does
        "intent_goal_met": met(good["intent_accuracy"], GOAL_INTENT),
        "product_goal_met": met(good["product_correct"], GOAL_PRODUCT),
        "no_drop_on_clean": met(clean["intent_accuracy"], typed["intent_accuracy"] or 0.0)
        and met(clean["product_correct"], typed["product_correct"] or 0.0),
    }


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _styled(value: float | None, goal: float | None) -> str:
    if value is None or goal is None:
        return _f(value)
    return f"[green]{_f(value)}[/green]" if value >= goal else f"[red]{_f(value)}[/red]"


def print_tables(records: Sequence[dict[str, Any]], models: Sequence[str], print_: Callable[..., None]) -> None:
    """The condition table (noise x SNR x field, voices pooled), the voice table and the goals."""
    from rich.table import Table

    table = Table(title="bench task: condition (voices pooled); green/red = goal at >= 10 dB", show_lines=False)
    for column in ("model", "field", "noise", "SNR dB", "n", "intent acc", "product-correct", "n prod",
                   "slot F1", "WER"):
        table.add_column(column, justify="left" if column in ("model", "field", "noise") else "right")
    table.add_row("anchor", "-", ANCHOR["system"], "noise", "-", f"{ANCHOR['rate']:.3f}", "-", "-", "-", "-",
                  style="bold")
    for row in grouped([r for r in records if r["snr"] == "typed"], ("snr",)):
        table.add_row("typed text", "-", "-", "-", str(row["n"]), _f(row["intent_accuracy"]),
                      _f(row["product_correct"]), str(row["product_n"]), _f(row["slot_f1"]), "-")
    for model in models:
        table.add_section()
        for row in grouped([r for r in records if r["model"] == model], ("field", "noise", "snr")):
            judged = row["snr"] in AT_LEAST_10DB
            table.add_row(model, row["field"], row["noise"], row["snr"], str(row["n"]),
                          _styled(row["intent_accuracy"], GOAL_INTENT if judged else None),
                          _styled(row["product_correct"], GOAL_PRODUCT if judged else None),
                          str(row["product_n"]), _f(row["slot_f1"]), _f(row["wer"]))
    print_(table)

    voices = Table(title="bench task: voice x SNR (noise kinds and fields pooled)")
    for column in ("model", "voice", "SNR dB", "n", "intent acc", "product-correct", "slot F1", "WER"):
        voices.add_column(column, justify="left" if column in ("model", "voice") else "right")
    for model in models:
        voices.add_section()
        for row in grouped([r for r in records if r["model"] == model], ("voice", "snr")):
            voices.add_row(model, row["voice"], row["snr"], str(row["n"]), _f(row["intent_accuracy"]),
                           _f(row["product_correct"]), _f(row["slot_f1"]), _f(row["wer"]))
    print_(voices)

    judged = Table(title=f"bench task: goals (held-out voices, >= 10 dB: intent >= {GOAL_INTENT}, "
                         f"product-correct >= {GOAL_PRODUCT}; clean speech no worse than typed)")
    for column in ("model", "set", "n", "intent acc", "product-correct", "slot F1", "WER", "goal"):
        judged.add_column(column, justify="left" if column in ("model", "set", "goal") else "right")
    for model in models:
        g = goals(records, model)
        rows = (("all fields, >= 10 dB", g["at_least_10db"],
                 "met" if g["intent_goal_met"] and g["product_goal_met"] else "NOT met"),
                ("near field, >= 10 dB", g["at_least_10db_near"], ""),
                ("near field, clean", g["clean_near"], "no drop vs typed" if g["no_drop_on_clean"] else "DROP vs typed"),
                ("heard word-perfect (WER 0)", g["word_perfect"], ""),
                ("typed text (no ASR)", g["typed"], ""))
        for label, row, verdict in rows:
            judged.add_row(model, label, str(row["n"]), _f(row["intent_accuracy"]), _f(row["product_correct"]),
                           _f(row["slot_f1"]), _f(row["wer"]), verdict)
    print_(judged)


def worst_misses(records: Sequence[dict[str, Any]], limit: int = 12) -> list[dict[str, Any]]:
    """The >= 10 dB records whose product or intent was wrong, most frequent texts first (to read)."""
    misses = [r for r in records if r["snr"] in AT_LEAST_10DB and (not r["intent_ok"] or r["product_ok"] is False)]
    counts: dict[str, int] = defaultdict(int)
    for r in misses:
        counts[r["said"]] += 1
    misses.sort(key=lambda r: (-counts[r["said"]], r["said"]))
    seen, out = set(), []
    for r in misses:
        if (r["said"], r["heard"]) in seen:
            continue
        seen.add((r["said"], r["heard"]))
        out.append({k: r[k] for k in ("model", "voice", "field", "noise", "snr", "said", "heard", "corrected",
                                      "intent", "picked")})
        if len(out) >= limit:
            break
    return out


def spotting_changes(records: Sequence[dict[str, Any]], model: str) -> dict[str, Any]:
    """Both sides of the dialogue's spotting (edge/catalog/spotting.py) at >= 10 dB: clips whose product
    it made right (fixed) and made wrong (broken), from the same transcripts scored with it off."""
    rows = [r for r in records if r["model"] == model and r["snr"] in AT_LEAST_10DB and r["product_ok"] is not None
            and "product_ok_without_spotting" in r]
    n = len(rows) or 1
    return {"n": len(rows), "fixed": sum(r["product_ok"] and not r["product_ok_without_spotting"] for r in rows),
            "broken": sum(r["product_ok_without_spotting"] and not r["product_ok"] for r in rows),
            "with": sum(bool(r["product_ok"]) for r in rows) / n,
            "without": sum(bool(r["product_ok_without_spotting"]) for r in rows) / n}


def reading_changes(records: Sequence[dict[str, Any]], model: str, what: str = "reading") -> dict[str, Any]:
    """Both sides of one step at >= 10 dB (model "-": typed lines), the command re-reading
    (edge/catalog/heard_commands.py, what="reading") or answering the best-understood of the recognizer's
    readings (edge/dialog/hearing.py, "hearing"): clips whose intent (and product) it made right, and ones it
    made wrong, on the same transcripts."""
    intent_off, product_off = f"intent_ok_without_{what}", f"product_ok_without_{what}"
    rows = [r for r in records if r["model"] == model and (model == "-" or r["snr"] in AT_LEAST_10DB)
            and intent_off in r]
    n = max(1, len(rows))
    named = [r for r in rows if r["product_ok"] is not None]
    return {"n": len(rows), "fixed": sum(r["intent_ok"] and not r[intent_off] for r in rows),
            "broken": sum(r[intent_off] and not r["intent_ok"] for r in rows),
            "with": sum(bool(r["intent_ok"]) for r in rows) / n,
            "without": sum(bool(r[intent_off]) for r in rows) / n,
            "product_fixed": sum(bool(r["product_ok"] and not r[product_off]) for r in named),
            "product_broken": sum(bool(r[product_off] and not r["product_ok"]) for r in named)}
