"""ONNX side of the NLU bundle: Optimum export, ORTOptimizer fusion, ORTQuantizer INT8, timing.

Both graphs are exported with Hugging Face Optimum from small BertPreTrainedModel wrappers and a
custom OnnxConfig that names their outputs: the joint model gives ``intent_logits`` and
``slot_logits``; the sentence encoder gives ``sentence_embedding`` (mean pooling over real
tokens and L2 normalization inside the graph, so the device does no pooling of its own).
INT8 is Optimum's dynamic per-channel ARM64 config; static quantization measured worse (see
the shared model notes) and needs calibration data the device maker does not have.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
from optimum.exporters.onnx import export as onnx_export
from optimum.exporters.onnx import validate_model_outputs
from optimum.exporters.onnx.model_configs import BertOnnxConfig
from optimum.onnxruntime import ORTOptimizer, ORTQuantizer
from optimum.onnxruntime.configuration import AutoOptimizationConfig, AutoQuantizationConfig
from transformers import BertConfig, BertModel, BertPreTrainedModel
from transformers.utils import ModelOutput

from export.nlu_train import JointIntentSlotModel

log = logging.getLogger(__name__)

QUANTIZATION = {"tool": "optimum ORTQuantizer", "config": "AutoQuantizationConfig.arm64",
                "is_static": False, "per_channel": True, "reduce_range": True, "weights": "QInt8 symmetric, 7-bit",
                "activations": "QUInt8 dynamic (per batch)"}
"""Recorded in the manifest; `quantization_config()` builds exactly this."""


def quantization_config():
    """Optimum's arm64 dynamic config with 7-bit weights (reduce_range).

    On x86 with AVX2 but no VNNI, onnxruntime's u8 x s8 kernel adds pairs of products in 16 bits
    (VPMADDUBSW), which full-range weights overflow; VNNI and ARM do not. A cold build on an AVX2-only
    AMD EPYC put the Mandarin NLU's INT8 intent accuracy 1.16 pt under FP32 (0.964 vs 0.976; the gate
    is 1 pt), and a device of that kind would run the overflowing kernel too. Weights in [-64, 64]
    cannot overflow a pair, so one bundle behaves alike on every CPU."""
    return dataclasses.replace(AutoQuantizationConfig.arm64(is_static=False, per_channel=True), reduce_range=True)


class JointOnnxConfig(BertOnnxConfig):
    """BERT inputs; the joint model's two named outputs."""

    @property
    def outputs(self) -> dict[str, dict[int, str]]:
        return {"intent_logits": {0: "batch_size"}, "slot_logits": {0: "batch_size", 1: "sequence_length"}}


class EncoderOnnxConfig(BertOnnxConfig):
    """BERT inputs; one pooled, normalized sentence vector per input."""

    @property
    def outputs(self) -> dict[str, dict[int, str]]:
        return {"sentence_embedding": {0: "batch_size"}}


@dataclass
class SentenceOutput(ModelOutput):
    sentence_embedding: torch.Tensor | None = None


