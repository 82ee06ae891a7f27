"""Keeping the device's resident memory flat: allocator settings, returning freed memory, measuring it.

`python -m edge run` over the scenario's first session ended at 547-552 MB (peak = end). Loading
everything is ~377 MB of that; the rest was memory a reply no longer needed, held in three layers
no model wrapper can see, so they are handled here (numbers: `python -m bench e2e`, 2 cores):

- onnxruntime's CPU arena (BFC) keeps the largest buffers any clause or segment ever needed, in
  power-of-two steps, plus a memory pattern planned per input length: ~+100 MB for Piper's whole
  graph whatever the clause length, ~+55 MB for Whisper. `sherpa_provider_string` hands sherpa-onnx
  a provider config file (``"cpu:<file>"``, read by its session.cc): Whisper keeps the arena but
  drops the patterns (~+40 MB instead of +55; without the arena each decode took ~1.6x the CPU and
  end of speech -> first audio p50 went up by ~110 ms). The voice runs on onnxruntime directly
  (edge.tts.vocoder): its decoder works in fixed-size chunks, so its arena is bounded, and both its
  arenas are shrunk after each sentence/clause; without the arena every big tensor was a fresh
  mmap (below), which made the voice ~2x slower than piper-tts. The fixed-shape sessions (VAD, wake
  word, NLU) keep onnxruntime's defaults: their arena stops growing after one run.
- Without an arena tensors come from malloc, and glibc's sliding mmap threshold (raised to the
  largest block freed, up to 32 MB) then puts multi-megabyte tensors on the heap, where they
  fragment it (peak 532-556 MB vs 478). `tune_allocator` fixes the threshold before the models
  load, so big tensors are mapped and unmapped; 512 KiB-2 MiB measured the same or worse.
- What is left free on the heap goes back with `release_freed_memory` (malloc_trim) after each
  reply, on the TTS worker while the audio plays: ~7 MB lower between turns over 18 turns, ~1 ms.

Elsewhere, for the same goal: the voice ships with weight-only int8 Conv weights when the export
measures it lean and indistinguishable (export/tts_routes.py: ~37 MB less), the NLU model and the
sentence encoder share one copy of their frozen word embeddings (edge/nlu/bundle.py: ~11 MB), the
voice loads first so its load transient sets no peak (edge/device.py), and sherpa's VAD buffer is
sized from the segment limit (edge/asr).

Issue 21 (<= 300 MB ready, at the end and at the peak), measured part by part in fresh processes
(`python -m bench e2e` prints the steps; 2026-12-05): an English device no longer imports what it
never runs: the Mandarin voice's module and pypinyin (+55 MB, edge.tts imports it on first use),
cryptography (+9 MB, loaded with the first signing key or payload), sqlite-utils with click (+8 MB,
only when a catalog needs a migration). The voice's decoder runs 32-frame chunks ([tts]
decoder_chunk_frames; a reply's peak +13 MB over the loaded voice instead of +29 at the bundle's 96,
same audio). The heap the models' load freed goes back once when the device is ready (~6 MB per
onnxruntime session built). Measured and not taken: arena off, memory patterns off,
use_device_allocator_for_initializers and an env-shared arena for the fixed-shape sessions (NLU,
sentence encoder, wake front end: within 1-2 MB, arena off costs ~20 % CPU on the wake front end);
prepacking off (-3 MB for the NLU, 1.7x its CPU); ORT-format models (more resident, not less);
kSameAsRequested for the voice's shared arena (peak +38 MB vs +25: fragmentation).

Whisper's arena, measured per setting in a fresh process (`python -m bench.asr_memory --pads 300`:
eight commands, one 26 s dictation, eight commands; RSS MB loaded -> after the commands -> end, CPU ms
per command; load 12 on 2 cores): arena + 1000 padding frames 266 -> 301 -> 368, 113-128 ms; no arena
+ 1000: 266 -> 270 -> 272, 256-262 ms; arena + 500 (the default since the guard cuts restarts, see
[asr] tail_padding_frames): 265 -> 290 -> 339, 94-98 ms (1000 in the same run: 265 -> 300 -> 367,
131-134 ms); no arena + 500: 265 -> 268 -> 269, 180-186 ms; arena + 300: 266 -> 284 -> 333, 83-89 ms.
The arena keeps what the largest decode needed (encoder attention grows with the square of the
segment's frames), so shorter padding bounds it for commands, and only long dictation grows it
further. A bounded arena (arena_extend_strategy kSameAsRequested, an initial chunk) or a setting per
session (encoder vs decoder) cannot be asked of sherpa-onnx 2.0.1: its provider config file knows
GraphOptimizationLevel, LogSeverityLevel, ProfilingFilePrefix, EnableMemPattern and EnableCpuMemArena
only, and one provider string serves both Whisper sessions.

That is what `[asr] runtime = "onnxruntime"` (edge.asr.whisper_ort) answers: the same files on
onnxruntime directly, one SessionMemory per graph (asr_encoder_arena). Same bench, one run, load 3.6
(RSS MB loaded -> after commands -> after the 26 s dictation, peak; CPU ms per command; CPU ms for the
dictation): sherpa arena 272 -> 296 -> 378, peak 385, 140 ms, 2011 ms; sherpa no arena 273 -> 274 ->
277, peak 339, 204-224 ms, 3970 ms; onnxruntime, both arenas kept 273 -> 297 -> 384, 128-133 ms, 1506 ms;
encoder arena shrunk after each decode 274 -> 296 -> 362; **encoder without arena, decoder with** 274 ->
287 -> 307, peak 354, 124-129 ms, 1486 ms; neither 274 -> 281 -> 284, 158-161 ms, 2818 ms. Shrinking
frees little because the decoder's arena also grows on a long segment (with sherpa's stacked decoder each
step re-lays the cross keys/values out, ~2 MB a layer at 28 s; the bundle's per-layer decoder does not), and the encoder without an arena costs little: its tensors
are few and large (mmap'd either way), where the decoder makes hundreds of small ones per token.

A malloc arena cap (M_ARENA_MAX) and glibc's transparent huge pages (glibc.malloc.hugetlb)
measured no difference and are not used. Everything here is a no-op off glibc (macOS, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import resource
import sys
from functools import cache
from pathlib import Path
from typing import Any

from edge.config import MemorySettings

log = logging.getLogger(__name__)

NO_ARENA_CONFIG = Path(__file__).with_name("sherpa_no_arena.conf")
"""sherpa-onnx provider config: EnableCpuMemArena=0, EnableMemPattern=0 (shipped as package data)."""
NO_PATTERN_CONFIG = Path(__file__).with_name("sherpa_no_pattern.conf")
"""sherpa-onnx provider config: EnableMemPattern=0 (the arena stays)."""

_M_MMAP_THRESHOLD = -3  # mallopt parameter (glibc malloc.h)


@cache
def _glibc() -> Any:
    """The C library when it is glibc (mallopt and malloc_trim exist), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    except (OSError, AttributeError):  # musl has no malloc_trim
        return None
    return libc


