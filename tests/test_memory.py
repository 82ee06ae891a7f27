"""edge/memory: the allocator settings do what they claim, sherpa-onnx reads our session config, speech is unchanged.

The RSS figures themselves are measured by `python -m bench e2e`, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from edge import memory
from edge.config import ConfigError, MemorySettings, Settings, load_settings
from edge.tts import Synthesizer, Voice, load_bundle

glibc = pytest.mark.skipif(memory._glibc() is None, reason="glibc malloc only")

# A fresh interpreter per case: malloc's thresholds are process state that an earlier test would have moved.
_ALLOCATION_PROBE = textwrap.dedent("""
    import ctypes, sys
    from edge.config import MemorySettings
    from edge.memory import _glibc, tune_allocator

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]

    libc = _glibc()
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallinfo2.restype = MallInfo2
    if sys.argv[1] == "tuned":
        tune_allocator(MemorySettings(mmap_threshold_kb=256))
    libc.free(libc.malloc(8 << 20))    # an 8 MB tensor comes and goes (glibc now raises its threshold to 8 MB)
    mapped = libc.mallinfo2().hblks     # blocks that are mapped, so free() hands them back to the kernel
    block = libc.malloc(2 << 20)        # the next 2 MB tensor
    print(libc.mallinfo2().hblks - mapped)
