"""The Piper voice on onnxruntime: phoneme ids -> latent graph, then the HiFi-GAN decoder in chunks.

`python -m export tts` splits Piper's VITS graph where the flow hands the latent z ([1, 192,
frames], 256 samples a frame) to the HiFi-GAN decoder, cuts the decoder once more before each
upsampling step, and measures how many frames of context each stage needs for a chunk to come
out as the whole graph would (the manifest's `vocoder` entry; export/tts_split.py). Run that way,
a clause costs what it costs in the whole graph (the contexts are ~1 % of the compute), but:

- the decoder's working memory is bounded by the chunk, not the clause (the whole graph grew
  ~17 MB per second of clause audio), so onnxruntime's arena can stay on: without it every
  multi-megabyte tensor was a fresh mmap that the kernel faulted in and zeroed, which made the
  voice ~2x slower than piper-tts on the same file (bench speech);
- the first chunk plays as soon as it is decoded, and a barge-in stops between chunks.

This runs on onnxruntime directly, not sherpa-onnx: sherpa's OfflineTts runs the whole VITS graph
in one call (no latent, no partial audio; its callback fires once per sentence) and takes its
arena setting for the whole session, so neither bound is reachable through it. onnxruntime is
already the device's runtime for the NLU and the wake word.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

_SHRINK = "memory.enable_memory_arena_shrinkage"
_arena_lock = threading.Lock()
_arena_registered = False


@dataclass(frozen=True)
class ChunkPlan:
    """How the decoder walks a clause's latent (from the bundle's manifest, where export verified it).

    The decoder may come as several stages, one per upsampling step (Piper's HiFi-GAN: z -> 8x ->
    64x -> 256x). Each stage has its own receptive field, so each gets its own context: most of
    HiFi-GAN's reach (~10 frames) is in the cheap first stage, while the stages at 64x and 256x,
    where ~80 % of the compute is, need 1-2 frames; one overlap for the whole decoder would
    recompute ~20 % of that compute per 96-frame chunk.
    """

    first_frames: int
    """Latent frames of the first chunk: small, so the clause starts playing early."""
    frames: int
    """Latent frames of every later chunk: bounds the decoder's working memory."""
    overlaps: tuple[int, ...]
    """Per stage: frames of context its input needs on each side (its receptive field)."""
    rates: tuple[int, ...]
    """Per stage: samples of its output per latent frame; the last is the hop (256)."""

    def __post_init__(self) -> None:
        if (min(self.first_frames, self.frames) < 1 or not self.rates or len(self.overlaps) != len(self.rates)
                or min(self.overlaps) < 0 or min(self.rates) < 1):
            raise ValueError(f"invalid chunk plan {self}")

    @property
    def hop(self) -> int:
        return self.rates[-1]


@dataclass(frozen=True)
class Window:
    """One chunk: latent frames [keep_from, keep_to) are kept; inputs[i] is the frame range stage i reads."""

    keep_from: int
    keep_to: int
    inputs: tuple[tuple[int, int], ...]


def windows(total: int, plan: ChunkPlan) -> Iterator[Window]:
    """The chunks covering `total` latent frames; kept parts tile [0, total) exactly once.

    Each stage's input range is the next stage's widened by this stage's overlap (clipped to the
    clause: at its ends the graph's own zero padding is what the whole graph sees too), so the
    range a stage produces exactly is the range the next one reads.
    """
    begin, size = 0, plan.first_frames
    while begin < total:
        stop = min(total, begin + size)
        ranges, low, high = [], begin, stop
        for overlap in reversed(plan.overlaps):
            low, high = max(0, low - overlap), min(total, high + overlap)
            ranges.append((low, high))
        yield Window(begin, stop, tuple(reversed(ranges)))
        begin, size = stop, plan.frames


def _share_arena() -> None:
    """Register one CPU arena in onnxruntime's environment (once per process) for the voice's sessions.

    With an arena per session, the latent graph and each decoder stage kept their own largest
    buffers side by side while a clause was spoken (+61 MB over the loaded voice for a 52-word
    clause); one shared arena reuses the same blocks from graph to graph (+29 MB, same CPU). Only
    sessions that ask for it (session.use_env_allocators) use it: the NLU and wake word keep theirs.
    """
    global _arena_registered
    with _arena_lock:
        if not _arena_registered:
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))  # onnxruntime's defaults
            _arena_registered = True