def tune_allocator(settings: MemorySettings) -> bool:
    """Fix glibc's mmap threshold at settings.mmap_threshold_kb; False when not on glibc (or 0: left alone).

    Call it before the models load: it only steers allocations made after it. Fixing it also stops
    glibc's sliding adjustment of the trim threshold, which stays at its 128 KiB default.
    """
    libc = _glibc()
    if libc is None or settings.mmap_threshold_kb == 0:
        return False
    if libc.mallopt(_M_MMAP_THRESHOLD, settings.mmap_threshold_kb * 1024) != 1:
        log.warning("glibc refused mmap_threshold_kb = %d", settings.mmap_threshold_kb)
        return False
    return True


def release_freed_memory() -> bool:
    """Hand the heaps' free pages back to the kernel (glibc malloc_trim); True if any were released.

    ctypes drops the GIL for the call, so other threads run while it walks the heaps.
    """
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def sherpa_provider_string(provider: str, arena: bool) -> str:
    """The `provider=` for a sherpa-onnx session whose input length varies (Piper, Whisper).

    sherpa-onnx reads the named config file (``"cpu:<file>"``): NO_ARENA_CONFIG when `arena` is
    off, NO_PATTERN_CONFIG (the arena without per-length memory patterns) when it is on. sherpa
    exits the process when it cannot open the file it is given, so a missing file only warns and
    leaves onnxruntime's defaults; a provider string that already names a file is kept as is.
    """
    config = NO_PATTERN_CONFIG if arena else NO_ARENA_CONFIG
    if ":" in provider:
        return provider
    if not config.is_file():
        log.warning("%s is missing (reinstall voiceshop-edge); onnxruntime's memory defaults stay", config)
        return provider
    return f"{provider}:{config}"


