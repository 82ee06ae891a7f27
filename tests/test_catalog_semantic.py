"""Semantic search with the real INT8 MiniLM bundle: cloud-side vectors, device-side queries.

The cloud embeds product texts at publish time with its own onnxruntime loader; the device
embeds queries with edge.nlu's Embedder. Both must produce the same vectors from the same bundle,
and the device must refuse vectors made by a different encoder.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cloud.catalog import generate, publish, signing, store
from cloud.catalog.embed import SentenceEncoder
from edge.catalog.apply import apply_delta, load_public_key
from edge.catalog.schema import open_catalog
from edge.catalog.search import Searcher

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nlu(bundle):
    return bundle("nlu")


@pytest.fixture(scope="module")
def device_embedder(nlu):
    from edge.nlu.embed import Embedder

    return Embedder.from_bundle(nlu)


@pytest.fixture(scope="module")
def semantic_catalog(nlu, tmp_path_factory):
    root = tmp_path_factory.mktemp("semantic")
    generate.generate(root / "m.db", 800, seed=1)
    private, public = signing.generate_keypair(root / "keys")
    conn = store.open_master(root / "m.db")
    result = publish.publish(conn, signing.load_private_key(private), root / "out", bundle_dir=nlu)
    assert result["embedded_texts"] > 100
    dev = open_catalog(root / "dev.db")
    assert apply_delta(dev, (root / "out" / "snapshot-000001.vscat").read_bytes(), load_public_key(public)).ok
    return dev


def _model_id(nlu) -> str:
    files = json.loads((nlu / "manifest.json").read_text())["files"]
    return next(info["sha256"] for info in files.values() if info.get("role") == "encoder")


def test_cloud_and_device_encoders_agree(nlu, device_embedder):
    texts = ["Fuji apples, produce: fruit", "oat milk latte", "windshield washer fluid"]
    cloud = SentenceEncoder(nlu).encode(texts)
    device = device_embedder.encode(texts)
    assert np.allclose(np.linalg.norm(cloud, axis=1), 1.0, atol=1e-3)
    assert (np.sum(cloud * device, axis=1) > 0.999).all()


def test_semantic_signal_finds_meaning(semantic_catalog, device_embedder, nlu):
    searcher = Searcher(semantic_catalog, device_embedder.encode_one, _model_id(nlu))
    hits = searcher.search("vanilla ice cream", limit=3)
    assert searcher.semantic_ready and "semantic" in hits[0].why and "ice cream" in hits[0].product.name
    # "frozen dessert" is not the name "vanilla ice cream": tags and meaning must carry it.
    hits = searcher.search("a frozen dessert", limit=5)
    assert any(h.product.name.endswith("ice cream") for h in hits), [h.product.name for h in hits]
    related = searcher.search("coffee drinks with espresso", limit=10)
    assert sum(h.product.category == "coffee to go" for h in related) >= 5


def test_vectors_from_another_encoder_are_not_used(semantic_catalog, device_embedder):
    searcher = Searcher(semantic_catalog, device_embedder.encode_one, "not-the-publishing-model")
    hits = searcher.search("vanilla ice cream", limit=3)
    assert not searcher.semantic_ready and hits and "semantic" not in hits[0].why
