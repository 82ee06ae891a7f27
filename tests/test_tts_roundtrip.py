"""TTS -> ASR round trip on the real bundles: replies the device says, synthesized by edge.tts (text
normalization, clause streaming, Piper on sherpa-onnx, resampled to 16 kHz) and recognized by edge.asr
(Silero VAD + Whisper INT8), come back with WER <= 10 %."""

from __future__ import annotations

import numpy as np
import pytest

from edge.asr import recognizer_for_settings
from edge.audio import frames_of
from edge.config import load_settings
from edge.events import FinalTranscript
from edge.tts import Synthesizer, Voice, load_bundle, normalize
from export.wer import wer
from tests.conftest import MODELS_DIR

pytestmark = pytest.mark.slow

# Replies in the dialogue's style. Cents are left out on purpose: Whisper writes "four ninety-nine"
# as "$4.99", which a WER normalizer reads as "four dollars ninety nine cents" (a format, not an error).
REPLIES = (
    "Sure, I added two bags of coffee to your cart.",
    "Your total is $12.00. Shall I place the order?",
    "Fuji apples, 3 lb bag. Good value.",
    "Your order is on its way.",
    "I found three kinds of oat milk. Which one would you like?",
    "Okay, I removed the bananas from your cart.",
    "Sorry, I didn't catch that. Could you say it again?",
    "Your order of dish soap was cancelled.",
)


@pytest.fixture(scope="module")
def recognizer(bundle):
    bundle("vad")
    bundle("asr")
    return recognizer_for_settings(load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)}))


@pytest.fixture(scope="module")
def synthesizer(bundle):
    voice = Voice(load_bundle(bundle("tts")), threads=1, noise_scale=0.0, noise_w=0.0)
    return Synthesizer(voice, output_rate=16000)


def hear(recognizer, samples: np.ndarray) -> str:
    recognizer.reset()
    audio = np.concatenate([np.zeros(4000, np.float32), samples, np.zeros(16000, np.float32)])
    events = [e for chunk in frames_of(audio, 16000, 80) for e in recognizer.process(chunk)]
    events += recognizer.flush()
    return " ".join(e.text for e in events if isinstance(e, FinalTranscript))


def test_replies_survive_tts_then_asr(synthesizer, recognizer):
    pairs = []
    for reply in REPLIES:
        speech = synthesizer.speak(reply)
        chunks = list(speech)
        assert all(c.sample_rate == 16000 for c in chunks)
        pairs.append((normalize(reply), hear(recognizer, np.concatenate([c.samples for c in chunks]))))
    error = wer(pairs)
    assert error <= 0.10, f"WER {error:.3f}:\n" + "\n".join(f"  {r!r} -> {h!r}" for r, h in pairs)
