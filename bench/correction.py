"""`python -m bench correction`: what catalog-aware correction (edge/catalog/correction.py) fixes and breaks.

Shopping requests naming every demo-catalog product are synthesized (Piper joe; optionally with white
noise at a given SNR), transcribed by the device's Whisper INT8 on sherpa-onnx (the `asr` or `asr-base`
bundle, no VAD: one clip, one decode), then corrected against the demo catalog's names, aliases,
brands and units. Products are split in two by position: the *tuning* half is what the corrector's
thresholds were chosen on, the *held-out* half is only measured. For each half it prints:

- word errors fixed (reference words wrong in the transcript, right after correction) and correct
  words broken (right before, wrong after), from a word alignment against the reference;
- WER before and after, and product-correct (the product's words appear in the transcript as said);
- the edits, so a reader can judge them.

`--write-testdata` stores the held-out (reference, heard) pairs in tests/data/correction_heldout.jsonl,
which tests/test_correction.py measures the shipped corrector on without synthesizing or decoding.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge.catalog.correction import Corrector, Lexicon, espeak_pronouncer
from export.speech_corpus import PIPER_JOE, Voice, clip, read_wav_16k
from export.wer import normalize, wer
from voiceshop_common import vocab

CACHE = Path("~/.cache/voiceshop/correction").expanduser()
TESTDATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "correction_heldout.jsonl"
TEMPLATES = (
    "add {product} to my cart", "do you have any {product}", "how much is the {product}",
    "I need two {product}", "remove the {product} from my cart", "put some {product} in the basket",
    "find me {product}", "I am out of {product}",
)


@dataclass(frozen=True)
class Request:
    text: str
    product: str


def requests() -> tuple[list[Request], list[Request]]:
    """(tuning, held-out): one request per demo product, products alternating between the halves."""
    tuning, held_out = [], []
    for index, product in enumerate(vocab.product_names()):
        request = Request(TEMPLATES[index % len(TEMPLATES)].format(product=product.lower()), product)
        (tuning if index % 2 == 0 else held_out).append(request)
    return tuning, held_out


def lexicon() -> Lexicon:
    """The demo catalog's vocabulary, as Lexicon.from_catalog reads it from a device's catalog.db."""
    units = set(vocab.UNITS) | set(vocab.UNIT_PLURALS.values())
    return Lexicon.from_terms(vocab.product_names(), vocab.brand_names(), units, vocab.aliases().keys())


def _noisy(audio: np.ndarray, snr_db: float | None, seed: str) -> np.ndarray:
    if snr_db is None:
        return audio
    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    power = float(np.mean(audio ** 2)) or 1e-8
    noise = rng.standard_normal(len(audio)).astype(np.float32) * np.sqrt(power / 10 ** (snr_db / 10))
    return (audio + noise).astype(np.float32)


def transcripts(items: Sequence[Request], voice: Voice, model: str, snr_db: float | None,
                models_dir: Path) -> list[str]:
    """What the device's recognizer hears for each request (cached per bundle build and setting)."""
    from bench.asr_anchor import sherpa_whisper

    bundle = models_dir / ("asr" if model == "tiny.en" else "asr-base")
    manifest = json.loads((bundle / "manifest.json").read_text())
    key = hashlib.sha256(f"{manifest['source_key']}{voice.label}{snr_db}".encode()).hexdigest()[:16]
    path = CACHE / f"{model}-{key}.json"
    cached = json.loads(path.read_text()) if path.is_file() else {}
    missing = [r.text for r in items if r.text not in cached]
    if missing:
        decode = sherpa_whisper(bundle / "encoder.int8.onnx", bundle / "decoder.int8.onnx", bundle / "tokens.txt", 1)
        for text in missing:
            audio = _noisy(read_wav_16k(clip(text, voice).path), snr_db, text)
            cached[text] = decode(np.concatenate([np.zeros(4000, np.float32), audio, np.zeros(4000, np.float32)]))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cached, indent=0))
    return [cached[r.text] for r in items]


def _right_words(reference: list[str], hypothesis: list[str]) -> set[int]:
    """Indices of reference words the hypothesis has in an aligned position."""
    matcher = difflib.SequenceMatcher(None, reference, hypothesis, autojunk=False)
    return {block.a + k for block in matcher.get_matching_blocks() for k in range(block.size)}


