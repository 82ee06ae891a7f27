"""Our exporter from openai-whisper's PyTorch model to sherpa-onnx's two-file Whisper layout.

sherpa-onnx (`csrc/offline-whisper-model.cc`, `offline-whisper-greedy-search-decoder.cc`) binds
inputs and outputs **by position**, so both order and names below are the interface:

- encoder: `mel` (N, n_mels, T) -> `n_layer_cross_k`, `n_layer_cross_v`, each
  (n_text_layer, N, T/2, n_text_state). T is dynamic: sherpa feeds the real frames plus
  `tail_paddings` zero frames (not a fixed 3000), which is what makes short commands cheap.
- decoder: `tokens` (N, n), `in_n_layer_self_k_cache`, `in_n_layer_self_v_cache`,
  `n_layer_cross_k`, `n_layer_cross_v`, `offset` (1,) int64 -> `logits` (N, n, vocab),
  `out_n_layer_self_k_cache`, `out_n_layer_self_v_cache`.
  sherpa allocates the first self cache as (n_text_layer, 1, n_text_ctx, n_text_state) zeros and
  afterwards only hands each step's output cache back as the next input, never looking inside.

Two cache layouts are built, and the exporter measures both (see export/asr.py):

- "full": the cache stays n_text_ctx (448) slots long; the new keys are written at `offset`, and
  attention reads only the first offset+n slots (sherpa's own script's behaviour, without masking
  all 448 slots). Every step still copies the whole 448-slot cache.
- "grow": the output cache holds exactly offset+n slots (the first `offset` of the input plus the
  new keys), so each step reads and copies only what exists. The first call's 448-slot zero cache
  is sliced to nothing.

A second decoder, for the device's own runtime (edge.asr.whisper_ort), takes the cross-attention keys
and values **one input per layer, already laid out for attention**: keys (N, n_head, head, T) scaled
by head^-0.25, values (N, n_head, T, head). With sherpa's stacked inputs every step re-reads the
whole (n_text_layer, N, T, state) pair to cut out each layer (Split) and re-lays out and scales it
(Transpose, Mul): copies that grow with the segment (~1 ms per 10 s of audio per token, measured),
while the runtime can lay them out once per segment and bind each layer as a view. Input order:
tokens, the two self caches, cross_k_0..cross_k_{L-1}, cross_v_0..cross_v_{L-1}, offset. It decodes one
sequence (batch 1), so its reshapes are constants rather than shape computations at every token.

The encoder's self-attention is one onnxruntime MultiHeadAttention node per layer (`_MultiHeadAttention`:
a 30 s window's 1500 x 1500 scores tiled in cache instead of 54 MB tensors); an execution provider
without that contrib op runs those nodes on the CPU.

Weights stay inline (legacy TorchScript exporter, opset 17): the dynamo exporter writes external
`.onnx.data` files, which sherpa's loaders do not expect.
"""

from __future__ import annotations

import base64
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import torch
import torch.nn.functional as F
import whisper.model as wm
from torch import Tensor, nn

OPSET = 17
CACHE_LAYOUTS = ("full", "grow")
CROSS_INPUTS = ("stacked", "per_layer")
"""sherpa's two stacked cross tensors, or one laid-out pair per layer (module docstring)."""
# Added to the logits of banned tokens: finite (an -inf could meet a +inf and make a NaN), but far
# below any real logit (tiny.en's stay within +-100).
_BANNED = -1.0e9


@dataclass(frozen=True)
class SuppressRules:
    """openai-whisper's greedy suppression (DecodingOptions defaults: suppress_tokens="-1",
    suppress_blank=True), as token ids."""

    always: tuple[int, ...]
    """Non-speech symbols and control tokens, banned at every step."""
    first: tuple[int, ...]
    """Banned only for the first text token: a blank and end-of-text."""
    first_text_position: int
    """Position whose logits choose the first text token: sherpa feeds sot_sequence plus
    no_timestamps, so for an English-only model (sot_sequence = [sot]) this is 1."""


