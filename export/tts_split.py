"""Piper's VITS graph cut in two, and the decoder's chunking verified against the whole graph.

The device (edge.tts.vocoder) runs the part that makes the latent z (text encoder, duration
predictor, flow: `latent.onnx`) once per sentence and the HiFi-GAN decoder (`decoder.onnx`) over z
in overlapping windows, so the decoder's working memory is bounded by a window and the first
window plays before the sentence is decoded. The cut is where the graph's `/dec/` nodes begin:
their one input from outside is z ([1, 192, frames], the flow's output times the mask), their one
output consumed outside is the waveform before Piper's final Unsqueeze.

A window needs `overlap` frames of context on each side to come out as the whole graph would:
HiFi-GAN's receptive field. It is measured, not derived: every candidate overlap is run through
the device's own Vocoder with small windows (many seams) on the evaluation sentences at noise 0,
and the smallest whose largest sample difference from the whole graph is at most
SEAM_MAX_ABS (float rounding, not a seam) ships. Its log-mel distance to the whole graph is
recorded beside the route bound it must stay far under.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx.utils import extract_model

from edge.tts.vocoder import ChunkPlan, Vocoder
from export.tts_quality import logmel_l1

DECODER_PREFIX = "/dec/"
FIRST_FRAMES = 24
"""Latent frames in a clause's first window (0.28 s of audio): it decodes in a few tens of ms, so
the clause starts playing early; the next window (FRAMES) must be ready before it has played."""
FRAMES = 96
"""Latent frames per later window (1.1 s): the decoder's arena holds ~0.3 MB a frame, so ~35 MB with
the overlap; on the joe voice 64-128 frame windows cost the same CPU as the whole graph (smaller
tensors stay in cache, which pays for the overlap), a whole 8 s clause in one run cost ~10 % more."""
SCAN_FRAMES = 32
"""Window size while measuring the receptive field: small windows give many seams per sentence."""
OVERLAPS = (4, 6, 8, 9, 10, 11, 12, 14, 16)
"""Candidate overlaps (frames); joe: 8 -> max |diff| 2e-3, 9 -> 6e-4, 10 -> 2e-6 (rounding)."""
SEAM_MAX_ABS = 1e-4
"""Largest sample difference from the whole graph that counts as rounding (16-bit audio's step is 3e-5)."""


def boundary(model: onnx.ModelProto) -> tuple[str, str]:
    """(z, waveform): the tensor entering the decoder and the decoder's output used outside it."""
    nodes = model.graph.node
    inside = [n for n in nodes if n.name.startswith(DECODER_PREFIX)]
    if not inside:
        raise RuntimeError(f"no {DECODER_PREFIX} nodes: not a Piper VITS graph")
    made_inside = {o for n in inside for o in n.output}
    constants = {i.name for i in model.graph.initializer}
    entering = {i for n in inside for i in n.input if i and i not in made_inside and i not in constants}
    used_outside = {i for n in nodes if not n.name.startswith(DECODER_PREFIX) for i in n.input}
    used_outside |= {o.name for o in model.graph.output}
    leaving = [o for o in made_inside if o in used_outside]
    if len(entering) != 1 or len(leaving) != 1:
        raise RuntimeError(f"the decoder has inputs {sorted(entering)} and outputs {leaving}; expected one each")
    return entering.pop(), leaving[0]


def hop(model: onnx.ModelProto) -> int:
    """Samples per latent frame: the product of the decoder's ConvTranspose strides."""
    total = 1
    for node in model.graph.node:
        if node.op_type == "ConvTranspose" and node.name.startswith(DECODER_PREFIX):
            strides = next((list(a.ints) for a in node.attribute if a.name == "strides"), [1])
            total *= int(np.prod(strides))
    return total


def split(whole: Path, latent: Path, decoder: Path) -> dict[str, Any]:
    """Write latent.onnx and decoder.onnx cut from `whole` (any route: weights stay as they are)."""
    model = onnx.load(str(whole))
    z, waveform = boundary(model)
    inputs = [i.name for i in model.graph.input]
    extract_model(str(whole), str(latent), inputs, [z])
    extract_model(str(whole), str(decoder), [z], [waveform])
    return {"latent_output": z, "decoder_output": waveform, "hop": hop(model)}


def _reference(whole: Path, items: list[list[int]]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.log_severity_level = 1, 3
    session = ort.InferenceSession(str(whole), options, providers=["CPUExecutionProvider"])
    feeds = [{"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
              "scales": np.array([0.0, 1.0, 0.0], dtype=np.float32)} for ids in items]
    return [session.run(None, f)[0].reshape(-1) for f in feeds]


def chunked(vocoder: Vocoder, items: list[list[int]]) -> list[np.ndarray]:
    """The device's path at noise 0, length scale 1."""
    return [np.concatenate([a for a, _last in vocoder.decode(vocoder.latent(ids, 0.0, 1.0, 0.0))]) for ids in items]


def _distance(outputs: list[np.ndarray], reference: list[np.ndarray], rate: int) -> dict[str, float]:
    if any(o.size != r.size for o, r in zip(outputs, reference, strict=True)):
        return {"max_abs": float("inf"), "logmel_l1": float("inf")}
    return {"max_abs": float(max(np.abs(o - r).max() for o, r in zip(outputs, reference, strict=True))),
            "logmel_l1": round(float(np.mean([logmel_l1(o, r, rate) for o, r in zip(outputs, reference, strict=True)])),
                               5)}


def choose_plan(whole: Path, latent: Path, decoder: Path, items: list[list[int]], rate: int,
                frames_per_hop: int) -> tuple[ChunkPlan, dict[str, Any]]:
    """The shipped plan (smallest rounding-exact overlap) and what the scan measured, for the manifest."""
    reference = _reference(whole, items)
    scan = {}
    for overlap in OVERLAPS:
        vocoder = Vocoder(str(latent), str(decoder), ChunkPlan(SCAN_FRAMES, SCAN_FRAMES, overlap, frames_per_hop))
        scan[str(overlap)] = _distance(chunked(vocoder, items), reference, rate)
    exact = [int(o) for o, d in scan.items() if d["max_abs"] <= SEAM_MAX_ABS]
    if not exact:
        raise RuntimeError(f"no overlap in {OVERLAPS} reproduces the whole graph within {SEAM_MAX_ABS}: {scan}")
    plan = ChunkPlan(FIRST_FRAMES, FRAMES, min(exact), frames_per_hop)
    shipped = _distance(chunked(Vocoder(str(latent), str(decoder), plan), items), reference, rate)
    for d in scan.values():
        d["max_abs"] = float(f"{d['max_abs']:.3g}")
    record = {"first_frames": plan.first_frames, "frames": plan.frames, "overlap": plan.overlap, "hop": plan.hop,
              "scan_window_frames": SCAN_FRAMES, "seam_max_abs": SEAM_MAX_ABS, "overlap_scan": scan,
              "shipped_vs_whole": {"max_abs": float(f"{shipped['max_abs']:.3g}"), "logmel_l1": shipped["logmel_l1"]},
              "rule": f"smallest overlap whose {SCAN_FRAMES}-frame windows give max |sample diff| <= "
                      f"{SEAM_MAX_ABS} from the whole graph on the evaluation sentences (noise 0)"}
    return plan, record
