"""The Piper voice in sherpa-onnx's VITS layout, and the precision routes we measure it in.

sherpa-onnx loads a Piper voice as a VITS model when the ONNX carries its metadata keys (the
comment "piper" selects Piper's phoneme-id layout) and tokens.txt maps each phoneme symbol to its
id. The routes are candidate ways to make the voice cheaper; `python -m export tts` measures each
against FP32 and ships one only if it is both faster and indistinguishable:

- fp32: the voice as trained (metadata added, weights untouched);
- int8_dynamic_u8 / int8_dynamic_s8: whole-model dynamic quantization (ConvInteger for every
  Conv; the voice has no weighted MatMul), uint8 and int8 weights;
- fp16: weights and activations in half precision, inputs/outputs kept float32;
- qdq_decoder: static QDQ (uint8 activations, per-channel int8 weights) on the HiFi-GAN decoder's
  residual-block convolutions only, the ~55 % of compute that dominates, calibrated on shopping
  sentences; the text encoder, duration predictor and flow stay FP32;
- int8_weights: weight-only INT8 for memory, not speed: the large Conv/ConvTranspose weights of the
  text encoder, flow and duration predictor are stored as int8 in blocks of WEIGHT_BLOCK values
  with one scale each, behind DequantizeLinear (+ Reshape back to the kernel's shape); the
  HiFi-GAN decoder (/dec/, 6.6 of the 63 MB) stays FP32, and all arithmetic stays FP32.
  onnxruntime leaves DequantizeLinear out of constant folding (it keeps DQ nodes for its QDQ
  fusions, and a DQ with no quantized activation fuses with nothing), so each weight is expanded
  when its node runs and freed after. Measured on the joe voice through sherpa-onnx: resident
  after a sentence 53 MB vs 90 MB for FP32, peak while loading 126 vs 182 MB. One scale per
  output channel (the usual weight-only scheme) saved 7 MB more but was audibly different
  (log-mel L1 0.110 vs the 0.072 bound); blocks of 32 with the decoder kept FP32: 0.061.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx

from export.tts_quality import feeds

log = logging.getLogger(__name__)


def sherpa_metadata(sample_rate: int, espeak_voice: str, speakers: int = 1) -> dict[str, str]:
    """The keys sherpa-onnx 2.x reads from a Piper voice (see ../shared/models.md)."""
    return {"model_type": "vits", "comment": "piper", "language": "English", "voice": espeak_voice,
            "has_espeak": "1", "n_speakers": str(speakers), "sample_rate": str(sample_rate), "add_blank": "0"}


def add_metadata(src: Path, dst: Path, metadata: dict[str, str]) -> None:
    """Copy src to dst with metadata_props replaced by `metadata` (weights untouched)."""
    model = onnx.load(str(src))
    del model.metadata_props[:]
    for key, value in metadata.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(model, str(dst))


def read_metadata(path: Path) -> dict[str, str]:
    model = onnx.load(str(path), load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def write_tokens(id_map: dict[str, list[int]], path: Path) -> int:
    """tokens.txt: "{symbol} {first id}" per phoneme, the space symbol included; returns the count."""
    lines = []
    for symbol, ids in id_map.items():
        if not ids:
            raise ValueError(f"phoneme {symbol!r} has no id in the voice config")
        if "\n" in symbol:
            raise ValueError(f"phoneme {symbol!r} cannot be written to tokens.txt")
        lines.append(f"{symbol} {ids[0]}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


class _Calibration:
    """onnxruntime CalibrationDataReader over noise-free feeds of known sentences."""

    def __init__(self, items: list[list[int]]) -> None:
        self._feeds: Iterator[dict[str, np.ndarray]] = iter([feeds(ids) for ids in items])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def _fp32(src: Path, dst: Path, _calibration: list[list[int]]) -> None:
    shutil.copyfile(src, dst)


def _dynamic(weight: str) -> Callable[[Path, Path, list[list[int]]], None]:
    def build(src: Path, dst: Path, _calibration: list[list[int]]) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(src), str(dst), weight_type=getattr(QuantType, weight))
    return build


def _fp16(src: Path, dst: Path, _calibration: list[list[int]]) -> None:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    onnx.save(convert_float_to_float16(onnx.load(str(src)), keep_io_types=True), str(dst))


def decoder_resblock_convs(model: onnx.ModelProto) -> list[str]:
    return [n.name for n in model.graph.node if n.op_type == "Conv" and n.name.startswith("/dec/resblocks")]


def _qdq_decoder(src: Path, dst: Path, calibration: list[list[int]]) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    nodes = decoder_resblock_convs(onnx.load(str(src)))
    if not nodes:
        raise RuntimeError(f"{src}: no /dec/resblocks Conv nodes (not a Piper VITS graph?)")
    quantize_static(str(src), str(dst), _Calibration(calibration), quant_format=QuantFormat.QDQ,
                    nodes_to_quantize=nodes, op_types_to_quantize=["Conv"], per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


WEIGHT_ONLY_MIN_ELEMENTS = 4096
"""Smaller weights stay FP32: they are a rounding error of the total and each DQ node costs a call."""
WEIGHT_BLOCK = 32
"""Consecutive weight values (along the input channels and kernel) sharing one int8 scale."""
WEIGHT_ONLY_SKIP = ("/dec/",)
"""Node-name prefixes kept FP32: Piper's HiFi-GAN decoder, the most sensitive weights per byte."""


