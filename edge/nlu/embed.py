"""Sentence embeddings for product search and FAQ matching: the plain MiniLM encoder, INT8.

Mean pooling over real tokens and L2 normalization happen inside the ONNX graph, so a caller
gets unit vectors and compares them with a dot product. The batching (grouped by length so short
product names are not padded to the longest description) is `voiceshop_common.encoder`'s, the
loop the cloud runs when it embeds the catalog, so both sides feed the graph the same way.

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
from voiceshop_common.encoder import OUTPUT, encode_by_length


class Embedder:
    """`encode(texts)` -> float32 array (n, dim) of unit vectors; `dim` is 384 for MiniLM."""

    def __init__(self, model_path: Path, tokenizer_path: Path, runtime: RuntimeSettings, threads: int = 1,
                 max_len: int = 128, initializers: Mapping[str, Any] | None = None) -> None:
        self.tokenizer = shared_tokenizer(tokenizer_path) if max_len == TOKENIZER_MAX_LEN \
            else load_tokenizer(tokenizer_path, max_len)
        self.session = ort_session(str(model_path), runtime, threads, initializers)
        self.input_names = {i.name for i in self.session.get_inputs()}
        output = self.session.get_outputs()[0]
        if output.name != OUTPUT:
            raise ValueError(f"{model_path}: expected output {OUTPUT}, found {output.name}")
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
        return encode_by_length(self.session, self.tokenizer, texts, self.dim, batch_size, self.input_names)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
