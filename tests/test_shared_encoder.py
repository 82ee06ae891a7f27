"""The sentence encoder's batching lives once, in voiceshop_common.encoder; the cloud publishes with it.

edge/nlu/embed.py still carries its own copy of the loop because its bytes key the NLU bundle (changing
them forces a retrain); it switches to voiceshop_common.encoder at the next NLU rebuild. Until then this
test holds the two to the same vectors, bit for bit, at the device's batch size and the cloud's.
"""

from __future__ import annotations

import numpy as np
import pytest

from cloud.catalog.embed import SentenceEncoder
from edge.nlu.embed import Embedder
from voiceshop_common.encoder import encode_by_length

pytestmark = pytest.mark.slow

TEXTS = ["organic whole milk, dairy: fresh", "AA batteries", "x", ""] + [
    f"a longer product description number {i} with several more words in it" for i in range(40)]


@pytest.fixture(scope="module")
def nlu_dir(bundle):
    return bundle("nlu")


def test_device_encoder_matches_the_shared_batching(nlu_dir):
    device = Embedder.from_bundle(nlu_dir)
    for batch_size in (32, 7):
        shared = encode_by_length(device.session, device.tokenizer, TEXTS, device.dim, batch_size, device.input_names)
        assert np.array_equal(device.encode(TEXTS, batch_size=batch_size), shared)


def test_cloud_encoder_is_the_shared_batching_at_64(nlu_dir):
    cloud = SentenceEncoder(nlu_dir)
    vectors = cloud.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), cloud.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    shared = encode_by_length(cloud.session, cloud.tokenizer, TEXTS, cloud.dim, 64, cloud.inputs)
    assert np.array_equal(vectors, shared)
