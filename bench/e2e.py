"""`python -m bench e2e`: end of speech -> first reply audio over the scenario's turns, and the device's RSS.

Latency: the default scenario (or --scenario) is played through `python -m edge.simulate` (the real
chain, the cloud in its own process), --repeat times, with audio fed in real time unless --fast.
Each turn's figure is the audio the VAD waited after the user stopped plus the wall time from that
frame to the first synthesized clause (see edge/turns.latencies). Printed as p50/p95 per stage and
end to end, beside the anchor: the endpoint's configured silence hold ([asr] min_silence_seconds),
the floor no compute can go under, so "end to end minus the hold" is what the device adds to it. Memory: `python -m edge run` in its own
process on the scenario's first session (all models loaded and used), its VmRSS at the end and its
peak (VmHWM). Goals, both judged on every run: issue 9's, p95 <= 650 ms on this 2-core machine and
RSS with all models loaded <= 350 MB; issue 21's, p95 <= 500 ms and RSS <= 300 MB when ready, at the end
of the session and at its peak (a device maker sizes RAM by the peak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench import summary

REPO = Path(__file__).resolve().parents[1]
STAGES = ("endpoint", "frame_behind", "asr", "nlu", "dialog", "tts_first_audio", "endpoint_to_first_audio",
          "eos_to_first_audio", "true_eos_to_first_audio")
"""frame_behind: how late (wall) the device took the frame its endpoint fired in, because it was still
decoding earlier frames (real-time runs only). eos_to_first_audio counts from the device's estimate of the end of speech; true_eos_to_first_audio
from where the synthesized speech really ends (the simulator knows), in wall time when fed in real
time (a frame the device took late while decoding counts): the goal is judged on the latter."""
GOAL_P95_MS = 650.0
GOAL_RSS_MB = 350.0
"""Issue 9: end of speech -> first audio p95, and RSS with all models loaded (ready only)."""
GOAL21_P95_MS = 500.0
GOAL21_RSS_MB = 300.0
"""Issue 21: the same p95, and RSS when ready, at the end of the session and at its peak."""


def _python(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def simulate(scenario: str | None, profile: str | None, out: Path, realtime: bool) -> list[dict]:
    """The simulator's turn records (with latency_ms) from one run; raises if it could not run."""
    args = ["edge.simulate", "--json", "--out", str(out), *(["--realtime"] if realtime else [])]
    if scenario:
        args += ["--scenario", scenario]
    if profile:
        args += ["--profile", profile]
    result = _python(*args)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode == 2 or not records:
        raise RuntimeError(f"edge.simulate could not run: {result.stderr.strip()[-800:]}")
    if result.returncode != 0:
        print(f"note: the simulator reported failed expectations in {out} (timings still counted)", file=sys.stderr)
    return [r for r in records if r.get("event") == "turn" and r.get("latency_ms")]


def device_memory(sim_out: Path, turns: list[dict], profile: str | None) -> dict:
    """`python -m edge run` on the first session's user audio, in a fresh process: its summary record."""
    from edge.audio import read_audio, write_wav

    summary = json.loads((sim_out / "summary.json").read_text())
    first = [t["turn"] for t in turns if t["session"] == turns[0]["session"]]
    clips = [read_audio(sim_out / f"turn-{n:02d}-user.wav", 16000) for n in first
             if (sim_out / f"turn-{n:02d}-user.wav").is_file()]
    gap = np.zeros(int(1.5 * 16000), dtype=np.float32)
    audio = np.concatenate([part for clip in clips for part in (gap, clip)] + [gap])
    with tempfile.TemporaryDirectory() as tmp:
        wav = write_wav(Path(tmp) / "session.wav", audio, 16000)
        data = Path(tmp) / "device"
        data.mkdir()
        for name in ("catalog.db", "catalog_signing.pub"):
            (data / name).write_bytes((sim_out / "device" / name).read_bytes())
        args = ["edge", "run", "--wav", str(wav), "--output", "null", "--json", "--sim-mcu", "--db", str(data)]
        if profile or summary.get("profile"):
            args += ["--profile", profile or summary["profile"]]
        result = _python(*args)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    final = [r for r in records if r.get("event") == "summary"]
    if result.returncode != 0 or not final:
        raise RuntimeError(f"edge run failed: {result.stderr.strip()[-800:]}")
    return {**final[-1], "turns_answered": sum(1 for r in records if r.get("event") == "turn")}


