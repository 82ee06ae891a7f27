"""`python -m bench task`: does a spoken shopping command get the right intent and the right product?

Held-out commands (bench/task_commands.py) spoken by voices no training step used
(bench/task_audio.py: flite rms and slt, espeak-ng en-us+f5), clean and at 20/10/5 dB SNR with
pink noise, babble, music and car-cabin noise, near field and far field (a reverberant room, the
talker 2-4 m away), each through the device chain (bench/task_chain.py: VAD + Whisper on
sherpa-onnx -> catalog-aware correction -> NLU -> dialogue over the demo catalog), for each ASR
model ([asr] model = "tiny.en" and "base"). Printed: intent accuracy, product-correct rate, slot
F1 and WER per condition, per voice and SNR, and the goals (bench/task_report.py), with Picovoice
Rhino's published 97.6 % command acceptance in noise as the anchor row; written: a JSON file with
every cell (model x voice x field x noise x SNR), the goals and a sample of misses.

The full grid is 42 commands x 3 voices x 26 conditions x 2 models (6,552 decodes): on the shared
2-core box (load 5-9, 1 thread) tiny.en took 20 min wall / 11 min CPU and base 30 / 19 min, so clean
clips are synthesized once and cached, and every transcript is cached
as it is made (keyed by the ASR bundle, voice, text and condition, and this harness's audio code),
so an interrupted run resumes and a second run re-scores in about a minute. `--fresh` decodes again.
`--quick` is the test's subset: 8 commands x 3 voices x 4 conditions per model.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import summary
from bench.task_audio import EXTRA_VOICES, NOISES, SNRS, VOICES, Condition, clean_clip, grid, under
from bench.task_commands import COMMANDS, QUICK, Command
from bench.task_dev import DEV_COMMANDS, DEV_CONDITIONS, DEV_VOICES
from bench.task_report import (
    ANCHOR,
    goals,
    pool,
    print_tables,
    reading_changes,
    spotting_changes,
    worst_misses,
)

CACHE = Path(os.environ.get("VOICESHOP_BENCH_TASK_CACHE", "~/.cache/voiceshop/bench-task")).expanduser()
MODELS = ("tiny.en", "base")
BUNDLES = {"tiny.en": "asr", "base": "asr-base"}
QUICK_CONDITIONS = (Condition("clean", None, "near"), Condition("pink", 5.0, "near"),
                    Condition("music", 10.0, "near"), Condition("car", 10.0, "far"))
AUDIO_CODE = hashlib.sha256((Path(__file__).with_name("task_audio.py")).read_bytes()).hexdigest()[:12]
"""Transcripts depend on how the audio was made: a change to task_audio.py makes new ones."""
_PROMPT_SOURCES = ("edge/asr/prompt.py", "edge/asr/bpe.py", "edge/asr/whisper_ort.py", "edge/asr/__init__.py")
_BIAS_SOURCES = ("edge/asr/biasing.py", "edge/catalog/command_words.txt")
_BEAM_SOURCES = ("edge/asr/beam.py",)
_PAIR_SOURCES = ("edge/asr/pair.py",)


def prompt_key(asr: Any) -> str:
    """The transcript cache's suffix for [asr] prompt: "" when off or on a runtime without prompts (the
    unprompted cache), else the mode, budget and the prompt code's hash (a new prompt makes new transcripts)."""
    from edge.config import EVERY_REQUEST, whisper_runtime

    biased = bool(asr.bias_bonus or asr.bias_start_bonus)
    beam = asr.beam_size > 1
    gate = f"-below{asr.second_hearing_below:g}" if asr.second_hearing_below < EVERY_REQUEST else ""
    second = asr.second_model or (f"hearing-{asr.second_hearing}{gate}" if asr.second_hearing else "")
    if (asr.prompt == "off" and not biased and not beam and not second) or whisper_runtime(asr) != "onnxruntime":
        return ""
    root = Path(__file__).resolve().parent.parent
    # unbiased greedy transcripts outlive a change to the bias or the beam
    sources = (_PROMPT_SOURCES + (_BIAS_SOURCES if biased else ()) + (_BEAM_SOURCES if beam else ())
               + (_PAIR_SOURCES if second else ()))
    code = hashlib.sha256(b"".join((root / p).read_bytes() for p in sources)).hexdigest()[:8]
    bias = f"-bias{asr.bias_bonus:g}+{asr.bias_start_bonus:g}" if biased else ""
    pair = f"-second-{second}" if second else ""
    return f"-prompt-{asr.prompt}{asr.prompt_tokens}{bias}{f'-beam{asr.beam_size}' if beam else ''}{pair}-{code}"