def _attend(q: Tensor, k: Tensor, v: Tensor, n_head: int, mask: Tensor | None) -> Tensor:
    """Scaled dot-product attention over (N, L, D) tensors, written out as MatMul/Softmax.

    Spelled out rather than `scaled_dot_product_attention` so the graph is plain MatMuls that
    onnxruntime's dynamic quantizer and every execution provider understand.
    """
    n_batch, n_q, n_state = q.shape
    head = n_state // n_head
    scale = head ** -0.25
    q = q.view(n_batch, n_q, n_head, head).permute(0, 2, 1, 3) * scale
    k = k.view(n_batch, k.shape[1], n_head, head).permute(0, 2, 3, 1) * scale
    v = v.view(n_batch, v.shape[1], n_head, head).permute(0, 2, 1, 3)
    weights = q @ k
    if mask is not None:
        weights = weights + mask
    weights = F.softmax(weights, dim=-1)
    return (weights @ v).permute(0, 2, 1, 3).reshape(n_batch, n_q, n_state)


def _attend_one(q: Tensor, k: Tensor, v: Tensor, n_head: int, mask: Tensor | None, laid_out: bool) -> Tensor:
    """Attention for one sequence (the per-layer decoder's batch of 1), reshaped by constants.

    `_attend`'s views take their sizes from the tensors, which the tracer writes as a
    Shape -> Gather -> Unsqueeze -> Concat chain per reshape, run at every token. With the batch fixed
    and the length left to -1 the shapes are constants: 333 -> 269 nodes after onnxruntime's
    optimizer, ~7 % less time per token, identical greedy transcripts (27 of 27 segments, 3-20 s).
    laid_out: k is (1, n_head, head, T) pre-scaled by head^-0.25 and v (1, n_head, T, head) (the cross
    inputs); else k and v are (1, T, n_state) like q."""
    n_state = q.shape[-1]
    head = n_state // n_head
    q = q.reshape(1, -1, n_head, head).transpose(1, 2)
    if laid_out:
        q = q * head ** -0.25
    else:
        q = q * head ** -0.5
        k = k.reshape(1, -1, n_head, head).permute(0, 2, 3, 1)
        v = v.reshape(1, -1, n_head, head).transpose(1, 2)
    weights = q @ k
    if mask is not None:
        weights = weights + mask
    weights = F.softmax(weights, dim=-1)
    return (weights @ v).transpose(1, 2).reshape(1, -1, n_state)


class _MultiHeadAttention(torch.autograd.Function):
    """The encoder's self-attention as one onnxruntime `com.microsoft.MultiHeadAttention` node (PyTorch runs
    `_attend`, so the traced model computes the same thing).

    Spelled out, a 30 s window's attention is MatMul -> Softmax -> MatMul over (6, 1500, 1500) scores per layer:
    54 MB tensors that the encoder, run without an arena to bound the device's memory, maps and faults in
    afresh at every layer. onnxruntime's CPU kernel of this op tiles the scores in cache (flash attention)
    instead. Measured on 3000 frames, 1 thread (AMD EPYC, AVX-512): one layer's attention 40 vs 70 ms without
    an arena; the INT8 encoder 263 vs 304 ms; FP32 outputs within 7e-4 (cosine 1.0000). sherpa-onnx's bundled
    onnxruntime (1.28) runs it too. The decoder keeps plain MatMuls (one query row: nothing to tile)."""

    @staticmethod
    def forward(ctx: Any, q: Tensor, k: Tensor, v: Tensor, n_head: int) -> Tensor:
        return _attend(q, k, v, n_head, None)

    @staticmethod
    def symbolic(g: Any, q: Any, k: Any, v: Any, n_head: int) -> Any:
        out = g.op("com.microsoft::MultiHeadAttention", q, k, v, num_heads_i=n_head)
        out.setType(q.type())
        return out


def _self_attention_block(block: wm.ResidualAttentionBlock, x: Tensor) -> Tensor:
    attn = block.attn
    h = block.attn_ln(x)
    return x + attn.out(_MultiHeadAttention.apply(attn.query(h), attn.key(h), attn.value(h), attn.n_head))