def memory_steps(data_dir: str) -> None:
    """(Run in a fresh process.) RSS added by each part of the device as it loads, as JSON lines.

    The order is the device's (edge.device.load_models: voice, NLU, VAD + Whisper, wake word, then
    the dialogue over the catalog), with the imports first, one line per big library, so each line
    is what that part adds on top of everything before it. Every line also says how much of the
    process is anonymous (heap, arenas, weights) and file-backed (mapped libraries and files).
    """
    import gc
    import sys

    from edge.memory import memory_mb, release_freed_memory, resident_files, tune_allocator

    last = 0.0  # the first line is the whole interpreter

    def step(name: str) -> None:
        nonlocal last
        gc.collect()
        now = memory_mb()
        print(json.dumps({"step": name, "added_mb": round(now["rss_mb"] - last, 1), **now}), flush=True)
        last = now["rss_mb"]

    step("python + numpy (edge.memory, edge.config)")
    import onnxruntime  # noqa: F401
    step("import onnxruntime")
    from edge.config import load_settings, whisper_runtime

    asr = load_settings().asr
    if "sherpa" in (whisper_runtime(asr), asr.vad_runtime) or asr.engine == "online":  # else the device never loads it
        import sherpa_onnx  # noqa: F401
        step("import sherpa_onnx (its own onnxruntime)")
    from edge.device import load_models  # noqa: F401  (what `edge run` imports before it loads a model)
    from edge.dialog.session import ShopSession
    from edge.pipeline import DeviceLoop  # noqa: F401  (the loop's own imports count as "runtime")

    settings = load_settings()
    tune_allocator(settings.memory)  # as edge.device.load_models does before the first model
    step("the device's own modules (edge, tokenizers, ...)")
    # the voice first, as edge.device.load_models does (its load transient on the smallest process); the
    # rest one step per part, in the device's order
    from edge.tts import synthesizer_for_settings

    zh = settings.device.language == "zh"
    tts = synthesizer_for_settings(settings)
    tts.voice.synthesize("这是新鲜的苹果，要几份？" if zh else "Hello there, how many would you like?")
    kept: list[object] = [tts]  # every part stays referenced, as in the device
    step("TTS voice (after one synthesis)")
    from edge.nlu import Understander

    nlu = Understander.from_settings(settings)
    nlu.understand("我想买苹果" if zh else "I want to buy apples")
    step("NLU joint model, tokenizer, shared embeddings (one run)")
    from edge.asr import recognizer_for_settings

    kept.append(recognizer_for_settings(settings, partials=False))
    step("VAD + Whisper")
    from edge.wake import detector_for_settings

    kept.append(detector_for_settings(settings))
    step("wake word")
    session = ShopSession(settings, Path(data_dir), broker_url="", nlu=nlu)
    step("catalog, outbox, guard (SQLite) + dialogue")
    session.catalog.search("苹果" if zh else "apples", limit=3)
    step("first catalog query (sentence encoder, vectors)")
    session.catalog.recommend(settings.device.id, [], 1)
    session.turn("我想买苹果" if zh else "I want to buy apples")
    step("recommendations + one turn")
    if settings.memory.trim_after_reply:
        release_freed_memory()
        step("freed memory returned (as after each reply)")
    chinese = sorted(name for name in ("pypinyin", "cn2an", "opencc", "jieba") if name in sys.modules)
    print(json.dumps({"modules": chinese, "language": settings.device.language}), flush=True)
    print(json.dumps({"files": resident_files(8)}), flush=True)


