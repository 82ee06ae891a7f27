"""Recognition in noise: the noise builders do what they say, and on noisy and reverberant commands
the device's recognizer makes no more errors than faster-whisper on the same Whisper weights."""

from __future__ import annotations

import numpy as np
import pytest

from bench.asr_anchor import device_beam, faster_whisper_anchor
from edge.asr import recognizer_for_settings
from edge.config import load_settings
from edge.events import AudioChunk, FinalTranscript
from export.speech_corpus import ESPEAK_VOICES, PIPER_VOICES, SENTENCES, clip, read_wav_16k
from export.speech_noise import NOISY, REVERBERANT, Condition, active_rms, apply, long_form, noisy_clips
from export.wer import wer
from tests.conftest import MODELS_DIR

FRAME = 1280
WER_MARGIN = 0.03
"""How much worse than the anchor a set may be before the test fails: INT8 kernels round differently
on AVX2 and AVX-512 VNNI CPUs, flipping a word or two of ~300 (the goal itself is <= the anchor)."""
KNOWN_GAP = 0.06
"""In pink noise and babble the device is behind the anchor (issue 18, docs/measured/goals_missed.md, "the
recognizer in noise": INT8 is the gap on held-out noisy voices). Since the Piper clips are seeded
(export/speech_corpus.py) this set is the same everywhere, and it measured 0.327 vs 0.288 (AVX-512 VNNI,
2026-12-06, greedy on both sides): the goal is reported as an expected failure there, and a device further
behind than this bound fails outright. With the device's beam of 4 on both sides (2026-12-07, Zen 4): 0.308 vs
0.301, inside WER_MARGIN."""


def test_snr_room_and_determinism():
    speech = read_wav_16k(clip(SENTENCES[0], PIPER_VOICES[0]).path)
    for condition in (Condition("pink", 10.0), Condition("babble", 5.0)):
        noisy = apply(speech, condition, "k")
        noise = noisy - speech * (noisy[:len(speech)] @ speech / (speech @ speech))  # undo any peak scaling
        snr = 20 * np.log10(active_rms(noisy - noise) / np.sqrt(np.mean(noise ** 2)))
        assert snr == pytest.approx(condition.snr_db, abs=1.5)
        assert np.array_equal(noisy, apply(speech, condition, "k"))  # same key, same noise
        assert not np.array_equal(noisy, apply(speech, condition, "other"))
    room = apply(speech, Condition(rt60=0.6), "k")
    assert len(room) > len(speech)  # the room rings on after the last word
    tail = room[len(speech):]
    assert np.sqrt(np.mean(tail ** 2)) > 0.01 * active_rms(room)
    audio, text = long_form(20.0, 1)
    assert 20.0 <= len(audio) / 16000 <= 30.0 and len(text.split()) >= 20


@pytest.fixture(scope="module")
def systems(bundle):
    bundle("vad")
    bundle("asr")
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(MODELS_DIR)})
    recognizer = recognizer_for_settings(settings, partials=False, speculative=False, threads=1)

    def device(audio: np.ndarray) -> str:
        recognizer.reset()
        events = []
        for start in range(0, len(audio), FRAME):
            events += recognizer.process(AudioChunk(audio[start:start + FRAME], 16000, start / 16000))
        events += recognizer.flush()
        return " ".join(e.text for e in events if isinstance(e, FinalTranscript))

    return device, faster_whisper_anchor(1, device_beam(settings))  # the same search: greedy, or as wide a beam


@pytest.mark.parametrize("conditions", [NOISY, REVERBERANT], ids=["noisy", "reverberant"])
def test_device_hears_at_least_as_well_as_faster_whisper(systems, conditions):
    # voices and sentences the tail padding was not tuned on (bench.asr_stages --split tune)
    voices = (PIPER_VOICES[1], ESPEAK_VOICES[1])
    utterances = [clip(text, voice) for voice in voices for text in SENTENCES[15:27]]
    clips, _ = noisy_clips([read_wav_16k(u.path) for u in utterances], conditions, [u.path.stem for u in utterances])
    device, anchor = systems
    ours = [device(c) for c in clips]
    theirs = [anchor(c) for c in clips]
    refs = [u.text for u in utterances]
    ours_wer, anchor_wer = wer(zip(refs, ours, strict=True)), wer(zip(refs, theirs, strict=True))
    detail = (ours_wer, anchor_wer, list(zip(refs, ours, theirs, strict=True)))
    assert ours_wer <= anchor_wer + KNOWN_GAP, detail
    if conditions is NOISY and ours_wer > anchor_wer + WER_MARGIN:
        pytest.xfail(f"issue 18's goal missed in noise: WER {ours_wer:.3f} vs faster-whisper {anchor_wer:.3f}")
    assert ours_wer <= anchor_wer + WER_MARGIN, detail