class WhisperEncoder(nn.Module):
    """mel (N, 80, T) -> cross-attention keys and values of every decoder layer."""

    def __init__(self, model: wm.Whisper) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.decoder_blocks = model.decoder.blocks

    def forward(self, mel: Tensor) -> tuple[Tensor, Tensor]:
        enc = self.encoder
        x = F.gelu(enc.conv1(mel))
        x = F.gelu(enc.conv2(x)).permute(0, 2, 1)
        # T is dynamic: take as many positions as frames came out of the strided conv.
        x = x + enc.positional_embedding[: x.shape[1]]
        for block in enc.blocks:
            x = _self_attention_block(block, x)
            x = x + block.mlp(block.mlp_ln(x))
        x = enc.ln_post(x)
        keys = torch.stack([block.cross_attn.key(x) for block in self.decoder_blocks])
        values = torch.stack([block.cross_attn.value(x) for block in self.decoder_blocks])
        return keys, values


class WhisperDecoder(nn.Module):
    """One decoding step over a self-attention cache in the chosen layout (module docstring)."""

    def __init__(self, model: wm.Whisper, layout: str, rules: SuppressRules, cross: str = "stacked") -> None:
        super().__init__()
        if layout not in CACHE_LAYOUTS:
            raise ValueError(f"cache layout must be one of {CACHE_LAYOUTS}, got {layout!r}")
        if cross not in CROSS_INPUTS:
            raise ValueError(f"cross inputs must be one of {CROSS_INPUTS}, got {cross!r}")
        self.decoder = model.decoder
        self.layout = layout
        self.cross = cross
        n_ctx, n_vocab = model.dims.n_text_ctx, model.dims.n_vocab
        self.register_buffer("causal", torch.full((n_ctx, n_ctx), float("-inf")).triu_(1), persistent=False)
        # Whisper's greedy rules, baked in because sherpa's decoder only takes the argmax:
        # never emit the non-speech/control tokens, and never start with a blank or end-of-text.
        always = torch.zeros(n_vocab)
        always[list(rules.always)] = _BANNED
        first = torch.zeros(n_vocab)
        first[list(rules.first)] = _BANNED
        self.register_buffer("suppress_always", always, persistent=False)
        self.register_buffer("suppress_first", first, persistent=False)
        self.first_text_position = rules.first_text_position

    def forward(self, tokens: Tensor, in_k: Tensor, in_v: Tensor, *rest: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """rest: cross_k, cross_v, offset (stacked), or cross_k_0.., cross_v_0.., offset (per_layer: batch 1)."""
        dec = self.decoder
        n_layer = len(dec.blocks)
        offset = rest[-1]
        one = self.cross == "per_layer"
        n_new = tokens.shape[1]
        start = offset[0]
        end = start + n_new
        x = dec.token_embedding(tokens) + dec.positional_embedding[start:end]
        mask = self.causal[start:end, :end]
        out_k: list[Tensor] = []
        out_v: list[Tensor] = []
        for i, block in enumerate(dec.blocks):
            attn = block.attn
            h = block.attn_ln(x)
            # a grown cache holds exactly `start` slots: slicing it would only add nodes
            past_k, past_v = (in_k[i], in_v[i]) if one and self.layout == "grow" else (in_k[i, :, :start], in_v[i, :, :start])
            keys = torch.cat([past_k, attn.key(h)], dim=1)
            values = torch.cat([past_v, attn.value(h)], dim=1)
            q = attn.query(h)
            heard = _attend_one(q, keys, values, attn.n_head, mask, False) if one else _attend(q, keys, values, attn.n_head, mask)
            x = x + attn.out(heard)
            cross = block.cross_attn
            h = block.cross_attn_ln(x)
            q = cross.query(h)
            if one:
                heard = _attend_one(q, rest[i], rest[n_layer + i], cross.n_head, None, True)
            else:
                heard = _attend(q, rest[0][i], rest[1][i], cross.n_head, None)
            x = x + cross.out(heard)
            x = x + block.mlp(block.mlp_ln(x))
            if self.layout == "full":
                keys = torch.cat([keys, in_k[i, :, end:]], dim=1)
                values = torch.cat([values, in_v[i, :, end:]], dim=1)
            out_k.append(keys)
            out_v.append(values)
        x = dec.ln(x)
        logits = x @ dec.token_embedding.weight.t()
        positions = torch.arange(n_new, device=tokens.device) + start
        at_first = (positions == self.first_text_position).to(logits.dtype).unsqueeze(-1)
        logits = logits + self.suppress_always + at_first * self.suppress_first
        return logits, torch.stack(out_k), torch.stack(out_v)


def export_encoder(model: wm.Whisper, path: Path) -> None:
    mel = torch.zeros(1, model.dims.n_mels, 1200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            WhisperEncoder(model).eval(), (mel,), str(path), dynamo=False, opset_version=OPSET,
            input_names=["mel"], output_names=["n_layer_cross_k", "n_layer_cross_v"], custom_opsets={"com.microsoft": 1},
            dynamic_axes={"mel": {0: "n_audio", 2: "n_frames"},
                          "n_layer_cross_k": {1: "n_audio", 2: "n_audio_ctx"},
                          "n_layer_cross_v": {1: "n_audio", 2: "n_audio_ctx"}},
        )


def cross_input_names(n_layer: int, cross: str) -> list[str]:
    """The decoder's cross-attention input names, in order (the runtime binds them by name)."""
    if cross == "stacked":
        return ["n_layer_cross_k", "n_layer_cross_v"]
    return [f"cross_k_{i}" for i in range(n_layer)] + [f"cross_v_{i}" for i in range(n_layer)]


def export_decoder(model: wm.Whisper, path: Path, layout: str, rules: SuppressRules, cross: str = "stacked") -> None:
    dims = model.dims
    # Trace a one-token step at offset 2 (after sherpa's two start tokens); offset is a tensor,
    # so the slices that depend on it stay dynamic in the graph.
    tokens = torch.tensor([[50257]], dtype=torch.int64)
    cache_len = dims.n_text_ctx if layout == "full" else 2
    cache = torch.zeros(dims.n_text_layer, 1, cache_len, dims.n_text_state)
    offset = torch.tensor([2], dtype=torch.int64)
    names = cross_input_names(dims.n_text_layer, cross)
    if cross == "stacked":
        stacked = torch.zeros(dims.n_text_layer, 1, 600, dims.n_text_state)
        cross_args: tuple[Tensor, ...] = (stacked, stacked.clone())
        cross_axes = {name: {1: "n_audio", 2: "n_audio_ctx"} for name in names}
    else:
        head = dims.n_text_state // dims.n_text_head
        keys = [torch.zeros(1, dims.n_text_head, head, 600) for _ in range(dims.n_text_layer)]
        values = [torch.zeros(1, dims.n_text_head, 600, head) for _ in range(dims.n_text_layer)]
        cross_args = (*keys, *values)
        cross_axes = {name: {3 if name.startswith("cross_k") else 2: "n_audio_ctx"} for name in names}
    # the per-layer decoder decodes one sequence (its reshapes are constants: _attend_one)
    batch = {} if cross == "per_layer" else {0: "n_audio"}
    cache_batch = {} if cross == "per_layer" else {1: "n_audio"}
    cache_axes = cache_batch if layout == "full" else {**cache_batch, 2: "n_cache"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            WhisperDecoder(model, layout, rules, cross).eval(), (tokens, cache, cache.clone(), *cross_args, offset),
            str(path), dynamo=False, opset_version=OPSET,
            input_names=["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", *names, "offset"],
            output_names=["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"],
            dynamic_axes={"tokens": {**batch, 1: "n_tokens"},
                          "in_n_layer_self_k_cache": cache_axes, "in_n_layer_self_v_cache": cache_axes,
                          **cross_axes,
                          "logits": {**batch, 1: "n_tokens"},
                          "out_n_layer_self_k_cache": {**cache_batch, 2: "n_cache_out"},
                          "out_n_layer_self_v_cache": {**cache_batch, 2: "n_cache_out"}},
        )


# --- vocabulary and metadata ---------------------------------------------------------------

def _gpt2_unicode_to_byte() -> dict[str, int]:
    """Inverse of GPT-2's byte->printable-unicode table (how vocabulary.txt spells raw bytes)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def read_vocabulary(vocabulary_txt: Path) -> list[str]:
    return vocabulary_txt.read_text(encoding="utf-8").split("\n")[:-1]


def write_tokens(vocabulary: list[str], eot: int, path: Path) -> int:
    """sherpa's tokens.txt: `base64(token bytes) id` for every text token (ids below eot)."""
    table = _gpt2_unicode_to_byte()
    lines = []
    for token_id, token in enumerate(vocabulary[:eot]):
        try:
            raw = bytes(table[ch] for ch in token)
        except KeyError as exc:
            raise ValueError(f"vocabulary id {token_id} {token!r}: character outside the GPT-2 byte table") from exc
        lines.append(f"{base64.b64encode(raw).decode('ascii')} {token_id}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def special_ids(vocabulary: list[str]) -> dict[str, int]:
    """Ids of Whisper's special tokens, read from the vocabulary itself (not assumed)."""
    index = {token: i for i, token in enumerate(vocabulary)}
    names = {"eot": "<|endoftext|>", "sot": "<|startoftranscript|>", "translate": "<|translate|>",
             "transcribe": "<|transcribe|>", "sot_lm": "<|startoflm|>", "sot_prev": "<|startofprev|>",
             "no_speech": "<|nocaptions|>", "no_timestamps": "<|notimestamps|>"}
    missing = [token for token in names.values() if token not in index]
    if missing:
        raise ValueError(f"vocabulary lacks special tokens {missing}")
    ids = {key: index[token] for key, token in names.items()}
    ids["blank_id"] = index["Ġ"]  # a lone space: what sherpa's script gets from encode(" ")
    return ids


def encoder_metadata(dims: wm.ModelDimensions, vocabulary: list[str], non_speech: list[int]) -> dict[str, Any]:
    """The encoder's metadata_props sherpa reads (offline-whisper-model.cc InitEncoder)."""
    ids = special_ids(vocabulary)
    multilingual = dims.n_vocab >= 51865
    if multilingual:
        raise ValueError("this exporter writes English-only models (no language tokens in the metadata)")
    return {
        "model_type": "whisper-tiny.en", "version": "1", "maintainer": "voiceshop-edge export/asr.py",
        "n_mels": dims.n_mels, "n_audio_ctx": dims.n_audio_ctx, "n_audio_state": dims.n_audio_state,
        "n_audio_head": dims.n_audio_head, "n_audio_layer": dims.n_audio_layer, "n_vocab": dims.n_vocab,
        "n_text_ctx": dims.n_text_ctx, "n_text_state": dims.n_text_state, "n_text_head": dims.n_text_head,
        "n_text_layer": dims.n_text_layer,
        "sot_sequence": str(ids["sot"]), "all_language_tokens": "", "all_language_codes": "",
        "sot": ids["sot"], "sot_index": 0, "eot": ids["eot"], "blank_id": ids["blank_id"],
        "is_multilingual": 0, "no_speech": ids["no_speech"],
        "non_speech_tokens": ",".join(map(str, non_speech)),
        "transcribe": ids["transcribe"], "translate": ids["translate"], "sot_prev": ids["sot_prev"],
        "sot_lm": ids["sot_lm"], "no_timestamps": ids["no_timestamps"],
    }


def add_metadata(path: Path, metadata: dict[str, Any]) -> None:
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in metadata.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, str(value)
    onnx.save(model, str(path))


def read_metadata(path: Path) -> dict[str, str]:
    model = onnx.load(str(path), load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def suppress_rules(vocabulary: list[str], non_speech: list[int]) -> SuppressRules:
    """openai-whisper's default greedy suppression for an English-only model."""
    ids = special_ids(vocabulary)
    control = [ids[key] for key in ("transcribe", "translate", "sot", "sot_prev", "sot_lm", "no_speech")]
    return SuppressRules(always=tuple(sorted(set(non_speech) | set(control))),
                         first=(ids["blank_id"], ids["eot"]), first_text_position=1)
