"""`python -m bench wyoming`: our Wyoming server side by side with the reference servers, on the same weights.

Three servers on this machine, in one run: ours (`python -m edge wyoming`, the device's models),
wyoming-piper on the Piper voice file our TTS bundle is built from, and wyoming-faster-whisper on
the Whisper tiny.en CTranslate2 directory our ASR bundle is converted from (bench/wyoming_reference.py:
their own venv, offline). wyoming-bench measures them (bench/wyoming_driver.py, run in that venv),
the servers' order rotating request by request so machine load hits them alike; its own summary
tables are printed as they come, then one table with the ratios and the goals of issue 19:

- TTS time to first audio (wyoming-bench TTFT, plain `synthesize` and streamed text): ours <= 0.5x
  wyoming-piper's;
- transcript latency after `audio-stop` on a real-time stream (what a satellite sends): ours <= 0.8x
  wyoming-faster-whisper's; also total time, RTF and WER of the corpus sent at full speed.

The STT corpus is the project's synthetic shopping sentences (export/speech_corpus: the Piper joe
voice and espeak-ng), written as WAV + TXT pairs, wyoming-bench's corpus format. The same tool by
hand, against a running `python -m edge wyoming`: ~/.cache/voiceshop/wyoming-reference/bin/wyoming-bench
tts 127.0.0.1:10700, or `... stt 127.0.0.1:10700 --corpus DIR`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import summary
from bench import wyoming_reference as ref

REPO = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).with_name("wyoming_driver.py")
TTFA_GOAL, LATENCY_GOAL = 0.5, 0.8
OURS, PIPER, WHISPER = "ours", "wyoming-piper", "wyoming-faster-whisper"
OURS_ARENA = "ours, tts_arena on"
"""The same server with onnxruntime's arena on for the voice ([memory] tts_arena = true): the device turns
it off to keep ~100 MB of clause buffers out of resident memory, which costs synthesis speed; a host
with memory to spare can turn it on, and this row shows what that buys."""


def build_corpus(folder: Path, per_voice: int) -> Path:
    """WAV + TXT pairs of the shopping sentences in two synthetic voices (cached clips)."""
    from export.speech_corpus import ESPEAK_VOICES, PIPER_JOE, SENTENCES, clip

    folder.mkdir(parents=True, exist_ok=True)
    for voice in (PIPER_JOE, ESPEAK_VOICES[0]):
        for index, text in enumerate(SENTENCES[:per_voice]):
            name = f"{voice.engine}-{voice.name.replace('+', '_')}-{index:02d}"
            shutil.copyfile(clip(text, voice).path, folder / f"{name}.wav")
            (folder / f"{name}.txt").write_text(text + "\n")
    return folder


def drive(python: Path, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one driver section in the reference venv, echoing wyoming-bench's tables; its JSON result."""
    # -P: the script's folder (bench/) must not come first on sys.path there
    proc = subprocess.Popen([str(python), "-P", str(DRIVER), kind, json.dumps(spec)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    last = ""
    for line in proc.stdout:
        if line.startswith('{"kind"'):
            last = line
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0 or not last:
        raise ref.ReferenceError(f"the wyoming-bench driver failed in its {kind} section (exit {proc.returncode})")
    return json.loads(last)["result"]


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from edge.config import load_settings
    from edge.simulation.world import demo_catalog, device_dir

    settings = load_settings()
    python = ref.ensure_venv()
    corpus = build_corpus(work / "corpus", args.samples)
    data = device_dir(demo_catalog(settings.models.path), work)
    servers = {OURS: ref.ours(work, data, REPO),
               OURS_ARENA: ref.ours(work, data, REPO, OURS_ARENA, env={"VOICESHOP_MEMORY__TTS_ARENA": "true"}),
               PIPER: ref.wyoming_piper(work),
               WHISPER: ref.wyoming_faster_whisper(work, settings.threads.asr)}
    try:
        for server in servers.values():
            server.wait_ready()
        load_before = os.getloadavg()
        began = time.time()

        def spec(*labels: str, **extra: Any) -> dict[str, Any]:
            return {"servers": [{"label": label, "port": servers[label].port} for label in labels], **extra}

        result = {
            "tts": drive(python, "tts", spec(OURS, OURS_ARENA, PIPER, rounds=args.rounds)),
            "stt": drive(python, "stt", spec(OURS, WHISPER, rounds=args.stt_rounds, corpus=str(corpus))),
            "latency": drive(python, "latency", spec(OURS, WHISPER, corpus=str(corpus), samples=args.latency_samples)),
        }
        alive = {label: s.proc.poll() is None for label, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    return {**result, "load_before": load_before, "load_after": os.getloadavg(), "minutes": (time.time() - began) / 60,
            "versions": ref.versions(), "threads": {"tts": settings.threads.tts, "asr": settings.threads.asr},
            "alive": alive, "clips": len(list(corpus.glob("*.wav")))}


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{1000 * value:.0f} ms"


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return None if not ours or not theirs else ours / theirs


def report(r: dict[str, Any]) -> None:
    load = lambda xs: ", ".join(f"{x:.1f}" for x in xs)  # noqa: E731
    print(f"\nbench wyoming: {r['minutes']:.1f} min; load average before {load(r['load_before'])}, after "
          f"{load(r['load_after'])} on {os.cpu_count()} CPUs; ours: tts {r['threads']['tts']} thread(s), asr "
          f"{r['threads']['asr']} (wyoming-faster-whisper the same, int8, beam 1; wyoming-piper: onnxruntime's "
          f"default threads); {r['clips']} STT clips")
    print("reference venv: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()))
    rows: list[tuple[str, str, str, float | None, str]] = []
    for label, suffix in ((OURS, ""), (OURS_ARENA, ", tts_arena on")):
        for mode, name in (("non_streaming", "TTS first audio, synthesize"), ("streaming", "TTS first audio, streamed")):
            ours, piper = r["tts"][label][mode], r["tts"][PIPER][mode]
            rows.append((f"{name}{suffix} (mean)", _ms(ours["ttft"]["mean"]), _ms(piper["ttft"]["mean"]),
                         _ratio(ours["ttft"]["mean"], piper["ttft"]["mean"]), f"<= {TTFA_GOAL}x"))
        ours, piper = r["tts"][label]["non_streaming"], r["tts"][PIPER]["non_streaming"]
        rows.append((f"TTS RTF, synthesize{suffix} (mean)", f"{ours['rtf']['mean']:.3f}", f"{piper['rtf']['mean']:.3f}",
                     _ratio(ours["rtf"]["mean"], piper["rtf"]["mean"]), ""))
    lat_ours, lat_ref = r["latency"][OURS], r["latency"][WHISPER]
    rows.append(("transcript after audio-stop, real-time stream (mean)", _ms(lat_ours["mean"]), _ms(lat_ref["mean"]),
                 _ratio(lat_ours["mean"], lat_ref["mean"]), f"<= {LATENCY_GOAL}x"))
    rows.append(("transcript after audio-stop (median)", _ms(lat_ours["median"]), _ms(lat_ref["median"]),
                 _ratio(lat_ours["median"], lat_ref["median"]), ""))
    stt_ours, stt_ref = r["stt"][OURS], r["stt"][WHISPER]
    rows.append(("STT total, file sent at full speed (mean)", _ms(stt_ours["total"]["mean"]),
                 _ms(stt_ref["total"]["mean"]), _ratio(stt_ours["total"]["mean"], stt_ref["total"]["mean"]), ""))
    rows.append(("STT RTF (mean)", f"{stt_ours['rtf']['mean']:.3f}", f"{stt_ref['rtf']['mean']:.3f}",
                 _ratio(stt_ours["rtf"]["mean"], stt_ref["rtf"]["mean"]), ""))
    rows.append(("STT WER", f"{100 * stt_ours['wer']:.1f}%", f"{100 * stt_ref['wer']:.1f}%", None, ""))
    print(f"\n{'measure':<54} {'ours':>10} {'reference':>10} {'ratio':>7}  goal")
    for name, a, b, ratio, goal in rows:
        verdict = ""
        if goal and ratio is not None:
            verdict = " met" if ratio <= float(goal.split()[1].rstrip("x")) else " NOT met"
        print(f"{name:<54} {a:>10} {b:>10} {'' if ratio is None else f'{ratio:.2f}x':>7}  {goal}{verdict}")
    print("reference: wyoming-piper for TTS rows, wyoming-faster-whisper for STT rows; servers alive at the end: "
          + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in r["alive"].items()))
    headline = (("TTS first audio, synthesize (mean)", "TTS first audio vs wyoming-piper", TTFA_GOAL),
                ("transcript after audio-stop, real-time", "transcript after audio-stop vs wyoming-faster-whisper",
                 LATENCY_GOAL))
    for prefix, measure_name, goal in headline:
        _, ours_value, theirs, ratio, _ = next(row for row in rows if row[0].startswith(prefix))
        summary.add("Wyoming", measure_name, f"{ours_value} vs {theirs}", f"<= {goal}x",
                    f"{ratio:.2f}x" if ratio else "n/a")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench wyoming", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="TTS rounds over wyoming-bench's 4 texts, per mode")
    parser.add_argument("--stt-rounds", type=int, default=1, help="rounds over the STT corpus (full speed)")
    parser.add_argument("--samples", type=int, default=8, help="sentences per voice in the STT corpus (2 voices)")
    parser.add_argument("--latency-samples", type=int, default=10, help="clips streamed in real time per server")
    parser.add_argument("--json", action="store_true", help="also print the raw figures as one JSON line")
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-wyoming-") as tmp:
        try:
            result = measure(args, Path(tmp))
        except ref.ReferenceError as exc:
            print(f"bench wyoming: {exc}")
            return 1
    report(result)
    if args.json:
        print(json.dumps(result, default=str))
    return 0