""")


def _mapped_blocks(mode: str) -> int:
    result = subprocess.run([sys.executable, "-c", _ALLOCATION_PROBE, mode], capture_output=True, text=True,
                            timeout=60, check=True)
    return int(result.stdout.split()[-1])


@glibc
def test_fixed_mmap_threshold_keeps_big_tensors_off_the_heap():
    # glibc's sliding threshold puts the 2 MB block on the heap, where its pages can stay after free;
    # the tuned allocator maps it, so freeing it returns the pages at once.
    assert _mapped_blocks("default") == 0
    assert _mapped_blocks("tuned") == 1


@glibc
def test_a_threshold_of_zero_leaves_glibc_alone():
    assert memory.tune_allocator(MemorySettings(mmap_threshold_kb=256))
    assert not memory.tune_allocator(MemorySettings(mmap_threshold_kb=0))


def test_variable_length_sessions_get_a_session_config_file():
    assert memory.sherpa_provider_string("cpu", arena=False) == f"cpu:{memory.NO_ARENA_CONFIG}"
    assert memory.sherpa_provider_string("cpu", arena=True) == f"cpu:{memory.NO_PATTERN_CONFIG}"
    # a device maker's own provider config file wins
    assert memory.sherpa_provider_string("cuda:/etc/trt.conf", arena=False) == "cuda:/etc/trt.conf"


def test_a_missing_config_file_warns_and_keeps_the_defaults(monkeypatch, tmp_path, caplog):
    # sherpa-onnx exits the process on a config path it cannot open: never hand it one
    monkeypatch.setattr(memory, "NO_ARENA_CONFIG", tmp_path / "gone.conf")
    assert memory.sherpa_provider_string("cpu", arena=False) == "cpu"
    assert "defaults stay" in caplog.text


def test_memory_settings_are_validated(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[memory]\nmmap_threshold_kb = 4\n")
    with pytest.raises(ConfigError, match="memory.mmap_threshold_kb"):
        load_settings(path)
    assert load_settings(environ={"VOICESHOP_MEMORY__TTS_ARENA": "true"}).memory.tts_arena
    assert Settings().memory == load_settings(environ={}).memory


def test_memory_mb_reads_rss_and_peak():
    now = memory.memory_mb()
    assert 0 < now.get("rss_mb", 1.0) <= now["peak_rss_mb"]


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="Linux /proc only")
def test_memory_mb_splits_rss_into_anonymous_and_file_backed():
    # A fresh process: in this one, earlier tests' freed heap could serve the block without new pages.
    code = textwrap.dedent("""
        import json
        import numpy as np
        from edge.memory import memory_mb
        before = memory_mb()
        block = np.ones(64 * 1024 * 1024 // 8)  # 64 MB of private, touched pages
        print(json.dumps([before, memory_mb()]))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    before, after = json.loads(result.stdout)
    assert after["anon_mb"] - before["anon_mb"] > 50
    assert abs(after["anon_mb"] + after["file_mb"] - after["rss_mb"]) < 2  # RssShmem is ~0 here


@pytest.mark.slow
@pytest.mark.parametrize("shipped, keys", [("NO_ARENA_CONFIG", ["EnableCpuMemArena", "EnableMemPattern"]),
                                          ("NO_PATTERN_CONFIG", ["EnableMemPattern"])])
def test_sherpa_reads_every_key_of_the_shipped_configs(bundle, tmp_path, capfd, shipped, keys):
    # sherpa-onnx ignores keys it does not know without a word; DEBUG=1 makes it list what it read.
    text = getattr(memory, shipped).read_text()
    conf = tmp_path / "debug.conf"
    conf.write_text(text + "DEBUG=1\n")
    # The tts bundle's whole graph still carries sherpa's VITS metadata: a sherpa session to read the file.
    import sherpa_onnx

    tts = load_bundle(bundle("tts"))
    vits = sherpa_onnx.OfflineTtsVitsModelConfig(model=str(tts.model), tokens=str(tts.tokens), lexicon="", data_dir="")
    sherpa_onnx.OfflineTts(sherpa_onnx.OfflineTtsConfig(
        model=sherpa_onnx.OfflineTtsModelConfig(vits=vits, num_threads=1, provider=f"cpu:{conf}")))
    read = capfd.readouterr().err
    assert [line.split("=")[0] for line in text.splitlines() if line and not line.startswith("#")] == keys
    for key in keys:
        assert f"Provider config: {key}=0" in read


@pytest.mark.slow
def test_speech_is_the_same_without_the_arena(bundle):
    tts = load_bundle(bundle("tts"))
    lean = Voice(tts, threads=1, arena=False, noise_scale=0.0, noise_w=0.0)
    arena = Voice(tts, threads=1, arena=True, noise_scale=0.0, noise_w=0.0)
    text = "You may also like Green Valley Fuji apples, one pound bag, two twenty-nine."
    a, b = lean.synthesize(text), arena.synthesize(text)
    assert len(a) == len(b) and np.max(np.abs(a - b)) < 1e-4


@pytest.mark.slow
def test_a_reply_hands_freed_memory_back_only_when_asked(bundle):
    voice = Voice(load_bundle(bundle("tts")), threads=1, noise_scale=0.0, noise_w=0.0)
    asked = Synthesizer(voice, release_memory=True).speak("Added two bags. Anything else?")
    quiet = Synthesizer(voice).speak("Added two bags. Anything else?")
    assert np.array_equal(asked.samples(), quiet.samples())
    assert asked.wait(10) and quiet.wait(10)
    assert (asked.stats.release_seconds > 0) == (memory._glibc() is not None)
    assert quiet.stats.release_seconds == 0


@pytest.mark.skipif(not Path("/proc/self/smaps").is_file(), reason="Linux /proc only")
def test_resident_files_names_a_mapped_file_with_its_resident_size(tmp_path):
    data = tmp_path / "weights.bin"
    data.write_bytes(np.arange(4 * 1024 * 1024, dtype=np.float32).tobytes())  # 16 MB
    mapped = np.memmap(data, dtype=np.float32, mode="r")
    assert float(mapped.sum()) > 0  # every page read, so resident
    found = dict(memory.resident_files(1000))
    assert 15 <= found[str(data)] <= 17
    assert list(found.values()) == sorted(found.values(), reverse=True)


@pytest.mark.slow
def test_the_decoder_chunk_is_the_configured_one_and_the_audio_is_the_same(bundle):
    from edge.tts import voice_for_settings

    tts = load_bundle(bundle("tts"))
    settings = load_settings(environ={"VOICESHOP_MODELS__DIR": str(tts.dir.parent)})
    assert voice_for_settings(settings).vocoder.plan.frames == settings.tts.decoder_chunk_frames == 32
    whole = load_settings(environ={"VOICESHOP_MODELS__DIR": str(tts.dir.parent), "VOICESHOP_TTS__DECODER_CHUNK_FRAMES": "0"})
    assert voice_for_settings(whole).vocoder.plan.frames == tts.plan.frames  # the bundle's own plan
    text = "You may also like Green Valley Fuji apples, one pound bag, two twenty-nine."
    small = Voice(tts, threads=1, noise_scale=0.0, noise_w=0.0, chunk_frames=32).synthesize(text)
    shipped = Voice(tts, threads=1, noise_scale=0.0, noise_w=0.0).synthesize(text)
    assert len(small) == len(shipped) > 3 * 32 * tts.plan.hop  # several chunks of 32 frames
    assert np.max(np.abs(small - shipped)) < 1e-4
