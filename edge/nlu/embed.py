"""Sentence embeddings for product search and FAQ matching: the plain MiniLM encoder, INT8.

Mean pooling over real tokens and L2 normalization happen inside the ONNX graph, so a caller
gets unit vectors and compares them with a dot product. Batches are grouped by length so short
product names are not padded to the longest description.

Dynamic INT8 quantizes activations with one scale per batch, so the same text encoded alone or
in a batch gives vectors a hair apart (mean cosine 0.990 to each other, both 0.992 to FP32 on
product names): fine for ranking, but do not test vectors for equality across batch sizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge.config import RuntimeSettings, Settings
from edge.nlu.bundle import (
    BUNDLE_NAME,
    TOKENIZER_MAX_LEN,
    load_bundle,
    load_tokenizer,
    shared_tokenizer,
    shared_weights,
)
from edge.providers import ort_session


class Embedder:
    """`encode(texts)` -> float32 array (n, dim) of unit vectors; `dim` is 384 for MiniLM."""

    def __init__(self, model_path: Path, tokenizer_path: Path, runtime: RuntimeSettings, threads: int = 1,
                 max_len: int = 128, initializers: Mapping[str, Any] | None = None) -> None:
        self.tokenizer = shared_tokenizer(tokenizer_path) if max_len == TOKENIZER_MAX_LEN \
            else load_tokenizer(tokenizer_path, max_len)
        self.session = ort_session(str(model_path), runtime, threads, initializers)
        self.input_names = {i.name for i in self.session.get_inputs()}
        output = self.session.get_outputs()[0]
        if output.name != "sentence_embedding":
            raise ValueError(f"{model_path}: expected output sentence_embedding, found {output.name}")
        self.dim = int(output.shape[-1])

    @classmethod
    def from_bundle(cls, bundle_dir: Path, runtime: RuntimeSettings | None = None, threads: int = 1,
                    role: str = "encoder") -> Embedder:
        bundle = load_bundle(bundle_dir)
        return cls(bundle.path(role), bundle.path("tokenizer"), runtime or RuntimeSettings(), threads,
                   initializers=shared_weights(bundle))

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls.from_bundle(settings.models.path / BUNDLE_NAME, settings.runtime, settings.threads.nlu)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one row per text, in input order (an empty text gives the [CLS]/[SEP] vector)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
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
            (vectors,) = self.session.run(["sentence_embedding"],
                                          {k: v for k, v in feeds.items() if k in self.input_names})
            out[rows] = vectors
        return out

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
