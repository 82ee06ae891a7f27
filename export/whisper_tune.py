"""Whisper tiny.en's encoder, taught to hear across a room (teacher-student): a study, `python -m bench.asr_tune`.

The device's worst case is a shopper 2-4 m away: `bench task` measured intent 0.75 in the far field
against 0.95 near on its dev split, and decode-side work (prompt, bias, beam, re-reading, a second
hearing, dereverberation with WPE) moved it a few points. Whisper tiny.en has not heard enough rooms.

What this does: the encoder is copied; the copy (the student) hears a line as a device across a room
hears it (export.tune_audio: reverberation, noise, level) and is trained so its output frames match
the original encoder's (the teacher's) on the same line heard dry; mean squared error over every
frame, the device's own features and tail padding (edge.asr.whisper_features, 500 frames). No text is
trained on and the decoder is untouched, so what Whisper writes (its language, punctuation, numbers)
stays Whisper's: the student only learns to hand the decoder what it would have heard in a quiet room
(teacher-student learning for robust ASR; Li et al., Interspeech 2017). A first try trained the encoder
on the lines' text instead (cross-entropy through the frozen decoder): on real human speech (the
pocketsphinx sdist's LibriVox and CMU recordings) its far-field WER doubled, 0.158 -> 0.347, the
shopping lines' words leaking into what it heard ("had he married" -> "how do you marry"); that is why
the target is the teacher's frames, not text.

Not part of `python -m export asr`: on real recorded speech every tuned encoder so far did worse than the
original (docs/measured/task.md). The tuned encoder's state is cached under ~/.cache/voiceshop/build keyed by
this file, tune_audio.py, the recipe and the source model, so a second look at it does not train again.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import whisper.model as wm

from edge.asr.whisper_features import mel_energies, normalize


@dataclass(frozen=True)
class TuneSpec:
    clips: int = 4000
    """Pairs generated (one epoch over them, each seen once)."""
    real_share: float = 0.2
    """Share of the pairs cut from real recorded speech (export.tune_audio.real_pairs), the rest synthetic."""
    batch: int = 8
    lr: float = 2e-5
    """AdamW, weight decay 0.01, linear warm-up over the first tenth, then linear decay to 0."""
    seed: int = 11
    tail_padding_frames: int = 500
    """The device's [asr] tail_padding_frames: zero feature frames after each line, as it decodes them."""
    threads: int = 1


TUNE = TuneSpec()
CACHE = Path("~/.cache/voiceshop/build").expanduser()


def key(spec: TuneSpec, source_key: str) -> str:
    here = Path(__file__).parent
    recipe = {k: v for k, v in dataclasses.asdict(spec).items() if k != "threads"}  # threads change speed only
    digest = hashlib.sha256(repr(recipe).encode() + source_key.encode())
    for name in ("whisper_tune.py", "tune_audio.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def _features(audio: np.ndarray) -> np.ndarray:
    return normalize(mel_energies(np.asarray(audio, np.float32))).astype(np.float32)


def _encode(model: wm.Whisper, mel: torch.Tensor) -> torch.Tensor:
    """The encoder as the exported graph runs it: as many positions as the features give (no 30 s window)."""
    enc = model.encoder
    x = F.gelu(enc.conv1(mel))
    x = F.gelu(enc.conv2(x)).permute(0, 2, 1)
    x = x + enc.positional_embedding[: x.shape[1]]
    for block in enc.blocks:
        x = block(x)
    return enc.ln_post(x)


def _batch(rows: list[tuple[np.ndarray, np.ndarray]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    frames = max(len(heard) for heard, _ in rows) + pad
    heard_mel, dry_mel = torch.zeros(len(rows), 80, frames), torch.zeros(len(rows), 80, frames)
    for b, (heard, dry) in enumerate(rows):
        heard_mel[b, :, :len(heard)] = torch.from_numpy(heard.T)
        dry_mel[b, :, :len(dry)] = torch.from_numpy(dry.T)
    return heard_mel, dry_mel


def train(model: wm.Whisper, spec: TuneSpec = TUNE) -> dict[str, float]:
    """Tune model's encoder in place (the decoder is not touched); returns the run's figures."""
    from tqdm import tqdm

    from export.tune_audio import pairs, real_pairs

    torch.manual_seed(spec.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(spec.threads)
    started = time.time()
    real = round(spec.clips * spec.real_share)
    made_pairs = itertools.chain(pairs(spec.clips - real, spec.seed), real_pairs(real, spec.seed))
    rows = [(_features(p.heard), _features(p.dry))
            for p in tqdm(made_pairs, total=spec.clips, desc="asr tune: audio", mininterval=5)]
    made = time.time() - started
    teacher = copy.deepcopy(model).eval().requires_grad_(False)
    model.requires_grad_(False)
    model.encoder.requires_grad_(True)
    params = list(model.encoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=spec.lr, weight_decay=0.01)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))  # similar lengths share a batch
    batches = [order[i:i + spec.batch] for i in range(0, len(order), spec.batch)]
    random.Random(spec.seed).shuffle(batches)
    warm = max(1, len(batches) // 10)
    losses = []
    model.train()
    for step, chosen in enumerate(tqdm(batches, desc="asr tune: encoder", mininterval=5)):
        scale = (step + 1) / warm if step < warm else (len(batches) - step) / (len(batches) - warm)
        for group in optimizer.param_groups:
            group["lr"] = spec.lr * scale
        heard, dry = _batch([rows[i] for i in chosen], spec.tail_padding_frames)
        with torch.no_grad():
            target = _encode(teacher, dry)
        loss = F.mse_loss(_encode(model, heard), target)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
    model.eval().requires_grad_(False)
    torch.set_num_threads(threads)
    tenth = max(1, len(losses) // 10)
    return {"pairs": len(rows), "real_pairs": real, "steps": len(losses), "loss_first_tenth": round(float(np.mean(losses[:tenth])), 4),
            "loss_last_tenth": round(float(np.mean(losses[-tenth:])), 4), "audio_seconds": round(made, 1),
            "train_seconds": round(time.time() - started - made, 1)}


def tuned(model: wm.Whisper, source_key: str, spec: TuneSpec = TUNE) -> dict[str, object]:
    """Give model the tuned encoder (trained once per key, then read from the cache); the record for the manifest."""
    path = CACHE / f"asr-tune-{key(spec, source_key)}.pt"
    if path.is_file():
        saved = torch.load(path)
        model.load_state_dict(saved["encoder"], strict=False)
        figures = saved["figures"]
        print(f"[asr tune] the room-tuned encoder from {path}", flush=True)
    else:
        print(f"[asr tune] teaching the encoder rooms ({spec.clips} line pairs, then one epoch; ~15-25 min)",
              flush=True)
        figures = train(model, spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        encoder = {k: v for k, v in model.state_dict().items() if k.startswith("encoder.")}
        torch.save({"encoder": encoder, "figures": figures}, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").rename(path)
    return {"method": "teacher-student (the original encoder on the dry line), encoder only",
            "spec": dataclasses.asdict(spec), **figures}
