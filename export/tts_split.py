"""Piper's VITS graph cut into the device's pieces, and the decoder's chunking verified against the whole graph.

The device (edge.tts.vocoder) runs the part that makes the latent z (text encoder, duration
predictor, flow: `latent.onnx`) once per sentence and the HiFi-GAN decoder over z in overlapping
windows, so the decoder's working memory is bounded by a window and the first window plays before
the sentence is decoded. The latent/decoder cut is where the graph's `/dec/` nodes begin: their one
input from outside is z ([1, 192, frames], the flow's output times the mask), their one output
consumed outside is the waveform before Piper's final Unsqueeze. The decoder is cut again before
each upsampling step but the first (`decoder_N.onnx`, z -> 8x -> 64x -> 256x for joe), because the
stages' receptive fields differ: the 8x stage reaches ~10 frames but is ~20 % of the compute, the
later ones reach 1-2 frames, so per-stage context recomputes far less than one overlap for all.

Each stage's context (overlap) is measured, not derived, from the last stage to the first: a
stage's context widens the input of every stage before it, so the expensive late stages get the
least. With the stages before it given plenty (so its input is exact) and those after it at their
chosen context, every candidate is run through the device's own Vocoder with small windows (many
seams) on the evaluation sentences at noise 0, and the smallest whose largest sample difference
from the whole graph is at most SEAM_MAX_ABS (float rounding, not a seam) is taken. Its log-mel distance to the whole graph is recorded beside
the route bound it must stay far under.
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
the context; on the joe voice 96- and 160-frame windows cost the same CPU (within 1 %)."""
SCAN_FRAMES = 32
"""Window size while measuring the receptive field: small windows give many seams per sentence."""
OVERLAPS = (0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 12, 14, 16)
"""Candidate overlaps (frames), ascending. joe, one decoder stage: 8 -> max |diff| 2e-3, 9 -> 3e-4, 10 -> 4e-6."""
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


def upsampling(model: onnx.ModelProto) -> list[tuple[str, int]]:
    """The decoder's ConvTranspose steps in graph order: (input tensor, stride)."""
    steps = []
    for node in model.graph.node:
        if node.op_type == "ConvTranspose" and node.name.startswith(DECODER_PREFIX):
            strides = next((list(a.ints) for a in node.attribute if a.name == "strides"), [1])
            steps.append((node.input[0], int(np.prod(strides))))
    return steps


def split(whole: Path, out_dir: Path) -> dict[str, Any]:
    """Write latent.onnx and decoder_0.onnx, decoder_1.onnx, ... cut from `whole` (weights stay as they are)."""
    model = onnx.load(str(whole))
    z, waveform = boundary(model)
    steps = upsampling(model)
    if not steps:
        raise RuntimeError("the decoder has no ConvTranspose: not HiFi-GAN")
    extract_model(str(whole), str(out_dir / "latent.onnx"), [i.name for i in model.graph.input], [z])
    cuts = [z, *(tensor for tensor, _stride in steps[1:]), waveform]
    rates = [int(np.prod([stride for _t, stride in steps[:i + 1]])) for i in range(len(steps))]
    stages = []
    for index, (begin, end) in enumerate(zip(cuts, cuts[1:], strict=False)):
        stages.append(f"decoder_{index}.onnx")
        extract_model(str(whole), str(out_dir / stages[-1]), [begin], [end])
    return {"latent_output": z, "decoder_output": waveform, "cuts": cuts, "stages": stages, "rates": rates}


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
    return {"max_abs": float(f"{max(np.abs(o - r).max() for o, r in zip(outputs, reference, strict=True)):.3g}"),
            "logmel_l1": round(float(np.mean([logmel_l1(o, r, rate) for o, r in zip(outputs, reference, strict=True)])),
                               5)}


def choose_plan(whole: Path, out_dir: Path, cut: dict[str, Any], items: list[list[int]],
                rate: int) -> tuple[ChunkPlan, dict[str, Any]]:
    """The shipped plan (per stage, the smallest rounding-exact overlap) and what the scan measured."""
    reference = _reference(whole, items)
    latent, stages, rates = str(out_dir / "latent.onnx"), [str(out_dir / s) for s in cut["stages"]], tuple(cut["rates"])

    def measure(overlaps: tuple[int, ...], first: int = SCAN_FRAMES, frames: int = SCAN_FRAMES) -> dict[str, float]:
        vocoder = Vocoder(latent, stages, ChunkPlan(first, frames, overlaps, rates))
        return _distance(chunked(vocoder, items), reference, rate)

    generous = max(OVERLAPS)
    chosen = [generous] * len(stages)
    scans: list[dict[str, dict[str, float]]] = []
    for stage in reversed(range(len(stages))):  # the last stage first: its context is paid by every stage
        scan = {}
        for overlap in OVERLAPS:  # ascending: the first exact one is the smallest
            chosen[stage] = overlap
            scan[str(overlap)] = measure(tuple(chosen))
            if scan[str(overlap)]["max_abs"] <= SEAM_MAX_ABS:
                break
        else:
            raise RuntimeError(f"decoder stage {stage}: no overlap in {OVERLAPS} reproduces the whole graph "
                               f"within {SEAM_MAX_ABS}: {scan}")
        scans.insert(0, scan)
    combined = measure(tuple(chosen))
    if combined["max_abs"] > SEAM_MAX_ABS:
        raise RuntimeError(f"overlaps {chosen} together miss the whole graph by {combined['max_abs']}")
    plan = ChunkPlan(FIRST_FRAMES, FRAMES, tuple(chosen), rates)
    shipped = measure(plan.overlaps, plan.first_frames, plan.frames)
    record = {"first_frames": plan.first_frames, "frames": plan.frames, "overlaps": list(plan.overlaps),
              "rates": list(plan.rates), "hop": plan.hop, "scan_window_frames": SCAN_FRAMES,
              "seam_max_abs": SEAM_MAX_ABS, "overlap_scans": scans, "combined_scan_window": combined,
              "shipped_vs_whole": shipped,
              "rule": f"per decoder stage, last first (earlier stages at {generous} frames, later ones as chosen), "
                      f"the smallest overlap whose {SCAN_FRAMES}-frame windows give max |sample diff| <= "
                      f"{SEAM_MAX_ABS} from the whole graph on the evaluation sentences (noise 0)"}
    return plan, record
