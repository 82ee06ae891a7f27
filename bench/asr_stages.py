"""`python -m bench.asr_stages`: where the device's recognizer and faster-whisper part ways in noise.

Every system decodes the same noisy clips (export.speech_noise) with the same Whisper tiny.en
weights; each differs from its neighbour in one stage only, so a WER step between two rows is
that stage's doing:

- faster-whisper int8 / float32: the anchor, and the anchor without its int8 (CT2's quantization);
- onnx {int8,fp32} on faster-whisper's features: our graphs decoded greedily in Python on the
  anchor's own log-mel (zero feature frames up to 3000), i.e. our conversion + quantization alone;
- onnx int8 on whisper's mel: openai-whisper's front end (audio silence up to 30 s);
- onnx int8, clip + N zero frames: the anchor's features cut to the clip plus N zero feature frames,
  what sherpa does with tail_paddings N, with the anchor's log-mel;
- sherpa {int8,fp32}, tail N: sherpa's OfflineRecognizer on the whole clip (its log-mel, no VAD);
- sherpa int8 + audio silence: the clip followed by S seconds of digital silence before sherpa;
- device: edge.asr's recognizer (VAD segments, pre-roll, tail, guard), as `transcribe` runs it;
  "device tN" / "sherpa int8 tN": with N frames of tail padding; "ort" / "ort tN": the device with
  [asr] runtime = "onnxruntime" (edge.asr.whisper_ort); "ort sN": with padding by need, N frames first
  ([asr] short_tail_padding_frames); "ort mS": segments split at S seconds ([asr] max_segment_seconds);
  "ort pS": utterances decoded together in windows of up to S seconds, as `transcribe` does ([asr] pack_seconds);
  the words combine ("ort t200 m15").
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from bench.asr_anchor import anchor_model_dir, clip_set, faster_whisper_anchor, run_interleaved
from export.speech_corpus import ESPEAK_VOICES, PIPER_VOICES, SENTENCES
from export.speech_noise import LONG_VOICES, NOISY, REVERBERANT, Condition, long_form, noisy_clips
from export.wer import wer

Transcriber = Callable[[np.ndarray], str]


def _fp32_dir() -> Path:
    import json

    from edge.config import load_settings

    manifest = json.loads((load_settings().models.path / "asr" / "manifest.json").read_text())
    return Path(manifest["extra"]["fp32_build_dir"])


def _fw_model(compute_type: str):
    from faster_whisper import WhisperModel

    return WhisperModel(str(anchor_model_dir()), device="cpu", compute_type=compute_type, cpu_threads=1,
                        num_workers=1, local_files_only=True)


def fw(compute_type: str) -> Transcriber:
    model = _fw_model(compute_type)

    def transcribe(audio: np.ndarray) -> str:
        segments, _ = model.transcribe(audio, language="en", beam_size=1, best_of=1, temperature=0.0,
                                       without_timestamps=True, vad_filter=False, condition_on_previous_text=False)
        return " ".join(s.text.strip() for s in segments)

    return transcribe


def onnx(encoder: Path, decoder: Path, front: str, tail: int = 0) -> Transcriber:
    """Our ONNX pair decoded greedily on a chosen front end (see module doc)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    from export.asr_parity import OnnxGreedy, whisper_mel
    from export.whisper_onnx import read_metadata

    meta = {k: int(v) for k, v in read_metadata(encoder).items() if v.lstrip("-").isdigit()}
    greedy = OnnxGreedy(encoder, decoder, meta)
    features = FeatureExtractor(feature_size=80)

    def transcribe(audio: np.ndarray) -> str:
        if front == "whisper":
            mel = whisper_mel(audio)
        else:
            mel = features(audio)[:, :-1]
            width = 3000 if front == "fw" else min(3000, mel.shape[1] + tail)
            mel = np.pad(mel, ((0, 0), (0, width - mel.shape[1])))
        ids = [t for t in greedy.token_ids(mel.astype(np.float32)) if t < meta["eot"]]
        return greedy.tokenizer.decode(ids).strip()

    return transcribe


def sherpa(encoder: Path, decoder: Path, tokens: Path, tail: int, silence: float = 0.0) -> Transcriber:
    import sherpa_onnx

    recognizer = sherpa_onnx.OfflineRecognizer.from_whisper(
        encoder=str(encoder), decoder=str(decoder), tokens=str(tokens), language="en", num_threads=1,
        tail_paddings=tail)
    gap = np.zeros(int(silence * 16000), np.float32)

    def transcribe(audio: np.ndarray) -> str:
        stream = recognizer.create_stream()
        stream.accept_waveform(16000, np.concatenate([audio, gap]))
        recognizer.decode_stream(stream)
        return stream.result.text.strip()

    return transcribe


def device(**asr: object) -> Transcriber:
    from bench.speech_asr import _device_transcriber
    from edge.asr import recognizer_for_settings
    from edge.config import load_settings

    environ = {f"VOICESHOP_ASR__{k.upper()}": str(v) for k, v in asr.items()}
    settings = load_settings(environ={**os.environ, **environ})
    return _device_transcriber(recognizer_for_settings(settings, partials=False, speculative=False, threads=1,
                                                       pack="pack_seconds" in asr))


