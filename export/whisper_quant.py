"""INT8 for the Whisper ONNX files: dynamic MatMul + Gather quantization, minus the outlier layers.

onnxruntime's `quantize_dynamic` stores weights as int8 and quantizes each MatMul's *activation*
per tensor at run time (one scale for the whole matrix). That is fine until one input channel is
hundreds of times larger than the rest: the scale then follows the outlier and the ordinary
channels round to zero or one step. Whisper tiny.en has such layers (measured: the last encoder
block's second MLP matmul sees a channel at ~550 against a median channel maximum of ~2; the first
decoder block's one ~90x). Quantizing them cost 4-7 WER points on espeak-ng speech in our runs,
while every other layer cost almost nothing, so we calibrate: run the PyTorch model on a few
clips, measure each linear layer's input channel maxima, and keep FP32 the layers whose largest
channel exceeds `OUTLIER_RATIO` times the median channel. Everything else is quantized exactly as
models.md describes (MatMul + Gather, QInt8 weights).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
import whisper.model as wm
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

log = logging.getLogger("export.asr")

OUTLIER_RATIO = 10.0
"""Keep a layer FP32 when max channel / median channel of its input exceeds this. 50 while weights had 8 bits;
with 7-bit weights (`quantize`) a cold build on an AVX2-only AMD EPYC measured pooled parity WER (FP32 ~0.168):
ratio 50 (2 layers float) 0.180, 20 (3) 0.190, 10 (8: the first decoder block's q/k/v and four MLP outputs)
0.173, at the same decode time; unsigned 8-bit weights 0.176 but slower on VNNI CPUs. The differences are
within a few clips of noise (one run each); 10 was inside the 1 pt gate there, and more float layers cost no time."""

QUANT_SETTINGS = {"method": "onnxruntime.quantization.quantize_dynamic", "op_types": ["MatMul", "Gather"],
                  "weight_type": "QInt8", "per_channel": True, "reduce_range": True, "activations": "dynamic per-tensor uint8",
                  "outlier_ratio": OUTLIER_RATIO}


@dataclass(frozen=True)
class LayerRange:
    """Input range of one linear layer, over the calibration clips."""

    name: str
    ratio: float
    max_abs: float
    median_channel_max: float


def _quantizable_linears(model: wm.Whisper) -> dict[str, torch.nn.Linear]:
    """The Linear layers whose weights become constant MatMul inputs in our ONNX graphs."""
    return {name: module for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}


def measure_ranges(model: wm.Whisper, run_clips: Callable[[], None]) -> list[LayerRange]:
    """Per-layer input channel maxima while run_clips() pushes calibration audio through model."""
    linears = _quantizable_linears(model)
    maxima: dict[str, torch.Tensor] = {}
    hooks = []

    def make_hook(name: str):
        def hook(_module, inputs, _output):
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(dim=0)
            maxima[name] = torch.maximum(maxima[name], x) if name in maxima else x
        return hook

    for name, module in linears.items():
        hooks.append(module.register_forward_hook(make_hook(name)))
    try:
        with torch.no_grad():
            run_clips()
    finally:
        for handle in hooks:
            handle.remove()
    ranges = []
    for name, channel_max in maxima.items():
        median = float(channel_max.median())
        top = float(channel_max.max())
        ranges.append(LayerRange(name, top / max(median, 1e-6), top, median))
    return sorted(ranges, key=lambda r: -r.ratio)


def outlier_layers(ranges: Iterable[LayerRange], ratio: float = OUTLIER_RATIO) -> list[LayerRange]:
    return [r for r in ranges if r.ratio > ratio]


def matmul_nodes_using(onnx_path: Path, weights: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """layer name -> names of MatMul nodes whose constant B is that layer's weight (transposed).

    Matching by value, not by node name: the legacy exporter's node names depend on tracing order,
    the weights do not.
    """
    model = onnx.load(str(onnx_path))
    initializers = {init.name: init for init in model.graph.initializer}
    found: dict[str, list[str]] = {name: [] for name in weights}
    for node in model.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in initializers:
            continue
        init = initializers[node.input[1]]
        shape = tuple(init.dims)
        for name, weight in weights.items():
            if shape == weight.T.shape and np.array_equal(numpy_helper.to_array(init), weight.T):
                found[name].append(node.name)
    return found


def quantize(fp32: Path, int8: Path, keep_fp32_nodes: list[str]) -> None:
    """Dynamic INT8 (MatMul + Gather, QInt8 weights per output channel, 7-bit range), leaving keep_fp32_nodes
    in float.

    Per channel: with one scale per tensor, a cold build on an AVX-512 VNNI/AMX machine came out
    1.57 pt pooled WER above FP32 (the parity gate refused it); per-channel scales keep each
    output column's own range. 7-bit (reduce_range): on a CPU with AVX2 but no VNNI, onnxruntime's
    u8 x s8 kernel adds pairs of products in 16 bits (VPMADDUBSW), and full-range per-channel weights
    overflow it: a cold build on an AVX2-only AMD EPYC measured espeak en-us INT8 WER 0.623 against
    FP32 0.204 (pooled +18.5 pt). With weights in [-64, 64] a pair cannot overflow, so the same bundle
    decodes alike on AVX2, AVX-512 VNNI and ARM (onnxruntime's own advice for non-VNNI x86)."""
    quantize_dynamic(
        model_input=str(fp32), model_output=str(int8), op_types_to_quantize=["MatMul", "Gather"],
        weight_type=QuantType.QInt8, per_channel=True, reduce_range=True, nodes_to_exclude=list(keep_fp32_nodes),
    )


def plan_exclusions(model: wm.Whisper, ranges: list[LayerRange], onnx_files: list[Path]) -> dict[str, list[str]]:
    """onnx file name -> MatMul nodes to keep FP32, for the outlier layers found in ranges."""
    linears = _quantizable_linears(model)
    weights = {r.name: linears[r.name].weight.detach().numpy() for r in outlier_layers(ranges)}
    plan: dict[str, list[str]] = {path.name: [] for path in onnx_files}
    matched: set[str] = set()
    if not weights:
        return plan
    for path in onnx_files:
        for layer, nodes in matmul_nodes_using(path, weights).items():
            plan[path.name] += nodes
            matched |= {layer} if nodes else set()
    unmatched = set(weights) - matched
    if unmatched:
        raise RuntimeError(f"outlier layers not found as MatMuls in the ONNX graphs: {sorted(unmatched)}")
    return {name: sorted(set(nodes)) for name, nodes in plan.items()}
