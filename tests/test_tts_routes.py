"""The TTS precision routes without the voice: the weight-only rewrite and the shipping rule."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from export.tts import MAX_SLOWDOWN, MIN_MEMORY_SAVING_MB, MIN_SPEEDUP, _decide
from export.tts_routes import WEIGHT_BLOCK, weight_only_int8


def _conv_model(rng: np.random.Generator) -> onnx.ModelProto:
    """x -> Conv(enc) -> ConvTranspose(flow) -> Conv(dec, a skipped prefix) -> Conv(small)."""
    weights = {
        "w_enc": rng.normal(0, 0.05, (64, 32, 3)).astype(np.float32),  # [O, I, k]
        "w_flow": rng.normal(0, 0.05, (64, 32, 4)).astype(np.float32),  # ConvTranspose [I, O, k]
        "w_dec": rng.normal(0, 0.05, (32, 32, 5)).astype(np.float32),
        "w_small": rng.normal(0, 0.05, (4, 32, 1)).astype(np.float32),  # 128 values: stays FP32
    }
    nodes = [
        helper.make_node("Conv", ["x", "w_enc"], ["a"], name="/enc_p/conv", pads=[1, 1]),
        helper.make_node("ConvTranspose", ["a", "w_flow"], ["b"], name="/flow/up", strides=[2]),
        helper.make_node("Conv", ["b", "w_dec"], ["c"], name="/dec/conv", pads=[2, 2]),
        helper.make_node("Conv", ["c", "w_small"], ["y"], name="/post/conv"),
    ]
    graph = helper.make_graph(nodes, "convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, None])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, None])],
                              [numpy_helper.from_array(w, name) for name, w in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_weight_only_int8_rewrites_large_weights_outside_the_skipped_prefix():
    rng = np.random.default_rng(7)
    model = _conv_model(rng)
    x = rng.normal(0, 1, (1, 32, 50)).astype(np.float32)
    reference = _run(model, x)
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(model)
    assert weight_only_int8(rewritten) == 2
    stored = {init.name: init.data_type for init in rewritten.graph.initializer}
    assert stored["w_enc_int8"] == stored["w_flow_int8"] == TensorProto.INT8
    assert "w_enc" not in stored and "w_flow" not in stored
    assert stored["w_dec"] == stored["w_small"] == TensorProto.FLOAT  # /dec/ prefix and too small
    onnx.checker.check_model(rewritten)
    out = _run(rewritten, x)
    assert out.shape == reference.shape
    error = np.abs(out - reference).max() / np.abs(reference).max()
    assert 0 < error < 0.02  # rounded (so really int8), but by less than 2 % of the output's range


def test_weight_only_int8_scales_each_block_separately():
    rng = np.random.default_rng(3)
    model = _conv_model(rng)
    weight = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "w_enc")).copy()
    weight[0, 0, 0] = 40.0  # one outlier: with one scale per channel it would flatten the whole channel
    model.graph.initializer.remove(next(i for i in model.graph.initializer if i.name == "w_enc"))
    model.graph.initializer.append(numpy_helper.from_array(weight, "w_enc"))
    weight_only_int8(model)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    rows = inits["w_enc_int8"].astype(np.float32) * inits["w_enc_scale"][:, None]
    restored = rows.reshape(weight.shape)
    assert inits["w_enc_scale"].shape == (weight.size // WEIGHT_BLOCK,)
    # Only the outlier's own block is coarse; the rest of channel 0 keeps fine steps.
    assert np.abs(restored[0].ravel()[WEIGHT_BLOCK:] - weight[0].ravel()[WEIGHT_BLOCK:]).max() < 0.002


def test_weight_only_int8_refuses_old_opsets():
    model = _conv_model(np.random.default_rng(0))
    model.opset_import[0].version = 11
    with pytest.raises(RuntimeError, match="opset"):
        weight_only_int8(model)


def _route(rtf: float, after_mb: float, l1: float) -> dict:
    return {"rtf_median": rtf, "logmel_l1_vs_fp32": l1, "bytes": 1_000_000,
            "resident": {"loaded_mb": after_mb, "after_mb": after_mb, "peak_mb": after_mb}}


def test_decision_ships_the_leanest_route_that_pays_and_sounds_the_same():
    yardstick = 0.4  # bound = QUALITY_FRACTION * 0.4 = 0.1
    results = {
        "fp32": _route(0.20, 90.0, 0.0),
        "lean": _route(0.20 * (MAX_SLOWDOWN - 0.05), 90.0 - MIN_MEMORY_SAVING_MB - 5, 0.05),
        "fast": _route(0.20 / (MIN_SPEEDUP + 0.1), 85.0, 0.05),
        "lean_but_slow": _route(0.20 * (MAX_SLOWDOWN + 0.1), 30.0, 0.05),
        "lean_but_audible": _route(0.20, 30.0, 0.2),
        "neither": _route(0.20, 88.0, 0.01),
    }
    shipped, lines = _decide(results, yardstick)
    assert shipped == "lean"
    assert lines[0].startswith("ships lean")
    verdicts = {line.split(":")[0]: line.rsplit("-> ", 1)[1] for line in lines[1:]}
    assert verdicts["lean"] == verdicts["fast"] == "candidate"
    assert verdicts["lean_but_slow"] == "rejected: neither faster nor leaner enough"
    assert verdicts["lean_but_audible"] == "rejected: audibly different"
    assert verdicts["neither"] == "rejected: neither faster nor leaner enough"


def test_decision_keeps_fp32_when_no_route_pays():
    results = {"fp32": _route(0.20, 90.0, 0.0), "audible": _route(0.10, 30.0, 0.5),
               "broken": {"error": "RuntimeError: no Conv"}}
    shipped, lines = _decide(results, 0.4)
    assert shipped == "fp32" and lines[0].startswith("ships fp32")
    assert any(line.startswith("broken: not measured") for line in lines)
