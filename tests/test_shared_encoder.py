"""The sentence encoder's batching lives once, in voiceshop_common.encoder; device and cloud both run it.

The device embeds the shopper's words and the cloud embeds product texts with the same bundle; a
catalog's vectors are only comparable with the device's if both feed the graph the same way
(tokens, padding, grouping by length, input names). So the two must give the same vectors, bit for
bit, for the same texts and batch boundaries. Dynamic INT8 quantizes per batch, so the boundaries
matter: the last test shows this check is not vacuous (a different batch size changes the bits).
"""

from __future__ import annotations

import numpy as np
import pytest

from cloud.catalog.embed import SentenceEncoder
from edge.nlu.embed import Embedder

pytestmark = pytest.mark.slow

TEXTS = ["organic whole milk, dairy: fresh", "AA batteries", "x", ""] + [
    f"a longer product description number {i} with several more words in it" for i in range(40)]


@pytest.fixture(scope="module")
def encoders(bundle):
    nlu_dir = bundle("nlu")
    return Embedder.from_bundle(nlu_dir), SentenceEncoder(nlu_dir)


@pytest.mark.parametrize("batch_size", [32, 64, 7])
def test_device_and_cloud_give_the_same_vectors(encoders, batch_size):
    # 32 is the device's default, 64 the cloud's publish, 7 splits the texts unevenly.
    device, cloud = encoders
    vectors = device.encode(TEXTS, batch_size=batch_size)
    assert vectors.shape == (len(TEXTS), device.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert np.array_equal(vectors, cloud.encode(TEXTS, batch_size=batch_size))


def test_batch_boundaries_change_the_bits(encoders):
    device, _cloud = encoders
    assert not np.array_equal(device.encode(TEXTS, batch_size=7), device.encode(TEXTS, batch_size=32))