def bundle_key(models_dir: Path, model: str) -> str:
    """A model's bundle build, for cache keys (its manifest's hash)."""
    manifest = models_dir / BUNDLES[model] / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(f"no {BUNDLES[model]} bundle under {models_dir}: build it with "
                         f"`python -m export {BUNDLES[model]}`")
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]


class Heard:
    """Transcripts cached per ASR bundle build, one JSON line each (appended as they are made)."""

    def __init__(self, cache: Path, model: str, models_dir: Path, fresh: bool, prompt: str = "") -> None:
        bundle = bundle_key(models_dir, model)
        self.path = cache / "heard" / f"{model}-{bundle}-{AUDIO_CODE}{prompt}.jsonl"
        self.known: dict[str, str] = {}
        self.alternatives: dict[str, tuple[tuple[str, float], ...]] = {}
        """The recognizer's other readings of a clip (edge.events.FinalTranscript.alternatives), where it had any."""
        if self.path.is_file() and not fresh:
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # a run killed mid-line
                    continue
                self.known[entry["key"]] = entry["text"]
                self.alternatives[entry["key"]] = tuple((t, float(v)) for t, v in entry.get("alternatives", ()))
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(voice: str, text: str, condition: Condition) -> str:
        return hashlib.sha256(f"{voice}\0{text}\0{condition.label}".encode()).hexdigest()[:24]

    def add(self, key: str, text: str, alternatives: tuple[tuple[str, float], ...] = ()) -> None:
        self.known[key], self.alternatives[key] = text, alternatives
        with self.path.open("a") as out:
            out.write(json.dumps({"key": key, "text": text, "alternatives": alternatives}) + "\n")


def balanced(indices: list[int], table: tuple[Command, ...] = COMMANDS) -> list[int]:
    """Command indices taken round-robin over intents (add, search, price, remove, others in turn), so the
    first N of them, the grid a run stopped early holds or `--commands N` asks for, mix the intents."""
    groups: dict[str, list[int]] = {}
    for index in indices:
        intent = table[index].intent
        groups.setdefault(intent if intent in ("add_to_cart", "search", "price_query", "remove_from_cart")
                          else "other", []).append(index)
    queues = list(groups.values())
    out: list[int] = []
    while any(queues):
        out += [queue.pop(0) for queue in queues if queue]
    return out