def whisper_ort_memory(settings: MemorySettings) -> tuple[Any, Any]:
    """(encoder, decoder) edge.asr.whisper_ort.SessionMemory for [asr] runtime "onnxruntime".

    asr_arena off: no arena for either graph. On: the decoder keeps one (its tensors are a step's cache
    and logits; without it a long dictation's decode took 2.5x the CPU), the encoder's follows
    asr_encoder_arena; no memory patterns (every segment length differs).
    """
    from edge.asr.whisper_ort import SessionMemory

    if not settings.asr_arena:
        return SessionMemory(arena=False), SessionMemory(arena=False)
    encoder = SessionMemory(arena=settings.asr_encoder_arena != "off", shrink=settings.asr_encoder_arena == "shrink")
    return encoder, SessionMemory(arena=True)


def memory_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak (MB), from /proc (Linux) or getrusage.

    On Linux also its two parts: anonymous (this process's own heap, arenas and model weights: what
    only this process can free) and file-backed (pages of the shared libraries and files it mapped,
    which the kernel can drop and read again). A device maker sizing RAM needs the first; the
    second is shared with any other process using the same libraries, and it is not stable: importing
    numpy, onnxruntime and sherpa_onnx added 77 MB at the start of one session and 53 MB 90 minutes
    later on the same machine, same files. Compare anonymous figures across runs.
    """
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)

        def mb(key: str) -> float:
            return round(int(fields[key].split()[0]) / 1024, 1)

        found = {"rss_mb": mb("VmRSS"), "peak_rss_mb": mb("VmHWM")}
        for key, name in (("RssAnon", "anon_mb"), ("RssFile", "file_mb")):
            if key in fields:
                found[name] = mb(key)
        return found
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"peak_rss_mb": round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)}


def resident_files(limit: int = 10) -> list[tuple[str, float]]:
    """The mapped files holding the most of this process's file-backed RSS: (path, MB), largest first.

    Read from /proc/self/smaps (Linux; empty elsewhere): shared libraries (onnxruntime, the one
    sherpa-onnx bundles, numpy's OpenBLAS, ...) and any file mapped for reading (SQLite's mmap of
    the catalog). It says where `file_mb` goes; anonymous memory has no name to give.
    """
    sizes: dict[str, int] = {}
    path = ""
    try:
        with open("/proc/self/smaps") as smaps:
            for line in smaps:
                head = line.split(maxsplit=6)
                if not head:
                    continue
                if not head[0].endswith(":"):  # a mapping's header: address perms offset dev inode [path]
                    path = head[5].strip() if len(head) > 5 and head[5].startswith("/") else ""
                elif head[0] == "Rss:" and path:
                    sizes[path] = sizes.get(path, 0) + int(head[1])
    except OSError:
        return []
    ranked = sorted(sizes.items(), key=lambda item: -item[1])[:limit]
    return [(name, round(kb / 1024, 1)) for name, kb in ranked]


__all__ = ["NO_ARENA_CONFIG", "NO_PATTERN_CONFIG", "memory_mb", "release_freed_memory", "resident_files",
           "sherpa_provider_string", "tune_allocator", "whisper_ort_memory"]
