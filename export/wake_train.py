"""Features, the classifier head, its training and its ONNX export.

Windows of 16 embeddings are labelled from where the phrase sits in each clip: a window ending
0.08-0.48 s after the phrase ends is positive (the detector should fire within that span), a
window ending 0.16 s or more before the phrase ends is negative (so "hey" alone or "hey sha-"
does not fire: the last sound is what tells "shop" from "shot"), and windows in between are left
out because either answer is right there. Every window of
a negative clip is negative. Embeddings come from `edge.wake.features.embed_clip`, the very code
the device streams through, so training and serving see identical features.

The head is the openWakeWord shape: flatten 16x96 -> small MLP -> sigmoid. Training is plain
PyTorch, seeded, one thread, balanced batches, with the weight of negatives ramping up during
training (as openWakeWord does) to push false accepts down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edge.wake.features import EMBEDDING_DIM, HEAD_WINDOW, SAMPLE_RATE, STEP_SAMPLES, FrontEnd, embed_clip
from export.wake_augment import Clip

log = logging.getLogger(__name__)

STEP_SECONDS = STEP_SAMPLES / SAMPLE_RATE
POSITIVE_SPAN = (0.08, 0.48)
"""Window end relative to the phrase end (seconds) inside which a window counts as positive."""
PARTIAL_BEFORE = 0.16
"""Windows ending this long before the phrase end or earlier are negative: "hey sha-" is not the
phrase yet, and firing there is what makes "hey shot" or "hey Sean" fire."""


@dataclass
class WindowSet:
    """Embedding windows as (start rows into bank) plus labels and a group name per window."""

    bank: np.ndarray
    starts: np.ndarray
    labels: np.ndarray
    groups: np.ndarray

    def windows(self, index: np.ndarray) -> np.ndarray:
        return self.bank[self.starts[index, None] + np.arange(HEAD_WINDOW)]

    def __len__(self) -> int:
        return len(self.starts)


def label_windows(label: int, phrase_start: float, phrase_end: float, steps: int) -> list[tuple[int, int]]:
    """(step, label) pairs for one clip (see the module docstring)."""
    if label == 0:
        return [(k, 0) for k in range(steps)]
    out = []
    for k in range(steps):
        end = (k + 1) * STEP_SECONDS
        if POSITIVE_SPAN[0] <= end - phrase_end <= POSITIVE_SPAN[1]:
            out.append((k, 1))
        elif end <= phrase_end - PARTIAL_BEFORE:
            out.append((k, 0))
    return out


def embed_clips(front_end: FrontEnd, clips: list[Clip]) -> dict[str, np.ndarray]:
    """Embed every clip (the slow part: ~2.5 ms per 80 ms step on one core), keeping what labelling needs.

    Returns plain arrays (cacheable with np.savez): the embeddings of all clips end to end, each
    clip's offset into them, and each clip's label, kind and phrase position.
    """
    banks, offsets = [], [0]
    started = time.monotonic()
    for n, clip in enumerate(clips):
        banks.append(embed_clip(front_end, clip.audio))
        offsets.append(offsets[-1] + len(banks[-1]))
        if n % 500 == 499:
            log.info("embedded %d/%d clips (%.0f s)", n + 1, len(clips), time.monotonic() - started)
    return {"bank": np.concatenate(banks), "offsets": np.array(offsets),
            "labels": np.array([c.label for c in clips]), "kinds": np.array([c.kind.split(":")[0] for c in clips]),
            "phrase_start": np.array([c.phrase_start for c in clips]),
            "phrase_end": np.array([c.phrase_end for c in clips])}


def windows_from(embedded: dict[str, np.ndarray]) -> WindowSet:
    """Label the windows of embedded clips (cheap; done after the cache so labels can change freely)."""
    starts, labels, groups = [], [], []
    offsets = embedded["offsets"]
    for i in range(len(offsets) - 1):
        steps = int(offsets[i + 1] - offsets[i]) - (HEAD_WINDOW - 1)
        clip_label, kind = int(embedded["labels"][i]), str(embedded["kinds"][i])
        for k, label in label_windows(clip_label, float(embedded["phrase_start"][i]),
                                      float(embedded["phrase_end"][i]), steps):
            starts.append(int(offsets[i]) + k)
            labels.append(label)
            groups.append("partial" if clip_label == 1 and label == 0 else kind)
    return WindowSet(embedded["bank"], np.array(starts), np.array(labels, dtype=np.float32), np.array(groups))


class WakeHead(nn.Module):
    """(batch, 16, 96) embeddings -> (batch, 1) wake score in [0, 1]."""

    def __init__(self, hidden: int = 64, dropout: float = 0.3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(HEAD_WINDOW * EMBEDDING_DIM, hidden), nn.LayerNorm(hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x))


class ConvHead(nn.Module):
    """(batch, 16, 96) -> (batch, 1): temporal convolutions, max over time, so a pattern counts
    wherever it sits in the window (the labels already say *when* it must be complete)."""

    def __init__(self, hidden: int = 64, dropout: float = 0.3) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(EMBEDDING_DIM, hidden, kernel_size=3, padding=1), nn.ReLU(), nn.Dropout(dropout),
            nn.Conv1d(hidden, hidden, kernel_size=3, padding=1), nn.ReLU(),
        )
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.conv(x.transpose(1, 2)).amax(dim=2)
        return torch.sigmoid(self.out(features))


@dataclass(frozen=True)
class TrainSpec:
    """Training settings (part of the bundle's source key)."""

    steps: int = 3000
    batch: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    max_negative_weight: float = 6.0
    hard_negative_boost: float = 3.0
    """Extra weight for confusable phrases and partial-phrase windows."""
    hidden: int = 64
    dropout: float = 0.3
    arch: str = "mlp"
    """"mlp" (flatten, openWakeWord's shape) or "conv" (temporal convolutions, max over time)."""
    seed: int = 7
    members: int = 1
    """Heads trained with seeds seed, seed + 1, ... on the same windows; the shipped head averages their scores."""


class MeanHead(nn.Module):
    """The average of several heads' scores: one ONNX graph, the detector's interface unchanged."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(dim=0)


def train_head(data: WindowSet, spec: TrainSpec,
               make: Callable[[], nn.Module] | None = None) -> tuple[nn.Module, dict[str, float]]:
    """spec.members seeded heads (see _train_one), averaged when more than one; facts of the last."""
    if spec.members <= 1:
        return _train_one(data, spec, make)
    trained = [_train_one(data, replace(spec, seed=spec.seed + k, members=1), make) for k in range(spec.members)]
    facts = trained[-1][1] | {"seconds": round(sum(f["seconds"] for _m, f in trained), 1)}
    return MeanHead([m for m, _f in trained]).eval(), facts


def _train_one(data: WindowSet, spec: TrainSpec,
               make: Callable[[], nn.Module] | None = None) -> tuple[nn.Module, dict[str, float]]:
    """Seeded training on balanced batches; returns the model (eval mode) and a few facts. `make`
    builds another front end's head to train instead of spec.arch's (after seeding)."""
    torch.manual_seed(spec.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(spec.seed)
    model = make() if make else (ConvHead if spec.arch == "conv" else WakeHead)(spec.hidden, spec.dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    pos = np.flatnonzero(data.labels == 1)
    neg = np.flatnonzero(data.labels == 0)
    hard = np.isin(data.groups, ["confusable", "partial"])
    boost = np.where(hard, spec.hard_negative_boost, 1.0).astype(np.float32)
    started = time.monotonic()
    losses = []
    for step in range(spec.steps):
        lr = spec.lr * 0.5 * (1 + np.cos(np.pi * step / spec.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        index = np.concatenate([rng.choice(pos, spec.batch // 2), rng.choice(neg, spec.batch // 2)])
        x = torch.from_numpy(data.windows(index))
        y = torch.from_numpy(data.labels[index])
        neg_weight = 1.0 + (spec.max_negative_weight - 1.0) * step / spec.steps
        w = torch.from_numpy(np.where(data.labels[index] == 1, 1.0, neg_weight * boost[index]).astype(np.float32))
        model.train()
        pred = model(x).squeeze(1).clamp(1e-6, 1 - 1e-6)
        loss = (nn.functional.binary_cross_entropy(pred, y, reduction="none") * w).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return model, {"seconds": round(time.monotonic() - started, 1), "final_loss": float(np.mean(losses[-100:])),
                   "positive_windows": int(len(pos)), "negative_windows": int(len(neg))}


def predict(model: nn.Module, data: WindowSet, batch: int = 2048) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(data), batch):
            out.append(model(torch.from_numpy(data.windows(np.arange(i, min(i + batch, len(data)))))).numpy()[:, 0])
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def export_onnx(model: nn.Module, path: Path) -> None:
    """Legacy exporter (weights inline), dynamic batch; input 'embeddings', output 'score'."""
    dummy = torch.zeros(1, HEAD_WINDOW, EMBEDDING_DIM)
    torch.onnx.export(model, (dummy,), str(path), input_names=["embeddings"], output_names=["score"],
                      dynamic_axes={"embeddings": {0: "batch"}, "score": {0: "batch"}}, opset_version=17,
                      dynamo=False)