def _record(model: str, voice: str, condition: Condition | None, command_index: int, outcome: Any,
            table: tuple[Command, ...] = COMMANDS) -> dict[str, Any]:
    command = table[command_index]
    return {"model": model, "voice": voice, "field": condition.field if condition else "-",
            "noise": condition.noise if condition else "-", "snr": condition.snr_label if condition else "typed",
            "command": command_index, "said": command.text, "intent_expected": command.intent,
            **{k: getattr(outcome, k) for k in ("heard", "corrected", "intent", "intent_ok", "product_ok", "picked",
                                                "tp", "fp", "fn", "errors", "words")}}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.task_chain import Chain, transcriber, with_model
    from edge.config import load_settings
    from edge.simulation.world import demo_catalog, device_dir

    settings = load_settings()
    if args.prompt is not None or args.prompt_tokens is not None:
        settings = dataclasses.replace(settings, asr=dataclasses.replace(
            settings.asr, prompt=args.prompt or settings.asr.prompt,
            prompt_tokens=args.prompt_tokens or settings.asr.prompt_tokens))
    if args.bias is not None:
        settings = dataclasses.replace(settings, asr=dataclasses.replace(
            settings.asr, bias_bonus=args.bias[0], bias_start_bonus=args.bias[1]))
    if args.beam is not None:
        settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, beam_size=args.beam))
    if args.second is not None:
        settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, second_model=args.second))
    if args.second_hearing is not None:
        settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, second_hearing=args.second_hearing))
    if args.second_hearing_below is not None:
        settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr,
                                                                         second_hearing_below=args.second_hearing_below))
    models_dir = args.models_dir or settings.models.path
    table = DEV_COMMANDS if args.dev else COMMANDS
    chosen = table if args.dev or not args.quick else QUICK
    commands = balanced([table.index(c) for c in chosen], table)[: args.commands or None]
    voices = DEV_VOICES if args.dev else VOICES + (EXTRA_VOICES if args.voices == "all" else ())
    if args.dev and not (args.noise or args.snr or args.field):
        conditions = list(DEV_CONDITIONS)
    elif args.quick:
        conditions = list(QUICK_CONDITIONS)
    else:
        conditions = grid(tuple(args.noise or NOISES), tuple(args.snr or SNRS), tuple(args.field or ("near", "far")))
    records: list[dict[str, Any]] = []
    readings: list[tuple[tuple[str, float], ...]] = []
    """Each record's other readings from the recognizer (edge.dialog.hearing), for the re-scoring runs."""
    hearers: list[tuple[str, Any]] = []
    started, cpu_started, decoded = time.time(), time.process_time(), 0
    with tempfile.TemporaryDirectory() as tmp:
        chain = Chain(settings, device_dir(demo_catalog(models_dir), Path(tmp)))
        try:
            for index in commands:
                records.append(_record("-", "typed", None, index, chain.run(table[index], table[index].text, True),
                                       table))
                readings.append(())
            for model in args.models:
                asr = with_model(settings, model).asr
                second = f"-{bundle_key(models_dir, asr.second_model)}" if asr.second_model else ""
                heard = Heard(args.cache, model, models_dir, args.fresh, prompt_key(asr) + second)
                hear = None
                todo = len(voices) * len(commands) * len(conditions)
                done = 0
                for index in commands:  # outermost: a run stopped early holds the whole grid of its first commands
                    command = table[index]
                    for voice in voices:
                        clean = clean_clip(command.text, voice, args.cache)
                        for condition in conditions:
                            key = Heard.key(voice.label, command.text, condition)
                            if key not in heard.known:
                                if hear is None:
                                    hear = transcriber(with_model(settings, model), args.threads,
                                                       chain.session.catalog.conn)
                                    hearers.append((model, hear))
                                context = [chain.item(name, command.brand if n == 0 else "").name
                                           for n, name in enumerate(command.cart)]
                                heard.add(key, *hear.heard(under(clean, condition, key), context))
                                decoded += 1
                            readings.append(heard.alternatives.get(key, ()))
                            records.append(_record(model, voice.label, condition, index,
                                                   chain.run(command, heard.known[key], alternatives=readings[-1]),
                                                   table))
                            done += 1
                            if done % 100 == 0:
                                print(f"[bench task] {model}: {done}/{todo} heard ({decoded} decoded this run, "
                                      f"{(time.time() - started) / 60:.1f} min)", file=sys.stderr, flush=True)
            said = [(table[r["command"]], r["heard"] if r["snr"] != "typed" else r["said"], r["snr"] == "typed")
                    for r in records]
            if args.spotting_changes:
                spot, chain.session.dialog.linker.spot = chain.session.dialog.linker.spot, None
                plain = [chain.run(*line, alternatives=others) for line, others in zip(said, readings, strict=True)]
                chain.session.dialog.linker.spot = spot
                for record, outcome in zip(records, plain, strict=True):
                    record["product_ok_without_spotting"] = outcome.product_ok
            if args.reading_changes:
                chain.session.read_commands = False
                plain = [chain.run(*line, alternatives=others) for line, others in zip(said, readings, strict=True)]
                chain.session.read_commands = True
                for record, outcome in zip(records, plain, strict=True):
                    record["intent_ok_without_reading"] = outcome.intent_ok
                    record["product_ok_without_reading"] = outcome.product_ok
            if args.hearing_changes:
                for record, outcome in zip(records, [chain.run(*line) for line in said], strict=True):
                    record["intent_ok_without_hearing"] = outcome.intent_ok
                    record["product_ok_without_hearing"] = outcome.product_ok
        finally:
            chain.close()
    return {"records": records, "models": list(args.models), "voices": [v.label for v in voices],
            "conditions": [c.label for c in conditions], "commands": len(commands), "decoded": decoded,
            "prompt": {"mode": settings.asr.prompt, "tokens": settings.asr.prompt_tokens},
            "bias": [settings.asr.bias_bonus, settings.asr.bias_start_bonus],
            "beam": settings.asr.beam_size, "second_model": settings.asr.second_model,
            "second_hearing": settings.asr.second_hearing, "second_hearing_below": settings.asr.second_hearing_below,
            "decode_seconds": {m: round(h.decode_seconds, 2) for m, h in hearers},
            "heard_twice": {m: getattr(h.recognizer.decode, "counts", None) for m, h in hearers},
            "wall_seconds": round(time.time() - started, 1), "cpu_seconds": round(time.process_time() - cpu_started, 1)}


