"""The wake head's ensemble: several seeded heads, one averaged score, one ONNX graph the device loads as before."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import torch

from edge.wake.features import EMBEDDING_DIM, HEAD_WINDOW
from export.wake_train import MeanHead, TrainSpec, WindowSet, export_onnx, predict, train_head


def _windows(n: int = 400, seed: int = 0) -> WindowSet:
    """Separable toy windows: positives have a raised mean, so a few steps of training learn something."""
    rng = np.random.default_rng(seed)
    bank = rng.standard_normal((n + HEAD_WINDOW, EMBEDDING_DIM)).astype(np.float32)
    labels = (rng.random(n) < 0.5).astype(np.float32)
    for i in np.flatnonzero(labels):
        bank[i: i + HEAD_WINDOW] += 0.5
    return WindowSet(bank, np.arange(n), labels, np.array(["sentence"] * n))


def test_members_are_trained_with_their_own_seeds_and_averaged(tmp_path):
    data = _windows()
    spec = TrainSpec(steps=30, batch=32, members=2)
    model, facts = train_head(data, spec)
    assert isinstance(model, MeanHead) and len(model.members) == 2 and facts["seconds"] >= 0
    first, second = (predict(m, data) for m in model.members)
    assert not np.allclose(first, second)  # seeds 7 and 8 are different heads
    assert np.allclose(predict(model, data), (first + second) / 2, atol=1e-6)
    single, _ = train_head(data, TrainSpec(steps=30, batch=32))
    assert np.allclose(predict(single, data), first, atol=1e-6)  # member 0 is the one-head build's head

    path = tmp_path / "head.onnx"
    export_onnx(model, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["embeddings"]
    assert [o.name for o in session.get_outputs()] == ["score"]
    windows = data.windows(np.arange(64))
    onnx_scores = session.run(None, {"embeddings": windows})[0][:, 0]
    with torch.no_grad():
        torch_scores = model(torch.from_numpy(windows)).numpy()[:, 0]
    assert np.abs(onnx_scores - torch_scores).max() < 1e-5
