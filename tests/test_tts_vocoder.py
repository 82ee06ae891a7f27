"""edge.tts.vocoder on small synthetic graphs: windows tile the latent, overlap removes the seams, stops work.

The decoder here is a toy HiFi-GAN in two stages: a ConvTranspose upsampling 4x (reaching 1
latent frame to each side), then a dilated Conv at the 4x rate (12 samples: 3 frames), so the
chunking logic is checked without the real voice (tests/test_tts_synthesis.py does that on the bundle).
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.tts.vocoder import ChunkPlan, Vocoder, windows

HOP, CHANNELS, VOCAB = 4, 8, 20
STAGE_CONTEXT = (1, 3)  # frames each stage reaches to each side: ConvTranspose k8 s4; Conv k9 dilation 3 at 4x
WHOLE_CONTEXT = 4  # the decoder as one stage


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
    z_in = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, CHANNELS, None])
    u_io = helper.make_tensor_value_info("u", TensorProto.FLOAT, [1, 4, None])
    audio_out = helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 1, None])
    upsample = helper.make_node("ConvTranspose", ["z", "up"], ["u"], strides=[HOP], pads=[HOP // 2, HOP // 2])
    nodes = [helper.make_node("Conv", ["u", "conv"], ["c"], dilations=[3], pads=[12, 12]),
             helper.make_node("Tanh", ["c"], ["audio"])]
    whole = helper.make_graph([upsample, *nodes], "decoder", [z_in], [audio_out], [up, conv])
    first = helper.make_graph([upsample], "stage0", [z_in], [u_io], [up])
    second = helper.make_graph(nodes, "stage1", [u_io], [audio_out], [conv])
    return (_save(latent, out / "latent.onnx"), _save(whole, out / "decoder.onnx"),
            (_save(first, out / "decoder_0.onnx"), _save(second, out / "decoder_1.onnx")))


def _whole(decoder: str, z: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(decoder, providers=["CPUExecutionProvider"])
    return session.run(None, {"z": z})[0].reshape(-1)


@pytest.mark.parametrize("total", [1, 5, 24, 25, 100, 257])
def test_windows_tile_the_latent_once_with_context_per_stage(total):
    plan = ChunkPlan(first_frames=5, frames=16, overlaps=(3, 1), rates=(8, 256))
    parts = list(windows(total, plan))
    assert parts[0].keep_from == 0 and parts[-1].keep_to == total
    assert all(a.keep_to == b.keep_from for a, b in zip(parts, parts[1:], strict=False))
    assert parts[0].keep_to - parts[0].keep_from == min(5, total)
    for w in parts:
        assert w.keep_to - w.keep_from <= max(plan.first_frames, plan.frames)
        (low0, high0), (low1, high1) = w.inputs
        assert 0 <= low0 <= low1 <= w.keep_from < w.keep_to <= high1 <= high0 <= total
        assert w.keep_from - low1 == min(1, w.keep_from) and high1 - w.keep_to == min(1, total - w.keep_to)
        assert low1 - low0 == min(3, low1) and high0 - high1 == min(3, total - high1)


def test_a_plan_must_make_progress():
    with pytest.raises(ValueError):
        ChunkPlan(first_frames=0, frames=16, overlaps=(2,), rates=(256,))
    with pytest.raises(ValueError):
        ChunkPlan(first_frames=4, frames=16, overlaps=(-1,), rates=(256,))
    with pytest.raises(ValueError):
        ChunkPlan(first_frames=4, frames=16, overlaps=(1, 2), rates=(256,))


def _decode(latent, decoder, plan, z):
    return np.concatenate([a for a, _last in Vocoder(latent, decoder, plan).decode(z)])


def test_chunks_match_the_whole_decoder_once_the_overlap_covers_the_receptive_field(graphs):
    latent, decoder, _stages = graphs
    ids = list(np.random.default_rng(1).integers(0, VOCAB, 40))
    plan = ChunkPlan(first_frames=4, frames=11, overlaps=(WHOLE_CONTEXT,), rates=(HOP,))
    vocoder = Vocoder(latent, [decoder], plan)
    z = vocoder.latent(ids, 1.0, 1.0, 1.0)
    assert z.shape == (1, CHANNELS, 120)
    whole = _whole(decoder, z)
    chunks = list(vocoder.decode(z))
    assert [last for _a, last in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[0][0].size == plan.first_frames * HOP and len(chunks) == 1 + -(-(120 - 4) // 11)
    joined = np.concatenate([a for a, _last in chunks])
    assert joined.size == whole.size and np.max(np.abs(joined - whole)) < 1e-5
    # One frame of context short, the seams show: the test would notice a window cut in the wrong place.
    bare = _decode(latent, [decoder], ChunkPlan(4, 11, (WHOLE_CONTEXT - 1,), (HOP,)), z)
    assert bare.size == whole.size and np.max(np.abs(bare - whole)) > 1e-2


def test_stages_need_only_their_own_context(graphs):
    latent, decoder, stages = graphs
    z = Vocoder(latent, [decoder], ChunkPlan(4, 11, (0,), (HOP,))).latent([i % VOCAB for i in range(1, 31)], 1.0, 1.0, 1.0)
    whole = _whole(decoder, z)
    staged = _decode(latent, stages, ChunkPlan(4, 11, STAGE_CONTEXT, (HOP, HOP)), z)
    assert staged.size == whole.size and np.max(np.abs(staged - whole)) < 1e-5
    for short in ((STAGE_CONTEXT[0] - 1, STAGE_CONTEXT[1]), (STAGE_CONTEXT[0], STAGE_CONTEXT[1] - 1)):
        seams = _decode(latent, stages, ChunkPlan(4, 11, short, (HOP, HOP)), z)
        assert np.max(np.abs(seams - whole)) > 1e-2, short


def test_decoding_stops_between_chunks(graphs):
    latent, _decoder, stages = graphs
    vocoder = Vocoder(latent, stages, ChunkPlan(4, 8, STAGE_CONTEXT, (HOP, HOP)), arena=False)
    z = vocoder.latent(list(range(1, 17)), 1.0, 1.0, 1.0)
    made: list[np.ndarray] = []
    for audio, last in vocoder.decode(z, should_stop=lambda: len(made) >= 2):
        made.append(audio)
        assert not last
    assert len(made) == 2  # 48 frames would have been 7 chunks
    vocoder.release(list(range(1, 4)))  # the arena-off session shrinks nothing, and says nothing


def test_release_keeps_the_voice_working(graphs):
    latent, decoder, stages = graphs
    vocoder = Vocoder(latent, stages, ChunkPlan(4, 8, STAGE_CONTEXT, (HOP, HOP)))
    z = vocoder.latent(list(range(1, 17)), 1.0, 1.0, 1.0)
    before = np.concatenate([a for a, _last in vocoder.decode(z)])
    vocoder.release([1, 2, 3])
    assert np.array_equal(before, np.concatenate([a for a, _last in vocoder.decode(z)]))
    assert np.max(np.abs(before - _whole(decoder, z))) < 1e-5


def test_a_latent_graph_with_other_inputs_is_refused(graphs):
    _latent, decoder, _stages = graphs
    with pytest.raises(ValueError, match="input_lengths"):
        Vocoder(decoder, [decoder], ChunkPlan(4, 8, (3,), (HOP,)))
    with pytest.raises(ValueError, match="stages"):
        Vocoder(_latent, [decoder], ChunkPlan(4, 8, (1, 3), (HOP, HOP)))
