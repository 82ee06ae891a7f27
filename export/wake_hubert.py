"""Our head on WakeHuBERT-tiny features (issue 17 item 3), the alternative to livekit-wakeword's.

WakeHuBERT-tiny (Apache-2.0, in the wakeforge wheel) was distilled from HuBERT, which learned
from real speech; the openWakeWord-style embedding was trained on synthetic speech. We train the
same kind of small head on it, with the same clips and labels as the livekit head, and let the
held-out figures decide which ships (export/wake.py FRONT_END).

Windows are scored the way the packaged models are (edge/wake/packaged.py): every 80 ms the last
1.5 s of audio is featurized on its own -> (75, 128). Featurizing every step of every training clip
would cost ~3 ms x 300k windows, so training uses the labelled steps that matter: every positive
step, up to 4 "partial phrase" steps, and up to 6 random steps of each negative clip.
The head averages 3 frames (60 ms) -> (25, 128), then the openWakeWord-shaped MLP; the ONNX
graph outputs the logit (the runtime applies the sigmoid, as for the packaged heads).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from edge.wake.features import STEP_SAMPLES, session_options
from edge.wake.packaged import HOP_SAMPLES
from export.wake_augment import Clip
from export.wake_train import WindowSet, label_windows

log = logging.getLogger(__name__)

WINDOW_FRAMES = 75
FEATURE_DIM = 128
POOL = 3


class HubertHead(nn.Module):
    """(batch, 75, 128) WakeHuBERT frames -> (batch, 1) probability (logit via .logit)."""

    def __init__(self, hidden: int = 64, dropout: float = 0.3) -> None:
        super().__init__()
        self.pool = nn.AvgPool1d(POOL, POOL)
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(WINDOW_FRAMES // POOL * FEATURE_DIM, hidden), nn.LayerNorm(hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.pool(x.transpose(1, 2)).transpose(1, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(x))


class _LogitOnly(nn.Module):
    def __init__(self, head: HubertHead) -> None:
        super().__init__()
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.logit(x)[:, 0]


class FeatureSet(WindowSet):
    """WindowSet whose 'bank' holds one (75, 128) float16 window per row."""

    def windows(self, index: np.ndarray) -> np.ndarray:
        return self.bank[self.starts[index]].astype(np.float32)


def featurizer_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])


def window_features(session: ort.InferenceSession, audio: np.ndarray, steps: list[int], batch: int = 64) -> np.ndarray:
    """(len(steps), 75, 128) features of the isolated 1.5 s windows ending at those 80 ms steps."""
    size = WINDOW_FRAMES * HOP_SAMPLES
    padded = np.concatenate([np.zeros(size, np.float32), audio.astype(np.float32)])
    name = session.get_inputs()[0].name
    out = []
    for i in range(0, len(steps), batch):
        windows = np.stack([padded[(k + 1) * STEP_SAMPLES: (k + 1) * STEP_SAMPLES + size] for k in steps[i: i + batch]])
        out.append(session.run(None, {name: windows})[0])
    return np.concatenate(out) if out else np.zeros((0, WINDOW_FRAMES, FEATURE_DIM), np.float32)


def featurize_clips(session: ort.InferenceSession, clips: list[Clip], seed: int = 3) -> dict[str, np.ndarray]:
    """Features, labels and groups of the chosen steps of every clip (cacheable arrays)."""
    rng = np.random.default_rng(seed)
    feats, labels, groups = [], [], []
    started = time.monotonic()
    for n, clip in enumerate(clips):
        steps = len(clip.audio) // STEP_SAMPLES
        pairs = label_windows(clip.label, clip.phrase_start, clip.phrase_end, steps)
        if clip.label == 1:
            pos = [k for k, y in pairs if y == 1]
            neg = [k for k, y in pairs if y == 0]
            chosen = pos + list(rng.choice(neg, min(4, len(neg)), replace=False)) if neg else pos
        else:
            chosen = list(rng.choice(steps, min(6, steps), replace=False)) if steps else []
        label_of = dict(pairs)
        chosen = sorted(int(k) for k in chosen)
        if not chosen:
            continue
        feats.append(window_features(session, clip.audio, chosen).astype(np.float16))
        labels += [label_of[k] for k in chosen]
        kind = clip.kind.split(":")[0]
        groups += ["partial" if clip.label == 1 and label_of[k] == 0 else kind for k in chosen]
        if n % 1000 == 999:
            log.info("hubert features: %d/%d clips (%.0f s)", n + 1, len(clips), time.monotonic() - started)
    return {"bank": np.concatenate(feats), "labels": np.array(labels, np.float32), "groups": np.array(groups)}


def feature_set(data: dict[str, np.ndarray]) -> FeatureSet:
    return FeatureSet(data["bank"], np.arange(len(data["labels"])), data["labels"], data["groups"])


def export_head(head: HubertHead, path: Path) -> None:
    """ONNX with input 'features' (batch, 75, 128) and output 'logit' (batch,), weights inline."""
    dummy = torch.zeros(1, WINDOW_FRAMES, FEATURE_DIM)
    torch.onnx.export(_LogitOnly(head).eval(), (dummy,), str(path), input_names=["features"], output_names=["logit"],
                      dynamic_axes={"features": {0: "batch"}, "logit": {0: "batch"}}, opset_version=17, dynamo=False)
