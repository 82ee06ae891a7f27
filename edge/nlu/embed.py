"""Sentence embeddings for product search and FAQ matching: the plain MiniLM encoder, INT8.

Mean pooling over real tokens and L2 normalization happen inside the ONNX graph, so a caller
gets unit vectors and compares them with a dot product. The batching (grouped by length so short
product names are not padded to the longest description) is `voiceshop_common.encoder`'s, the
loop the cloud runs when it embeds the catalog, so both sides feed the graph the same way.

Dynamic INT8 quantizes activations with one scale per batch, so the same text encoded alone or
in a batch gives vectors a hair apart (mean cosine 0.990 to each other, both 0.992 to FP32 on
product names): fine for ranking, but do not test vectors for equality across batch sizes.

The Mandarin bundle (`nlu-zh`) ships multilingual-e5-small, which was trained with a prefix on
every text ("query: " for what the shopper says, "passage: " for what is searched); its labels.json
lists them under "encoder_prefixes" and `encode(texts, kind)` adds them. It also ships its own
encoder tokenizer (role "encoder-tokenizer": plain XLM-R, without the NLU's numeral splitting).
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
from edge.nlu.understand import ZH_BUNDLE_NAME
from edge.providers import ort_session
from voiceshop_common.encoder import OUTPUT, encode_by_length

ENCODER_TOKENIZER_ROLE = "encoder-tokenizer"
"""A bundle whose encoder reads text differently from its NLU model ships this tokenizer too."""


class Embedder:
    """`encode(texts)` -> float32 array (n, dim) of unit vectors; `dim` is 384 for MiniLM."""

    def __init__(self, model_path: Path, tokenizer_path: Path, runtime: RuntimeSettings, threads: int = 1,
                 max_len: int = 128, initializers: Mapping[str, Any] | None = None,
                 prefixes: Mapping[str, str] | None = None) -> None:
        self.prefixes = dict(prefixes or {})
        """kind ("query", "passage") -> text put before each text; empty for MiniLM."""
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
        tokenizer = bundle.files.get(ENCODER_TOKENIZER_ROLE) or bundle.path("tokenizer")
        return cls(bundle.path(role), tokenizer, runtime or RuntimeSettings(), threads,
                   initializers=shared_weights(bundle), prefixes=bundle.labels.get("encoder_prefixes"))

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        name = ZH_BUNDLE_NAME if settings.device.language == "zh" else BUNDLE_NAME
        return cls.from_bundle(settings.models.path / name, settings.runtime, settings.threads.nlu)

    def encode(self, texts: Sequence[str], batch_size: int = 32, kind: str = "query") -> np.ndarray:
        """Unit vectors, one row per text, in input order (an empty text gives the [CLS]/[SEP] vector).

        kind is "query" (what the shopper says) or "passage" (what is searched); it only matters for
        an encoder trained with prefixes (e5), and MiniLM ignores it."""
        prefix = self.prefixes.get(kind, "")
        texts = [prefix + text for text in texts] if prefix else texts
        return encode_by_length(self.session, self.tokenizer, texts, self.dim, batch_size, self.input_names)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
