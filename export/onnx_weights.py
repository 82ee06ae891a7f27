"""Save an ONNX graph with its large weights in a side file, each at a 64 KB-aligned offset.

Why: onnxruntime maps an external initializer straight from the file when its offset is aligned to
the allocation granularity (64 KB covers every platform's), instead of copying it into its own
memory as it does with weights inside the `.onnx` protobuf (after first parsing that whole protobuf).
Pages a run never reads then never become resident: Whisper's token-embedding table (51,864 x 384,
20 MB of INT8) is read a row per token, a few hundred distinct rows in a session. Measured on
tiny.en's per-layer decoder (edge.asr.whisper_ort, one process, 1 thread, AMD EPYC): resident memory
after loading +73 vs +95 MB, after two decodes +93 vs +121 MB, and the load's peak +109 vs +207 MB
over the process before it.

sherpa-onnx builds its sessions from a buffer it read itself, so a file it loads keeps its weights
inside; only files the device opens with onnxruntime by path use this.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx.external_data_helper import set_external_data

ALIGN = 64 * 1024
MIN_BYTES = 1024 * 1024
"""Initializers at least this large go to the side file; small ones stay in the graph."""


def save_with_external_weights(model: onnx.ModelProto, path: Path, min_bytes: int = MIN_BYTES) -> Path:
    """Write model to path and its initializers of min_bytes or more to `<path>.weights` beside it
    (the location is stored relative, so the two files move together). Returns the weights file.
    Modifies model's initializers in place (their bytes move out)."""
    weights = path.with_name(path.name + ".weights")
    offset = 0
    with weights.open("wb") as out:
        for tensor in model.graph.initializer:
            if not tensor.HasField("raw_data") or len(tensor.raw_data) < min_bytes:
                continue
            pad = -offset % ALIGN
            out.write(b"\0" * pad)
            offset += pad
            data = tensor.raw_data
            out.write(data)
            set_external_data(tensor, location=weights.name, offset=offset, length=len(data))
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            offset += len(data)
    onnx.save_model(model, str(path))
    return weights