def _has_product(text: str, product: str) -> bool:
    said, name = normalize(text), normalize(product)
    return any(said[i:i + len(name)] == name for i in range(len(said) - len(name) + 1))


@dataclass
class Outcome:
    """Correction measured on one set of (reference, heard) pairs."""

    words: int = 0
    fixed: int = 0
    broken: int = 0
    wer_before: float = 0.0
    wer_after: float = 0.0
    product_before: float = 0.0
    product_after: float = 0.0
    edits: list[tuple[str, str, str]] = field(default_factory=list)
    """(heard, corrected, reference) of every transcript the corrector changed."""


def measure(corrector: Corrector, pairs: Sequence[tuple[str, str, str]]) -> Outcome:
    """pairs: (reference, heard, product)."""
    out = Outcome()
    before_pairs, after_pairs, before_ok, after_ok = [], [], 0, 0
    for reference, heard, product in pairs:
        corrected = corrector.correct(heard).text
        ref = normalize(reference)
        right_before = _right_words(ref, normalize(heard))
        right_after = _right_words(ref, normalize(corrected))
        out.words += len(ref)
        out.fixed += len(right_after - right_before)
        out.broken += len(right_before - right_after)
        before_pairs.append((reference, heard))
        after_pairs.append((reference, corrected))
        before_ok += _has_product(heard, product)
        after_ok += _has_product(corrected, product)
        if corrected != heard:
            out.edits.append((heard, corrected, reference))
    out.wer_before, out.wer_after = wer(before_pairs), wer(after_pairs)
    out.product_before, out.product_after = before_ok / len(pairs), after_ok / len(pairs)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", choices=("tiny.en", "base"), default="tiny.en", help="which ASR bundle hears")
    parser.add_argument("--snr", type=float, action="append", help="white-noise SNR in dB (repeat; default clean)")
    parser.add_argument("--rate", type=float, default=1.0, help="Piper length_scale of the speaker")
    parser.add_argument("--write-testdata", action="store_true", help=f"store held-out pairs in {TESTDATA}")
    parser.add_argument("--models-dir", type=Path, default=None, help="bundle directory (default [models] dir)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench correction", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv or [])
    from edge.config import load_settings

    models_dir = args.models_dir or load_settings().models.path
    corrector = Corrector(lexicon(), espeak_pronouncer())
    voice = Voice("piper", "joe", args.rate) if args.rate != 1.0 else PIPER_JOE
    halves = dict(zip(("tuning", "held-out"), requests(), strict=True))
    print(f"correction on {args.model} transcripts, voice {voice.label}; thresholds: "
          f"threshold {corrector.threshold}, margin {corrector.margin}, context +{corrector.context_bonus}")
    print(f"{'set':<10} {'snr':>5} {'reqs':>5} {'words':>6} {'fixed':>6} {'broken':>7} {'WER raw':>8} "
          f"{'WER corr':>9} {'prod raw':>9} {'prod corr':>10}")
    records = []
    for snr in args.snr or [None]:
        for label, items in halves.items():
            heard = transcripts(items, voice, args.model, snr, models_dir)
            pairs = [(r.text, h, r.product) for r, h in zip(items, heard, strict=True)]
            result = measure(corrector, pairs)
            print(f"{label:<10} {'clean' if snr is None else f'{snr:g}':>5} {len(items):>5} {result.words:>6} "
                  f"{result.fixed:>6} {result.broken:>7} {result.wer_before:>8.3f} {result.wer_after:>9.3f} "
                  f"{result.product_before:>9.3f} {result.product_after:>10.3f}")
            for heard_text, corrected, reference in result.edits:
                print(f"    {heard_text!r} -> {corrected!r}   (said {reference!r})")
            if label == "held-out":
                records += [{"reference": r, "heard": h, "product": p, "model": args.model, "voice": voice.label,
                             "snr_db": snr} for r, h, p in pairs]
    if args.write_testdata:
        TESTDATA.write_text("".join(json.dumps(r) + "\n" for r in records))
        print(f"wrote {len(records)} held-out pairs to {TESTDATA}")
    return 0
