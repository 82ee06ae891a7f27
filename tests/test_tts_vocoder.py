"""edge.tts.vocoder on small synthetic graphs: windows tile the latent, overlap removes the seams, stops work.

The decoder here is a toy HiFi-GAN: a ConvTranspose upsampling 4x and a dilated Conv whose
receptive field reaches 4 latent frames to each side, so the chunking logic is checked without
the real voice (tests/test_tts_synthesis.py does that on the bundle).
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.tts.vocoder import ChunkPlan, Vocoder, windows

HOP, CHANNELS, VOCAB = 4, 8, 20
RECEPTIVE_FRAMES = 4  # ConvTranspose: 1 frame each side; Conv k9 dilation 3 at 4x: 12 samples, 3 more frames


def _save(graph: onnx.GraphProto, path) -> str:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    rng = np.random.default_rng(0)
    out = tmp_path_factory.mktemp("vocoder")
    table = numpy_helper.from_array(rng.standard_normal((VOCAB, CHANNELS)).astype(np.float32), "table")
    repeat = numpy_helper.from_array(np.array([1, 1, 3], dtype=np.int64), "repeat")  # 3 frames per phoneme
    latent = helper.make_graph(
        [helper.make_node("Gather", ["table", "input"], ["e"]),              # [1, N, C]
         helper.make_node("Transpose", ["e"], ["t"], perm=[0, 2, 1]),        # [1, C, N]
         helper.make_node("Tile", ["t", "repeat"], ["tiled"]),               # [1, C, 3N]
         helper.make_node("Gather", ["scales", "one"], ["length_scale"]),  # a scalar: the toy's "duration"
         helper.make_node("Mul", ["tiled", "length_scale"], ["z0"]),
         helper.make_node("Identity", ["z0"], ["z"])],
        "latent",
        [helper.make_tensor_value_info("input", TensorProto.INT64, [1, None]),
         helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
         helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, CHANNELS, None])],
        [table, repeat, numpy_helper.from_array(np.array(1, dtype=np.int64), "one")])
    up = numpy_helper.from_array(rng.standard_normal((CHANNELS, 4, 2 * HOP)).astype(np.float32) * 0.3, "up")
    conv = numpy_helper.from_array(rng.standard_normal((1, 4, 9)).astype(np.float32) * 0.3, "conv")
    decoder = helper.make_graph(
        [helper.make_node("ConvTranspose", ["z", "up"], ["u"], strides=[HOP], pads=[HOP // 2, HOP // 2]),
         helper.make_node("Conv", ["u", "conv"], ["c"], dilations=[3], pads=[12, 12]),
         helper.make_node("Tanh", ["c"], ["audio"])],
        "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, CHANNELS, None])],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 1, None])],
        [up, conv])
    return _save(latent, out / "latent.onnx"), _save(decoder, out / "decoder.onnx")


def _whole(decoder: str, z: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(decoder, providers=["CPUExecutionProvider"])
    return session.run(None, {"z": z})[0].reshape(-1)


@pytest.mark.parametrize("total", [1, 5, 24, 25, 100, 257])
def test_windows_tile_the_latent_once_with_context(total):
    plan = ChunkPlan(first_frames=5, frames=16, overlap=3)
    parts = list(windows(total, plan))
    assert parts[0].keep_from == 0 and parts[-1].keep_to == total
    assert all(a.keep_to == b.keep_from for a, b in zip(parts, parts[1:], strict=False))
    assert parts[0].keep_to - parts[0].keep_from == min(5, total)
    for w in parts:
        assert 0 <= w.start <= w.keep_from < w.keep_to <= w.end <= total
        assert w.keep_from - w.start == min(plan.overlap, w.keep_from)  # full context unless at an edge
        assert w.end - w.keep_to == min(plan.overlap, total - w.keep_to)
        assert w.keep_to - w.keep_from <= max(plan.first_frames, plan.frames)


def test_a_plan_must_make_progress():
    with pytest.raises(ValueError):
        ChunkPlan(first_frames=0, frames=16, overlap=2)
    with pytest.raises(ValueError):
        ChunkPlan(first_frames=4, frames=16, overlap=-1)


def test_chunks_match_the_whole_decoder_once_the_overlap_covers_the_receptive_field(graphs):
    latent, decoder = graphs
    ids = list(np.random.default_rng(1).integers(0, VOCAB, 40))
    plan = ChunkPlan(first_frames=4, frames=11, overlap=RECEPTIVE_FRAMES, hop=HOP)
    vocoder = Vocoder(latent, decoder, plan)
    z = vocoder.latent(ids, 1.0, 1.0, 1.0)
    assert z.shape == (1, CHANNELS, 120)
    whole = _whole(decoder, z)
    chunks = list(vocoder.decode(z))
    assert [last for _a, last in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[0][0].size == plan.first_frames * HOP and len(chunks) == 1 + -(-(120 - 4) // 11)
    joined = np.concatenate([a for a, _last in chunks])
    assert joined.size == whole.size and np.max(np.abs(joined - whole)) < 1e-5
    # One frame of context short, the seams show: the test would notice a window cut in the wrong place.
    short = ChunkPlan(4, 11, RECEPTIVE_FRAMES - 1, HOP)
    bare = np.concatenate([a for a, _last in Vocoder(latent, decoder, short).decode(z)])
    assert bare.size == whole.size and np.max(np.abs(bare - whole)) > 1e-2


def test_decoding_stops_between_chunks(graphs):
    latent, decoder = graphs
    vocoder = Vocoder(latent, decoder, ChunkPlan(4, 8, RECEPTIVE_FRAMES, HOP), arena=False)
    z = vocoder.latent(list(range(1, 17)), 1.0, 1.0, 1.0)
    made: list[np.ndarray] = []
    for audio, last in vocoder.decode(z, should_stop=lambda: len(made) >= 2):
        made.append(audio)
        assert not last
    assert len(made) == 2  # 48 frames would have been 7 chunks


def test_a_latent_graph_with_other_inputs_is_refused(graphs, tmp_path):
    _latent, decoder = graphs
    with pytest.raises(ValueError, match="input_lengths"):
        Vocoder(decoder, decoder, ChunkPlan(4, 8, 3, HOP))