def weight_only_int8(model: onnx.ModelProto, block: int = WEIGHT_BLOCK,
                     skip: tuple[str, ...] = WEIGHT_ONLY_SKIP) -> int:
    """Store large Conv/ConvTranspose weights as blockwise int8 + DequantizeLinear + Reshape, in place.

    Each weight is viewed as rows of `block` consecutive values (a Conv weight [O, I, k] is laid
    out output channel by output channel, so a row never mixes two output channels when I*k is a
    multiple of `block`); each row gets a symmetric scale, max|w|/127. DequantizeLinear with a
    per-axis scale on that 2-D view needs only opset 13 (blocked DQ needs 21). Returns how many
    weights were rewritten; weights shared by several nodes, of other ops, under a `skip` prefix,
    small, or not a whole number of blocks are left FP32.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        raise RuntimeError(f"per-axis DequantizeLinear needs opset >= 13, the voice has {opset}")
    initializers = {init.name: init for init in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    expand = []
    for node in graph.node:
        if node.op_type not in ("Conv", "ConvTranspose") or len(node.input) < 2 or node.name.startswith(skip):
            continue
        name = node.input[1]
        if name not in initializers or uses[name] != 1:
            continue
        weight = numpy_helper.to_array(initializers[name]).astype(np.float32)
        if weight.size < WEIGHT_ONLY_MIN_ELEMENTS or weight.size % block:
            continue
        rows = weight.reshape(-1, block)
        scale = np.maximum(np.abs(rows).max(axis=1) / 127.0, np.float32(1e-12)).astype(np.float32)
        quantized = np.clip(np.round(rows / scale[:, None]), -127, 127).astype(np.int8)
        graph.initializer.remove(initializers[name])
        graph.initializer.extend([numpy_helper.from_array(quantized, f"{name}_int8"),
                                  numpy_helper.from_array(scale, f"{name}_scale"),
                                  numpy_helper.from_array(np.array(weight.shape, dtype=np.int64), f"{name}_shape")])
        expand += [helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale"], [f"{name}_rows"],
                                    axis=0, name=f"{name}_dequantize"),
                   helper.make_node("Reshape", [f"{name}_rows", f"{name}_shape"], [name], name=f"{name}_reshape")]
    for node in reversed(expand):  # their inputs are initializers: first in the graph is topologically fine
        graph.node.insert(0, node)
    return len(expand) // 2


def _int8_weights(src: Path, dst: Path, _calibration: list[list[int]]) -> None:
    model = onnx.load(str(src))
    if weight_only_int8(model) == 0:
        raise RuntimeError(f"{src}: no Conv weight large enough to store as int8")
    onnx.save(model, str(dst))


# name -> (builder, one-line description for the manifest). fp32 must come first: it is the reference.
ROUTES: dict[str, tuple[Callable[[Path, Path, list[list[int]]], None], str]] = {
    "fp32": (_fp32, "as trained"),
    "int8_dynamic_u8": (_dynamic("QUInt8"), "onnxruntime quantize_dynamic, whole model, uint8 weights"),
    "int8_dynamic_s8": (_dynamic("QInt8"), "onnxruntime quantize_dynamic, whole model, int8 weights"),
    "fp16": (_fp16, "onnxruntime float16 conversion, float32 inputs/outputs"),
    "qdq_decoder": (_qdq_decoder, "static QDQ, uint8 activations, per-channel int8 weights, "
                                  "decoder residual-block Conv only (MinMax calibration)"),
    "int8_weights": (_int8_weights, f"weight-only int8 (symmetric, one scale per {WEIGHT_BLOCK} values) on "
                                    "Conv/ConvTranspose weights outside the HiFi-GAN decoder, behind "
                                    "DequantizeLinear; FP32 activations and arithmetic"),
}