class SentenceEncoder(BertPreTrainedModel):
    """all-MiniLM-L6-v2 as sentence-transformers runs it: mean pooling over the mask, then L2."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> SentenceOutput:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return SentenceOutput(sentence_embedding=torch.nn.functional.normalize(mean, p=2, dim=1))


def _export(model: BertPreTrainedModel, out_dir: Path, onnx_config: BertOnnxConfig) -> Path:
    """Optimum's exporter on our model + OnnxConfig, then Optimum's validation against PyTorch.

    (`onnx_export_from_model` infers the library from the class's module and rejects classes
    defined outside transformers, so we call the two steps it wraps.)
    """
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    path = out_dir / "model.onnx"
    _inputs, outputs = onnx_export(model, onnx_config, path, opset=17)
    validate_model_outputs(onnx_config, model, path, outputs, atol=1e-4, use_subprocess=False)
    model.config.save_pretrained(out_dir)  # ORTOptimizer reads the model type and sizes from it
    return path


def export_joint(model: JointIntentSlotModel, out_dir: Path) -> Path:
    """FP32 ONNX of the fine-tuned joint model (Optimum validates it against PyTorch)."""
    model.eval()
    return _export(model, out_dir, JointOnnxConfig(model.config, task="token-classification"))


def export_encoder(source_dir: Path, out_dir: Path) -> Path:
    """FP32 ONNX of the untouched pretrained encoder with pooling and normalization built in."""
    model = SentenceEncoder.from_pretrained(source_dir).eval()
    return _export(model, out_dir, EncoderOnnxConfig(model.config, task="feature-extraction"))


def optimize(onnx_dir: Path, level: str = "O2") -> Path:
    """ORTOptimizer graph fusion (attention, layer norm, GELU) on model.onnx; returns the new file."""
    optimizer = ORTOptimizer.from_pretrained(onnx_dir, file_names=["model.onnx"])
    optimizer.optimize(AutoOptimizationConfig.with_optimization_level(level), save_dir=onnx_dir,
                       file_suffix="optimized")
    path = onnx_dir / "model_optimized.onnx"
    # The fused graph uses com.microsoft ops (Attention, SkipLayerNormalization) that ONNX's own
    # shape inference cannot type, and the quantizer needs every tensor's type: onnxruntime's
    # symbolic shape inference knows those ops.
    typed = SymbolicShapeInference.infer_shapes(onnx.load(str(path)), auto_merge=True)
    onnx.save(typed, str(path))
    return path


def ffn_output_matmuls(onnx_path: Path) -> list[str]:
    """The MatMul of every layer's feed-forward output (BERT's `output.dense`, after GELU).

    Its input is where BERT keeps its large outlier activations (Bondarenko et al., 2021), and dynamic
    quantization gives the whole tensor one 8-bit scale: on the Mandarin NLU that cost up to 1.2 pt of
    slot F1, whatever the weights' width (see export.nlu_zh.FLOAT_NODES_WHY)."""
    return [node.name for node in onnx.load(str(onnx_path)).graph.node
            if node.op_type == "MatMul" and "/output/dense/" in node.name and "/attention/" not in node.name]


def quantize(onnx_path: Path, out_dir: Path, keep_float: Sequence[str] = ()) -> Path:
    """Dynamic per-channel INT8 with Optimum's ORTQuantizer; returns the quantized file.

    keep_float: node names left in float (their weights stay FP32, their inputs are not quantized)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    quantizer = ORTQuantizer.from_pretrained(onnx_path.parent, file_name=onnx_path.name)
    config = dataclasses.replace(quantization_config(), nodes_to_exclude=list(keep_float))
    quantizer.quantize(config, save_dir=out_dir, file_suffix="quantized")
    path = out_dir / f"{onnx_path.stem}_quantized.onnx"
    if not path.is_file():
        raise RuntimeError(f"ORTQuantizer wrote no {path.name} into {out_dir}")
    return path


SHARED_MIN_BYTES = 64 * 1024
"""Smaller identical tensors are not worth a name lookup each at load."""


def identical_initializers(first: Path, second: Path, min_bytes: int = SHARED_MIN_BYTES) -> dict[str, np.ndarray]:
    """Initializers with the same name and the same bytes in both graphs, at least min_bytes each.

    The joint model is fine-tuned with the embeddings frozen (nlu_train), so its quantized
    word-embedding table (30522 x 384 int8, 11.7 MB) is byte for byte the plain encoder's: the
    device loads it once and hands the same buffer to both sessions (edge.nlu.bundle).
    """
    from onnx import numpy_helper

    def tensors(path: Path) -> dict[str, onnx.TensorProto]:
        return {init.name: init for init in onnx.load(str(path)).graph.initializer}

    a, b = tensors(first), tensors(second)
    shared = {}
    for name, tensor in a.items():
        if name not in b:
            continue
        left, right = numpy_helper.to_array(tensor), numpy_helper.to_array(b[name])
        if left.nbytes >= min_bytes and left.dtype == right.dtype and left.shape == right.shape \
                and left.tobytes() == right.tobytes():
            shared[name] = left
    return shared
