"""Mandarin hearing (zh mode): Simplified output, no trailing garbage, CER on real synthesized speech.

The unit tests pin the cleanup rules; the end-to-end tests run synthesized Mandarin (export/speech_zh.py)
through the real asr-base bundle exactly as the device does (Silero VAD, Whisper base INT8 on
sherpa-onnx with language zh, the cleanup, the guard) and through `python -m edge transcribe`.
"""

from __future__ import annotations

import dataclasses
import json
import wave

import numpy as np
import pytest

from edge.asr import guard, mandarin
from edge.asr.complete import ends_open
from edge.asr.files import join_segments
from edge.text.cer import cer, character_error_rate, chinese_number

CER_BOUND = 0.25
"""Corpus CER the device must stay under on the synthesized set. Measured on an AVX2 machine, one thread,
36 clips (12 sentences x 3 speed/pitch variants): 0.125 decoding whole clips, 0.110 through the VAD path
(bench speech), 0.133 here with partials and speculative decoding on; the issue's own figure was 0.135
on 11 other sentences. The bound leaves about 2x for other CPUs' INT8 kernels."""

LOUD = np.full(16000 * 3, 0.1, np.float32)


def test_traditional_becomes_simplified_and_garbage_goes():
    assert mandarin.clean("我想買蘋果，三斤。\ufffd") == "我想买苹果，三斤。"
    assert mandarin.clean("\ufffd雞蛋多少錢\u200b一盒?\ufffd\ufffd") == "鸡蛋多少钱一盒？"
    assert mandarin.clean("來三斤 富士蘋果 , 謝謝.") == "来三斤富士苹果，谢谢。"
    assert mandarin.clean("「確認」下單!") == "“确认”下单！"
    assert mandarin.clean("2.5公斤") == "2.5公斤"  # a decimal point is no full stop
    assert mandarin.clean("我想买苹果...") == "我想买苹果……"  # trailing off stays visible to edge.asr.complete
    assert mandarin.clean("add milk, please.") == "add milk, please."  # Latin text untouched


def test_the_guard_cuts_chinese_repetition_and_restarts_and_subtitle_credits():
    assert guard.accept("我想买苹果我想买苹果我想买苹", LOUD, 2.5) == "我想买苹果"
    assert guard.accept("哈哈哈哈哈哈哈", LOUD, 2.5) == "哈"
    assert guard.accept("字幕由Amara.org社区提供", LOUD, 2.5) == ""
    assert guard.accept("请不吝点赞订阅转发打赏支持明镜与点点栏目", LOUD, 3.0) == ""
    assert guard.accept("谢谢观看", np.full(8000, 0.001, np.float32), 0.3) == ""  # weak evidence
    assert guard.accept("我要一袋大米", LOUD, 2.0) == "我要一袋大米"
    assert guard.accept("苹果苹果", LOUD, 1.0) == "苹果苹果"  # two characters said twice can be real
    too_many = "我想买苹果香蕉牛奶鸡蛋大米面包啤酒可乐矿泉水西红柿土豆黄瓜洋葱大蒜"
    assert guard.accept(too_many, LOUD, 1.0) == ""  # 30 syllables in a second: invented
    assert guard.accept(too_many, LOUD, 5.0) == too_many
    assert guard.accept("add a loaf of sourdough bread add a loaf of sourd", LOUD, 3.0) == \
        "add a loaf of sourdough bread"  # English as before


def test_chinese_open_endings_and_segment_joining():
    assert ends_open("我想买") and ends_open("来两") and ends_open("苹果，")
    assert not ends_open("我想买苹果。") and not ends_open("来两斤苹果") and not ends_open("不要")
    assert ends_open("我想买苹果……") and not ends_open("好的。") and not ends_open("我要红的")
    assert join_segments(["我想买苹果", "再来一箱啤酒"]) == "我想买苹果再来一箱啤酒"
    assert join_segments(["add milk", "and eggs"]) == "add milk and eggs"


def test_cer_counts_characters_after_the_documented_normalization():
    assert chinese_number(39) == "三十九" and chinese_number(105) == "一百零五" and chinese_number(10) == "十"
    assert character_error_rate("富士苹果三斤三十九元", "富士蘋果 3斤39元。") == 0.0
    assert character_error_rate("来两斤", "来2斤") == 0.0
    assert character_error_rate("我想买苹果", "我想买平果") == pytest.approx(0.2)
    assert cer([("我想买苹果", "我想买苹果"), ("啤酒", "皮酒")]) == pytest.approx(1 / 7)
    assert character_error_rate("", "") == 0.0 and character_error_rate("", "多") == 1.0


@pytest.fixture(scope="module")
def zh_clips():
    from export.speech_zh import VARIANTS, clips

    return clips(VARIANTS)


def _zh_settings(models_dir):
    from edge.config import load_settings

    settings = load_settings(environ={"VOICESHOP_DEVICE__LANGUAGE": "zh"})
    return dataclasses.replace(settings, models=dataclasses.replace(settings.models, dir=str(models_dir)))


def _is_clean_simplified(text: str) -> bool:
    return mandarin.to_simplified(text) == text and "\ufffd" not in text and mandarin.strip_garbage(text) == text


def test_device_recognizer_hears_mandarin_in_simplified_within_the_cer_bound(bundle, zh_clips):
    from edge.asr import recognizer_for_settings
    from edge.events import AudioChunk, FinalTranscript, PartialTranscript

    recognizer = recognizer_for_settings(_zh_settings(bundle("asr-base").parent), partials=True, threads=1)
    pairs, partials = [], []
    for text, audio in zh_clips:
        recognizer.reset()
        events = []
        for start in range(0, len(audio), 1600):
            events += recognizer.process(AudioChunk(audio[start:start + 1600], 16000, start / 16000))
        events += recognizer.flush()
        finals = [e.text for e in events if isinstance(e, FinalTranscript)]
        partials += [e.text for e in events if isinstance(e, PartialTranscript)]
        pairs.append((text, join_segments(finals)))
    assert all(hyp and _is_clean_simplified(hyp) for _ref, hyp in pairs), pairs
    assert all(_is_clean_simplified(p) for p in partials), partials
    measured = cer(pairs)
    print(f"zh CER {measured:.3f} over {len(pairs)} clips")
    assert measured <= CER_BOUND, pairs


def test_transcribe_cli_prints_simplified_text_in_zh_mode(bundle, cli, tmp_path, zh_clips):
    text, audio = zh_clips[3]  # 帮我加两瓶矿泉水: Whisper writes it in Traditional (幫、兩、礦)
    path = tmp_path / "zh.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    models = str(bundle("asr-base").parent)
    result = cli("edge", "transcribe", str(path), "--json", "--threads", "1",
                 env={"VOICESHOP_DEVICE__LANGUAGE": "zh", "VOICESHOP_MODELS__DIR": models}, timeout=300)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["text"] and _is_clean_simplified(record["text"]), record
    assert character_error_rate(text, record["text"]) <= 0.5, record