def session_options(threads: int, arena: bool) -> ort.SessionOptions:
    """Options for every graph of the voice; memory patterns off because every clause and chunk length differs."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = arena
    if arena:
        _share_arena()
        options.add_session_config_entry("session.use_env_allocators", "1")
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    return options


def run_options(shrink: bool) -> ort.RunOptions:
    """shrink: hand the arena's unused regions back when the run ends (the next run faults them in again)."""
    options = ort.RunOptions()
    if shrink:
        options.add_run_config_entry(_SHRINK, "cpu:0")
    return options


class Vocoder:
    """Phoneme ids -> latent (one run per sentence) -> audio chunks (one decoder run per window).

    With the arena on, the decoder's arena is bounded by the plan; the latent graph's grows with
    the longest sentence (text-encoder attention is quadratic in phonemes), which the device's
    clause cap bounds. Both are kept for the reply (shrinking after every run cost ~5 % CPU: the
    pages are faulted in again) and handed back by `release()` when the reply is done.
    """

    def __init__(self, latent: str, decoder: Sequence[str], plan: ChunkPlan, threads: int = 1, arena: bool = True,
                 providers: Sequence[str] = ("CPUExecutionProvider",)) -> None:
        """decoder: the decoder's stage graphs in order (one per entry of plan.rates)."""
        if len(decoder) != len(plan.rates):
            raise ValueError(f"{len(decoder)} decoder stages for a plan of {len(plan.rates)}")
        options = session_options(threads, arena)
        self.plan = plan
        self._latent = ort.InferenceSession(latent, sess_options=options, providers=list(providers))
        self._stages = [ort.InferenceSession(path, sess_options=options, providers=list(providers)) for path in decoder]
        self._latent_inputs = [i.name for i in self._latent.get_inputs()]
        if self._latent_inputs != ["input", "input_lengths", "scales"]:
            raise ValueError(f"{latent}: inputs {self._latent_inputs}, expected Piper's input/input_lengths/scales")
        self._stage_inputs = [stage.get_inputs()[0].name for stage in self._stages]
        self._run, self._shrink, self._arena = run_options(False), run_options(arena), arena

    def latent(self, ids: Sequence[int], noise_scale: float, length_scale: float, noise_w: float) -> np.ndarray:
        """One sentence's phoneme ids -> z, [1, 192, frames] float32."""
        feeds = {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
                 "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32)}
        return self._latent.run(None, feeds, self._run)[0]

    def decode(self, z: np.ndarray,
               should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[np.ndarray, bool]]:
        """z -> (float32 audio chunk, is it the last), in order; stops when should_stop() says so."""
        parts = list(windows(int(z.shape[2]), self.plan))
        for index, w in enumerate(parts):
            if should_stop is not None and should_stop():
                return
            x, x_from, rate = z, 0, 1  # x holds frames [x_from, ...) at `rate` samples a frame
            for stage, name, (low, high), out_rate in zip(self._stages, self._stage_inputs, w.inputs,
                                                          self.plan.rates, strict=True):
                feed = np.ascontiguousarray(x[:, :, (low - x_from) * rate:(high - x_from) * rate])
                x, x_from, rate = stage.run(None, {name: feed}, self._run)[0], low, out_rate
            audio = x.reshape(-1)[(w.keep_from - x_from) * rate:(w.keep_to - x_from) * rate]
            yield audio.astype(np.float32, copy=False), index == len(parts) - 1

    def release(self, ids: Sequence[int]) -> None:
        """Hand the arenas' free memory back (after a reply). onnxruntime shrinks an arena only at the
        end of a run, so each graph runs once more on `ids` (a few phonemes: a few ms) with the shrink option."""
        if not self._arena:
            return
        z = self._latent.run(None, {"input": np.array([ids], dtype=np.int64),
                                    "input_lengths": np.array([len(ids)], dtype=np.int64),
                                    "scales": np.array([0.0, 1.0, 0.0], dtype=np.float32)}, self._shrink)[0]
        if z.shape[2] == 0:
            return
        x, rate = z[:, :, :1], 1
        for stage, name, out_rate in zip(self._stages, self._stage_inputs, self.plan.rates, strict=True):
            x, rate = stage.run(None, {name: np.ascontiguousarray(x[:, :, :rate])}, self._shrink)[0], out_rate


__all__ = ["ChunkPlan", "Vocoder", "Window", "windows"]
