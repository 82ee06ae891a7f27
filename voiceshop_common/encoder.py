"""Sentence embeddings from the NLU bundle's MiniLM graph: the batching both device and cloud run.

The cloud embeds product texts when it publishes a catalog and the device embeds the shopper's
words at search time; both must feed the same graph the same way or their vectors drift apart.
The graph mean-pools over real tokens and L2-normalizes inside (output ``sentence_embedding``), so
this only tokenizes, groups texts of similar length into batches (short names are not padded to
the longest description), runs them and puts the rows back in input order.

Batch size is the caller's choice and is not neutral: dynamic INT8 quantizes activations with one
scale per batch, so a text encoded in batches of 64 (the cloud's publish) and of 32 (the device)
gives vectors a hair apart (mean cosine ~0.99): fine for ranking, not for equality tests.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

OUTPUT = "sentence_embedding"
"""The graph output holding one unit vector per text."""


def encode_by_length(session: Any, tokenizer: Any, texts: Sequence[str], dim: int, batch_size: int,
                     input_names: Collection[str]) -> np.ndarray:
    """float32 (len(texts), dim) unit vectors in input order, run batch_size texts at a time.

    session is an onnxruntime InferenceSession of the encoder, tokenizer a `tokenizers.Tokenizer`
    with padding off (truncation as the caller wants); input_names are the graph's inputs, since an
    exported graph may drop token_type_ids.
    """
    out = np.zeros((len(texts), dim), dtype=np.float32)
    encodings = tokenizer.encode_batch(list(texts))
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    for begin in range(0, len(order), batch_size):
        rows = order[begin:begin + batch_size]
        width = max(len(encodings[i].ids) for i in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, i in enumerate(rows):
            n = len(encodings[i].ids)
            ids[r, :n] = encodings[i].ids
            mask[r, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (vectors,) = session.run([OUTPUT], {k: v for k, v in feeds.items() if k in input_names})
        out[rows] = vectors
    return out
