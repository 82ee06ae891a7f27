"""The portability promise of our INT8 bundles: every int8 MatMul weight fits 7 bits.

onnxruntime's u8 x s8 kernel on x86 CPUs with AVX2 but no VNNI adds pairs of products in 16 bits
(VPMADDUBSW): with weights in [-64, 64] a pair (at most 2 * 255 * 64 = 32,640) cannot overflow, so a
bundle decodes alike on AVX2, AVX-512 VNNI and ARM. Full-range weights overflowed it: a cold build on an
AVX2-only machine measured espeak WER 0.62 against FP32's 0.20."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


def matmul_weight_range(path: Path) -> tuple[int, int, int]:
    """(how many int8 weights feed a MatMulInteger/DynamicQuantizeMatMul-style node, their min, their max)."""
    model = onnx.load(str(path))
    weights = {i.name: i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    used = {name for node in model.graph.node if node.op_type in ("MatMulInteger", "DynamicQuantizeMatMul")
            for name in node.input if name in weights}
    if not used:
        return 0, 0, 0
    values = np.concatenate([numpy_helper.to_array(weights[name]).ravel() for name in used])
    return len(used), int(values.min()), int(values.max())