def build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="the test's subset: 8 commands x 3 voices x 4 conditions")
    parser.add_argument("--dev", action="store_true",
                        help="the dev split (bench/task_dev.py: other commands, other voices) to tune on")
    parser.add_argument("--models", type=lambda s: tuple(s.split(",")), default=MODELS,
                        help="ASR models, comma-separated (default tiny.en,base)")
    parser.add_argument("--voices", choices=("default", "all"), default="default",
                        help="all: add festival's slt HTS voice (the slt speaker on another engine)")
    parser.add_argument("--noise", action="append", choices=NOISES, help="noise kinds (repeat; default all)")
    parser.add_argument("--snr", action="append", type=float, help="SNRs in dB (repeat; default 20, 10, 5)")
    parser.add_argument("--field", action="append", choices=("near", "far"), help="fields (repeat; default both)")
    parser.add_argument("--commands", type=int, default=0,
                        help="only N commands, taken round-robin over intents (0: all 42)")
    parser.add_argument("--spotting-changes", action="store_true",
                        help="also score every clip with the dialogue's spotting off: products fixed and broken by it")
    parser.add_argument("--reading-changes", action="store_true",
                        help="also score every clip with the command re-reading (edge/catalog/heard_commands.py) off: "
                             "intents and products it fixed and broke")
    parser.add_argument("--hearing-changes", action="store_true",
                        help="also score every clip without the recognizer's other readings (edge/dialog/hearing.py): "
                             "intents and products answering the NLU's best reading fixed and broke")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads for the ASR")
    parser.add_argument("--prompt", choices=("off", "style", "dialog", "catalog"), default=None,
                        help="Whisper's initial prompt (default [asr] prompt; edge/asr/prompt.py); cached apart")
    parser.add_argument("--prompt-tokens", type=int, default=None, help="the prompt's budget (default [asr] prompt_tokens)")
    parser.add_argument("--bias", type=lambda s: tuple(float(x) for x in s.split(",")), default=None,
                        metavar="BONUS,START", help="catalog biasing's bonuses (default [asr] bias_bonus, "
                                                    "bias_start_bonus; edge/asr/biasing.py); cached apart")
    parser.add_argument("--beam", type=int, default=None,
                        help="hypotheses the decode keeps (default [asr] beam_size; edge/asr/beam.py); cached apart")
    parser.add_argument("--second", choices=("", "tiny.en", "base"), default=None,
                        help="a second Whisper on every clip, the surer transcript kept (default [asr] second_model; "
                             "edge/asr/pair.py); cached apart")
    parser.add_argument("--second-hearing", choices=("", "slower"), default=None,
                        help="the same Whisper hears every clip again, 10 %% slower, the surer transcript kept "
                             "(default [asr] second_hearing; edge/asr/pair.py)")
    parser.add_argument("--second-hearing-below", type=float, default=None,
                        help="the second hearing only for a request whose first transcript scores below this "
                             "(default [asr] second_hearing_below; 10: every request, the two at once)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"clips and transcripts (default {CACHE})")
    parser.add_argument("--fresh", action="store_true", help="decode again instead of reading cached transcripts")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default <cache>/results[-quick].json)")
    parser.add_argument("--models-dir", type=Path, default=None, help="bundle directory (default [models] dir)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench task", description=__doc__.splitlines()[0])
    build_arguments(parser)
    args = parser.parse_args(argv or [])
    if any(m not in MODELS for m in args.models):
        parser.error(f"--models: choose from {', '.join(MODELS)}")
    from rich.console import Console

    result = run(args)
    records = result["records"]
    console = Console(width=140)
    print_tables(records, args.models, console.print)
    misses = worst_misses(records)
    for miss in misses:
        console.print(f"  [{miss['model']} {miss['voice']} {miss['field']} {miss['noise']} {miss['snr']}] "
                      f"said {miss['said']!r} heard {miss['heard']!r} -> {miss['intent']}, {miss['picked']}",
                      markup=False, highlight=False)
    if args.spotting_changes:
        for model in args.models:
            change = spotting_changes(records, model)
            console.print(f"{model}: products the dialogue's spotting fixed / broke (>= 10 dB, "
                          f"{change['n']} clips naming a product): {change['fixed']} fixed, {change['broken']} broken; "
                          f"product-correct {change['without']:.3f} without -> {change['with']:.3f} with", highlight=False)
    for flag, what, name in ((args.reading_changes, "reading", "the command re-reading"),
                             (args.hearing_changes, "hearing", "answering the best-understood reading")):
        for model in ("-", *args.models) if flag else ():
            change = reading_changes(records, model, what)
            console.print(f"{model if model != '-' else 'typed'}: {name}'s changes ("
                          f"{'>= 10 dB, ' if model != '-' else ''}{change['n']} lines): intent {change['fixed']} "
                          f"fixed, {change['broken']} broken ({change['without']:.3f} without -> {change['with']:.3f} "
                          f"with); product-correct {change['product_fixed']} fixed, {change['product_broken']} broken",
                          highlight=False)
    cells = [{**{k: key[i] for i, k in enumerate(("model", "voice", "field", "noise", "snr"))},
              **pool(r for r in records if (r["model"], r["voice"], r["field"], r["noise"], r["snr"]) == key)}
             for key in dict.fromkeys((r["model"], r["voice"], r["field"], r["noise"], r["snr"]) for r in records)]
    judged = [goals(records, model) for model in args.models]
    out = args.out or args.cache / ("results-dev.json" if args.dev else "results-quick.json" if args.quick
                                    else "results.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"anchor": ANCHOR, "goals": judged, "cells": cells, "misses": misses, "machine": summary.machine(),
              "load_average": os.getloadavg(), **{k: v for k, v in result.items() if k != "records"},
              "records": records}
    out.write_text(json.dumps(report, indent=1))
    console.print(f"{result['decoded']} clips decoded this run ({len(records)} outcomes scored) in "
                  f"{result['wall_seconds'] / 60:.1f} min wall, {result['cpu_seconds'] / 60:.1f} min CPU; "
                  f"JSON: {out}", highlight=False)
    if result["decoded"]:
        console.print(f"[asr] prompt {result['prompt']['mode']!r} ({result['prompt']['tokens']} tokens): decode wall time "
                      + ", ".join(f"{m} {s:.1f} s" for m, s in result["decode_seconds"].items())
                      + f" over {result['decoded']} clips decoded this run", highlight=False, markup=False)
        for model, counts in result["heard_twice"].items():
            if counts:
                console.print(f"{model}: {counts['twice']} of {counts['requests']} requests heard twice "
                              "([asr] second_hearing)", highlight=False, markup=False)
    for g in judged:
        good = g["at_least_10db"]
        summary.add("task", f"{g['model']}: intent / product-correct, held-out voices >= 10 dB",
                    f"{good['intent_accuracy']:.3f} / {good['product_correct']:.3f}",
                    f">= {ANCHOR['rate']} / >= 0.95", f"Rhino (published) {ANCHOR['rate']}")
    return 0
