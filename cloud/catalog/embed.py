"""Product-text embeddings at publish time, with the same INT8 MiniLM bundle the device runs.

The cloud must not import device internals, so this reads the bundle's manifest.json and runs
the encoder with onnxruntime and tokenizers directly, batching as the device does
(`voiceshop_common.encoder`). The graph already mean-pools and
L2-normalizes (output ``sentence_embedding``). The model id recorded with the vectors is the
encoder file's SHA-256 from the manifest: a device whose bundle differs skips semantic search
rather than comparing vectors from two different models.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voiceshop_common.encoder import encode_by_length

DEFAULT_BUNDLE = Path("~/.cache/voiceshop/models/nlu").expanduser()


class BundleMissing(RuntimeError):
    """No usable sentence-encoder bundle: publish without embeddings (devices fall back to lexical)."""


def product_text(name: str, category: str, tags: str) -> str:
    """What gets embedded for a product: its name with the words that say what it is."""
    words = " ".join(tag.replace("-", " ") for tag in tags.split() if tag.lower() not in name.lower())
    return f"{name}, {category}" + (f": {words}" if words else "")


class SentenceEncoder:
    """encode(texts) -> float32 (n, dim) unit vectors; ``model_id`` names the exact weights."""

    def __init__(self, bundle_dir: str | Path = DEFAULT_BUNDLE, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        bundle_dir = Path(bundle_dir).expanduser()
        manifest_path = bundle_dir / "manifest.json"
        if not manifest_path.is_file():
            raise BundleMissing(f"no NLU bundle at {bundle_dir}; build it with `python -m export nlu`")
        files = json.loads(manifest_path.read_text())["files"]
        by_role = {info.get("role"): (bundle_dir / name, info.get("sha256", "")) for name, info in files.items()}
        if "encoder" not in by_role or "tokenizer" not in by_role:
            raise BundleMissing(f"NLU bundle at {bundle_dir} has no encoder/tokenizer files")
        encoder_path, self.model_id = by_role["encoder"]
        self.tokenizer = Tokenizer.from_file(str(by_role["tokenizer"][0]))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(64)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(encoder_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors, one row per text; batches of 64 (the device encodes in 32s: see voiceshop_common.encoder)."""
        return encode_by_length(self.session, self.tokenizer, texts, self.dim, batch_size, self.inputs)
