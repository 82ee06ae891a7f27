"""One copy of the word embeddings for the joint NLU model and the sentence encoder."""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import pytest

from edge.config import RuntimeSettings
from edge.nlu.bundle import SHARED_ROLE, NluBundle, load_bundle, shared_weights
from edge.nlu.embed import Embedder
from edge.nlu.understand import Understander


def _record(arrays: dict[str, np.ndarray]) -> dict:
    return {name: {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(a.tobytes()).hexdigest(),
                   "bytes": int(a.nbytes)} for name, a in arrays.items()}


def _fake_bundle(tmp_path, arrays, record=None) -> NluBundle:
    path = tmp_path / "shared_weights.npz"
    np.savez(path, **arrays)
    return NluBundle(tmp_path, {SHARED_ROLE: path}, {}, record if record is not None else _record(arrays))


def test_shared_weights_load_once_and_match_the_file(tmp_path):
    table = np.arange(4096, dtype=np.int8).reshape(64, 64)
    bundle = _fake_bundle(tmp_path, {"emb.weight_quantized": table})
    values = shared_weights(bundle)
    assert set(values) == {"emb.weight_quantized"}
    assert np.array_equal(values["emb.weight_quantized"].numpy(), table)
    assert shared_weights(bundle) is values  # the second session gets the very same buffers


def test_a_tensor_that_differs_from_the_manifest_is_not_shared(tmp_path, caplog):
    table = np.ones((64, 64), dtype=np.int8)
    record = _record({"emb.weight_quantized": table})
    tampered = table.copy()
    tampered[3, 3] = 2
    bundle = _fake_bundle(tmp_path, {"emb.weight_quantized": tampered}, record)
    with caplog.at_level(logging.WARNING, logger="edge.nlu.bundle"):
        assert shared_weights(bundle) == {}
    assert "does not match the manifest" in caplog.text


def test_an_unreadable_file_or_an_old_bundle_shares_nothing(tmp_path, caplog):
    (tmp_path / "shared_weights.npz").write_bytes(b"not a zip")
    broken = NluBundle(tmp_path, {SHARED_ROLE: tmp_path / "shared_weights.npz"}, {},
                       {"x": {"shape": [1], "dtype": "int8", "sha256": "0"}})
    with caplog.at_level(logging.WARNING, logger="edge.nlu.bundle"):
        assert shared_weights(broken) == {}
    assert "unreadable" in caplog.text
    assert shared_weights(NluBundle(tmp_path, {}, {})) == {}


@pytest.mark.slow
def test_shipped_bundle_shares_the_word_embeddings_with_identical_outputs(bundle):
    nlu_dir = bundle("nlu")
    manifest = json.loads((nlu_dir / "manifest.json").read_text())
    shared = manifest["extra"]["shared_weights"]
    assert "bert.embeddings.word_embeddings.weight_quantized" in shared
    assert sum(info["bytes"] for info in shared.values()) > 10_000_000
    loaded = load_bundle(nlu_dir)
    values = shared_weights(loaded)
    assert set(values) == set(shared)

    texts = ["add two bags of fuji apples", "what's in my cart", "I want to buy apples", "checkout please"]
    runtime = RuntimeSettings()
    sharing, alone = Understander.from_bundle(nlu_dir), Understander(
        loaded.path("nlu"), loaded.path("tokenizer"), loaded.labels, runtime)
    assert [sharing.predict(t) for t in texts] == [alone.predict(t) for t in texts]
    encoder = Embedder.from_bundle(nlu_dir)
    assert np.array_equal(encoder.encode(texts), Embedder(loaded.path("encoder"), loaded.path("tokenizer"),
                                                          runtime).encode(texts))


@pytest.mark.slow
def test_one_tokenizer_serves_both_and_the_nlu_cuts_like_its_own_truncation(bundle):
    from edge.nlu.bundle import load_tokenizer
    from edge.nlu.understand import fit

    nlu_dir = bundle("nlu")
    nlu, encoder = Understander.from_bundle(nlu_dir), Embedder.from_bundle(nlu_dir)
    assert nlu.tokenizer is encoder.tokenizer
    own = load_tokenizer(load_bundle(nlu_dir).path("tokenizer"), nlu.max_len)
    long_text = ("please add two bags of organic fuji apples and a gallon of whole milk and some bread " * 6).strip()
    for text in (long_text, "add apples", "x" * 3):
        reference = own.encode(text)
        ids, words, offsets = fit(nlu.tokenizer.encode(text), nlu.max_len)
        assert (ids, words, offsets) == (reference.ids, reference.word_ids, reference.offsets)
    assert len(own.encode(long_text).ids) == nlu.max_len  # the long text really was cut
    assert len(encoder.tokenizer.encode(long_text).ids) > nlu.max_len  # and the encoder keeps more of it