def memory_table(data_dir: Path) -> list[dict]:
    code = f"from bench.e2e import memory_steps; memory_steps({str(data_dir)!r})"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"memory steps failed: {result.stderr.strip()[-800:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _p(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):7.0f}" if values else "      –"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", help="scenario YAML or a name in edge/scenarios, e.g. zh "
                        "(default: edge/scenarios/default.yaml)")
    parser.add_argument("--profile", choices=("speaker", "car"))
    parser.add_argument("--repeat", type=int, default=2, help="simulator runs to pool (default 2)")
    parser.add_argument("--fast", action="store_true", help="feed audio as fast as the device takes it "
                        "(quicker, but a decode longer than the silence hold is then hidden)")
    args = parser.parse_args(argv)
    from edge.config import load_settings
    from edge.simulation.scenario import load_scenario

    language = load_scenario(args.scenario).language if args.scenario else "en"
    # The scenario's language is the device's, also for `edge run` and the memory steps (own processes).
    os.environ["VOICESHOP_DEVICE__LANGUAGE"] = language

    asr = load_settings().asr
    hold_ms, early_ms = 1000 * asr.min_silence_seconds, 1000 * asr.early_endpoint_seconds
    with tempfile.TemporaryDirectory() as tmp:
        runs = [simulate(args.scenario, args.profile, Path(tmp) / f"run-{n}", realtime=not args.fast)
                for n in range(args.repeat)]
        turns = [turn for run in runs for turn in run]
        memory = device_memory(Path(tmp) / "run-0", runs[0], args.profile)
        steps = memory_table(Path(tmp) / "run-0" / "device")
    lat = {stage: [t["latency_ms"][stage] for t in turns if t["latency_ms"].get(stage) is not None] for stage in STAGES}
    eos = lat["true_eos_to_first_audio"] or lat["eos_to_first_audio"]
    compute = [v - hold_ms for v in eos]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nEnd of speech -> first reply audio: {len(eos)} turns from {args.repeat} run(s) of the {language} scenario, "
          f"{'fed as fast as possible' if args.fast else 'fed in real time'} ({os.cpu_count()} cores, load {load})")
    print(f"{'stage':<28}{'p50 ms':>8}{'p95 ms':>8}")
    for stage in STAGES:
        print(f"{stage:<28}{_p(lat[stage], 50)} {_p(lat[stage], 95)}")
    print(f"{'anchor: VAD silence hold':<28}{hold_ms:7.0f} {hold_ms:7.0f}")
    print(f"{'end to end minus the hold':<28}{_p(compute, 50)} {_p(compute, 95)}")
    early = sum(1 for v in lat["endpoint"] if v < hold_ms - 1)
    print(f"turns ended early (a complete request after {early_ms:.0f} ms of quiet): {early} of {len(lat['endpoint'])}")
    p95 = float(np.percentile(eos, 95)) if eos else float("nan")
    for issue, goal in (("issue 9", GOAL_P95_MS), ("issue 21", GOAL21_P95_MS)):
        print(f"{issue} goal p95 <= {goal:.0f} ms: {_met(p95 <= goal)} ({p95:.0f} ms; ratio to the hold {p95 / hold_ms:.2f})")
    print("\nRuntime memory of `python -m edge run` with all models loaded "
          f"({memory['turns_answered']} turns answered)")
    def parts(anon: float | None, file: float | None) -> str:
        return f"  ({anon:.0f} anonymous + {file:.0f} file-backed)" if anon is not None and file is not None else ""

    print(f"{'RSS when ready (all loaded)':<28}{memory.get('ready_rss_mb') or float('nan'):7.0f} MB"
          + parts(memory.get("ready_anon_mb"), memory.get("ready_file_mb")))
    print(f"{'RSS at the end':<28}{memory.get('rss_mb', float('nan')):7.0f} MB"
          + parts(memory.get("anon_mb"), memory.get("file_mb")))
    print(f"{'peak RSS (VmHWM)':<28}{memory.get('peak_rss_mb', float('nan')):7.0f} MB")
    # Issue 9's measure is the RSS with all models loaded; issue 21's adds the session's end and its peak
    # (a device maker sizes RAM by the peak).
    ready, end, peak = (memory.get(key) or float("nan") for key in ("ready_rss_mb", "rss_mb", "peak_rss_mb"))
    print(f"issue 9 goal RSS with all models loaded <= {GOAL_RSS_MB:.0f} MB: {_met(ready <= GOAL_RSS_MB)} "
          f"({ready:.0f} MB; load: {memory.get('load_seconds')})")
    print(f"issue 21 goal RSS ready / end / peak <= {GOAL21_RSS_MB:.0f} MB: "
          f"{_met(max(ready, end, peak) <= GOAL21_RSS_MB)} ({ready:.0f} / {end:.0f} / {peak:.0f} MB)")
    p50 = float(np.percentile(eos, 50)) if eos else float("nan")
    area = "end to end" if language == "en" else f"end to end ({language})"
    summary.add(area, f"end of speech -> first reply audio, {len(eos)} scenario turns in real time",
                f"p50 {p50:.0f} / p95 {p95:.0f} ms ({early} ended early)",
                f"p95 <= {GOAL_P95_MS:.0f} ms (issue 9), <= {GOAL21_P95_MS:.0f} ms (issue 21)",
                f"VAD silence hold {hold_ms:.0f} ms")
    summary.add(area, "device RSS: all models loaded (the goal's measure) / end of a session / peak",
                f"{memory.get('ready_rss_mb') or float('nan'):.0f} / {memory.get('rss_mb', float('nan')):.0f} / "
                f"{memory.get('peak_rss_mb', float('nan')):.0f} MB",
                f"ready <= {GOAL_RSS_MB:.0f} MB (issue 9); all three <= {GOAL21_RSS_MB:.0f} MB (issue 21)")
    print("\nWhere it goes: RSS added by each part as a fresh process loads it (MB)")
    print(f"{'part':<52}{'added':>7} {'RSS':>7} {'peak':>7} {'anon':>7} {'file':>7}")
    for row in (r for r in steps if "step" in r):
        print(f"{row['step']:<52}{row['added_mb']:7.0f} {row['rss_mb']:7.0f} {row.get('peak_rss_mb', 0.0):7.0f} "
              f"{row.get('anon_mb', float('nan')):7.0f} {row.get('file_mb', float('nan')):7.0f}")
    for row in (r for r in steps if "modules" in r):
        print(f"Chinese-only libraries loaded in {row['language']} mode: {', '.join(row['modules']) or 'none'}")
    for row in (r for r in steps if "files" in r):
        print("File-backed RSS, largest mapped files (MB): " + ", ".join(f"{Path(name).name} {mb:.0f}"
                                                                        for name, mb in row["files"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
