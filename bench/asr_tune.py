"""`python -m bench.asr_tune`: the room-taught Whisper encoder (export/whisper_tune.py) against the shipped one.

A study, not a default (not in `python -m bench all`: it trains for 10-25 minutes the first time):

1. tunes the encoder of the shipped tiny.en source (cached under ~/.cache/voiceshop/build);
2. writes a models directory beside the shipped one (~/.cache/voiceshop/asr-tune/models-<key>): every bundle
   linked, the asr bundle copied with its encoder replaced by the tuned one, exported and quantized with
   the shipped bundle's own INT8 plan (its manifest's kept_fp32 nodes), so only the weights differ;
3. prints word error rates on real recorded human speech with its transcripts (export/real_transcribed.py:
   12 recordings, 101 words) as the device hears it (VAD + Whisper with the shop's style prompt), dry and
   under `bench task`'s own conditions, for the shipped and the tuned encoder;
4. prints the `bench task` command that scores the tuned one on the synthetic voices (its dev split).

Run `python -m bench.asr_tune --lr 2e-5 --clips 3200 --threads 2`; the defaults are export.whisper_tune.TUNE's.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from bench.task_audio import LEVEL, Condition, under
from edge.config import load_settings
from export.whisper_tune import TUNE, TuneSpec

ROOT = Path("~/.cache/voiceshop/asr-tune").expanduser()
CONDITIONS = (Condition("clean", None, "near"), Condition("pink", 10.0, "near"), Condition("babble", 20.0, "near"),
              Condition("clean", None, "far"), Condition("pink", 20.0, "far"), Condition("music", 10.0, "far"))


def probe_models(shipped: Path, spec: TuneSpec, threads: int) -> tuple[Path, dict[str, object]]:
    """The models directory with the tuned encoder, and the tuning record."""
    import whisper

    from export import asr, whisper_onnx, whisper_quant, whisper_tune
    from export.whisper_torch import load_whisper

    model = load_whisper(asr.model_dir())
    record = whisper_tune.tuned(model, asr.source_key(), dataclasses.replace(spec, threads=threads))
    manifest_bytes = (shipped / "asr" / "manifest.json").read_bytes()
    shipped_key = hashlib.sha256(manifest_bytes).hexdigest()[:8]  # the other bundle files are copied from this build
    out = ROOT / f"models-{whisper_tune.key(spec, asr.source_key())}-{shipped_key}"
    if out.is_dir():
        return out, record
    staging = out.with_name(out.name + ".tmp")  # renamed when whole: a crash never leaves the shipped encoder behind
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for bundle in shipped.iterdir():
        if bundle.name != "asr":
            (staging / bundle.name).symlink_to(bundle.resolve())
    shutil.copytree(shipped / "asr", staging / "asr")
    work = staging / "fp32"
    work.mkdir()
    vocabulary = whisper_onnx.read_vocabulary(asr.model_dir() / "vocabulary.txt")
    non_speech = list(whisper.tokenizer.get_tokenizer(multilingual=False).non_speech_tokens)
    whisper_onnx.export_encoder(model, work / "encoder.onnx")
    whisper_onnx.add_metadata(work / "encoder.onnx", whisper_onnx.encoder_metadata(model.dims, vocabulary, non_speech))
    manifest = json.loads(manifest_bytes)
    kept = manifest["quantization"]["kept_fp32"].get("encoder.onnx", [])
    whisper_quant.quantize(work / "encoder.onnx", staging / "asr" / "encoder.int8.onnx", kept)
    shutil.rmtree(work)
    # a manifest of its own: bench task keys its transcript cache by the asr manifest's hash
    (staging / "asr" / "manifest.json").write_text(json.dumps({**manifest, "tuned_encoder": record}, indent=1))
    staging.rename(out)
    return out, record


def real_wer(models: Path, draws: int = 3, verbose: bool = False) -> dict[str, float]:
    """WER per condition (and pooled) on the transcribed real recordings through the device recognizer, each
    recording under `draws` rooms and noises of each condition: 101 words are few, and one draw moved the
    shipped encoder's pooled WER by 0.015 between two float32 scalings of the same audio."""
    from bench.task_chain import transcriber
    from edge.text.wer import edit_distance, normalize
    from export.real_transcribed import recordings
    from export.speech_noise import active_rms

    settings = load_settings()
    hear = transcriber(dataclasses.replace(settings, models=dataclasses.replace(settings.models, dir=str(models))))
    clips = recordings()
    out, errors, words = {}, 0, 0
    for condition in CONDITIONS:
        e = w = 0
        for n, clip in enumerate(clips):
            audio = (clip.audio * (LEVEL / (active_rms(clip.audio) + 1e-9))).astype(np.float32)
            said = normalize(clip.text)
            for draw in range(draws if condition.noise != "clean" or condition.field == "far" else 1):
                heard = hear(under(audio, condition, f"real{n}-{draw}"))
                wrong = edit_distance(said, normalize(heard.replace("Mr.", "mister")))
                if verbose and wrong:
                    print(f"  {condition.label} [{wrong}] {clip.text!r} -> {heard!r}")
                e, w = e + wrong, w + len(said)
        out[condition.label] = round(e / w, 3)
        errors, words = errors + e, words + w
    out["pooled"] = round(errors / words, 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.asr_tune", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=TUNE.clips)
    parser.add_argument("--lr", type=float, default=TUNE.lr)
    parser.add_argument("--real-share", type=float, default=TUNE.real_share)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the tuning (not part of its key)")
    parser.add_argument("--draws", type=int, default=3, help="rooms and noises per recording and condition")
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="another models directory to score beside them (e.g. an earlier tuning's)")
    parser.add_argument("--verbose", action="store_true", help="print every misheard real recording")
    args = parser.parse_args(argv)
    spec = dataclasses.replace(TUNE, clips=args.clips, lr=args.lr, real_share=args.real_share)
    shipped = Path(load_settings().models.path)
    tuned_dir, record = probe_models(shipped, spec, args.threads)
    print(f"tuning: {json.dumps(record)}")
    rows = {"shipped encoder": real_wer(shipped, args.draws, args.verbose),
            "room-taught encoder": real_wer(tuned_dir, args.draws, args.verbose)}
    rows.update({str(other): real_wer(other, args.draws, args.verbose) for other in args.also})
    labels = list(next(iter(rows.values())))
    print(f"\nreal recorded speech with transcripts (pocketsphinx 5.1.1 test data, 12 recordings, 101 words; {args.draws} "
          "rooms/noises per recording in each condition but the dry one): WER")
    print("| encoder | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.3f}" for k in labels) + " |")
    print(f"\nsynthetic held-out voices: VOICESHOP_MODELS__DIR={tuned_dir} python -m bench task --dev --models tiny.en "
          "--snr 20 --snr 10 --commands 20 --hearing-changes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