def systems(names: list[str]) -> dict[str, Transcriber]:
    from edge.config import load_settings

    bundle = load_settings().models.path / "asr"
    enc8, dec8, tok = bundle / "encoder.int8.onnx", bundle / "decoder.int8.onnx", bundle / "tokens.txt"
    fp = _fp32_dir()
    enc32, dec32 = fp / "encoder.onnx", fp / "decoder.onnx"
    table: dict[str, Callable[[], Transcriber]] = {
        "fw int8": lambda: faster_whisper_anchor(1),
        "fw fp32": lambda: fw("float32"),
        "onnx int8 fw-feat": lambda: onnx(enc8, dec8, "fw"),
        "onnx fp32 fw-feat": lambda: onnx(enc32, dec32, "fw"),
        "onnx int8 whisper-mel": lambda: onnx(enc8, dec8, "whisper"),
        "onnx int8 +1000 zero": lambda: onnx(enc8, dec8, "tail", 1000),
        "sherpa int8 t1000": lambda: sherpa(enc8, dec8, tok, 1000),
        "sherpa fp32 t1000": lambda: sherpa(enc32, dec32, tok, 1000),
        "sherpa int8 +10s sil": lambda: sherpa(enc8, dec8, tok, 1, 10.0),
        "device": lambda: device(),
    }
    chosen = {}
    for name in names:
        if name.startswith("device t"):  # "device t300": the device path with that tail padding
            chosen[name] = device(tail_padding_frames=int(name.removeprefix("device t")))
        elif name == "ort" or name.startswith("ort "):  # the device, Whisper on onnxruntime: "ort t200 m15"
            keys = {"t": "tail_padding_frames", "s": "short_tail_padding_frames", "m": "max_segment_seconds",
                    "p": "pack_seconds"}
            chosen[name] = device(runtime="onnxruntime", **{keys[w[0]]: float(w[1:]) if w[0] in "mp" else int(w[1:])
                                                            for w in name.split()[1:]})
        elif name.startswith("sherpa int8 t"):
            chosen[name] = sherpa(enc8, dec8, tok, int(name.removeprefix("sherpa int8 t")))
        else:
            chosen[name] = table[name]()
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.asr_stages", description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10, help="clips per voice")
    parser.add_argument("--set", choices=["noisy", "reverb", "clean", "long"], default="noisy",
                        help="long: --clips recordings of 10-60 s (export.speech_noise.long_form, every other noisy)")
    parser.add_argument("--systems", default="fw int8,sherpa int8 t1000,device")
    parser.add_argument("--show", action="store_true", help="print the clips where the systems differ")
    parser.add_argument("--split", choices=["all", "tune", "held"], default="all",
                        help="tune: sentences 1-15 in Piper joe + espeak en-us; held: sentences 16-30 in the "
                             "other voices (Piper joe 0.9/1.15, espeak en-gb, en-us+f3)")
    args = parser.parse_args(argv)
    voices = {"all": (*PIPER_VOICES, ESPEAK_VOICES[0], ESPEAK_VOICES[1]), "tune": (PIPER_VOICES[0], ESPEAK_VOICES[0]),
              "held": (PIPER_VOICES[1], PIPER_VOICES[2], ESPEAK_VOICES[1], ESPEAK_VOICES[2])}[args.split]
    utterances, clips = clip_set(voices, 30 if args.split != "all" else args.clips)
    if args.split != "all":
        wanted = set(SENTENCES[:15] if args.split == "tune" else SENTENCES[15:])
        kept = [i for i, u in enumerate(utterances) if u.text in wanted][:args.clips * len(voices)]
        utterances, clips = [utterances[i] for i in kept], [clips[i] for i in kept]
    conditions = {"noisy": NOISY, "reverb": REVERBERANT, "clean": (), "long": ()}[args.set]
    labels = ["clean"] * len(clips)
    if args.set == "long":
        lengths = [10.0 + 50.0 * i / max(1, args.clips - 1) for i in range(args.clips)]
        made = [long_form(sec, i + (100 if args.split == "held" else 0), LONG_VOICES if args.split == "all" else voices,
                          NOISY[i % len(NOISY)] if i % 2 else Condition()) for i, sec in enumerate(lengths)]
        clips = [audio for audio, _ in made]
        utterances = [SimpleNamespace(text=text, voice=SimpleNamespace(engine="mixed")) for _, text in made]
        labels = ["noisy" if i % 2 else "clean" for i in range(len(made))]
    elif conditions:
        clips, used = noisy_clips(clips, conditions, [u.path.stem for u in utterances])
        labels = [c.label for c in used]
    elif args.set == "clean":
        pad = np.zeros(8000, np.float32)
        clips = [np.concatenate([pad, c, pad]) for c in clips]
    chosen = systems([s.strip() for s in args.systems.split(",")])
    scores = run_interleaved(chosen, clips)
    refs = [u.text for u in utterances]
    print(f"{args.set}, split {args.split}: {len(clips)} clips, {len(voices)} voices, load {os.getloadavg()[0]:.1f}")
    for name, score in scores.items():
        piper_pairs = [(refs[i], score.hypotheses[i]) for i, u in enumerate(utterances) if u.voice.engine == "piper"]
        piper = wer(piper_pairs) if piper_pairs else float("nan")
        by_condition = "  ".join(
            f"{label} {wer((refs[i], score.hypotheses[i]) for i in range(len(refs)) if labels[i] == label):.3f}"
            for label in dict.fromkeys(labels))
        print(f"{name:<24} WER {score.wer(refs):.3f}  piper {piper:.3f}  cpu {score.cpu_total:6.1f} s  | {by_condition}")
    if args.show:
        for i, ref in enumerate(refs):
            hyps = {name: s.hypotheses[i] for name, s in scores.items()}
            if len({h.lower().strip(" .?!") for h in hyps.values()}) > 1:
                print(f"\n[{i}] {ref}")
                for name, hyp in hyps.items():
                    print(f"   {name:<24} {hyp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
