"""ARM64 proof: the device runtime runs as a real aarch64 program and agrees with x86_64.

Under qemu-aarch64 user-mode emulation with QEMU_CPU=cortex-a72 (a Raspberry Pi 4 class core),
Debian's arm64 Python and the aarch64 wheels of onnxruntime, sherpa-onnx, numpy and tokenizers
from PyPI, the probe transcribes a synthesized command, runs NLU on the transcript and synthesizes
a reply with the real bundles. Same transcript and intent as native; TTS audio close.
Under CI an environment that cannot be built fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os

import pytest

from bench.arm64_runner import Arm64EnvError, audio_distance, build_env, command_wav, run_probe

pytestmark = [pytest.mark.slow, pytest.mark.arm64]


@pytest.fixture(scope="module")
def arm64_env():
    try:
        return build_env()
    except Arm64EnvError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def test_runtime_on_emulated_cortex_a72_matches_native(arm64_env, bundle, tmp_path_factory):
    for name in ("vad", "asr", "nlu", "tts"):
        bundle(name)
    work = tmp_path_factory.mktemp("arm64")
    wav = command_wav(work)
    native = run_probe(wav, work, None)
    emulated = run_probe(wav, work, arm64_env, cpu="cortex-a72")

    assert native.result["machine"] == "x86_64"
    assert emulated.result["machine"] == "aarch64"
    assert "apples" in native.result["transcript"].lower()
    assert emulated.result["transcript"] == native.result["transcript"]
    assert emulated.result["intent"] == native.result["intent"]
    assert emulated.result["slots"] == native.result["slots"]
    # TTS: same voice, noise scales 0; kernels differ in rounding across ISAs, so close, not equal.
    assert abs(emulated.audio.size - native.audio.size) <= 0.01 * native.audio.size
    distance = audio_distance(native.audio, emulated.audio, native.result["tts_rate"])
    assert distance < 0.5, f"log-mel distance {distance:.3f} between native and aarch64 synthesis"
