"""The Piper voice as two onnxruntime graphs: phoneme ids -> latent, then the HiFi-GAN decoder in chunks.

`python -m export tts` splits Piper's VITS graph where the flow hands the latent z ([1, 192,
frames], 256 samples a frame) to the HiFi-GAN decoder, and measures how many frames of context
each decoder chunk needs to come out as the whole graph would (the manifest's `vocoder` entry).
Run that way, a clause costs what it costs in the whole graph (plus the overlap), but:

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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

_SHRINK = "memory.enable_memory_arena_shrinkage"


@dataclass(frozen=True)
class ChunkPlan:
    """How the decoder walks a clause's latent (from the bundle's manifest, where export verified it)."""

    first_frames: int
    """Latent frames of the first chunk: small, so the clause starts playing early."""
    frames: int
    """Latent frames of every later chunk: bounds the decoder's working memory."""
    overlap: int
    """Frames of context decoded on each side of a chunk and dropped: HiFi-GAN's receptive field."""
    hop: int = 256
    """Samples per latent frame (the decoder's upsampling factor)."""

    def __post_init__(self) -> None:
        if min(self.first_frames, self.frames, self.hop) < 1 or self.overlap < 0:
            raise ValueError(f"invalid chunk plan {self}")


@dataclass(frozen=True)
class Window:
    """One decoder call: frames [start, end) go in, frames [keep_from, keep_to) are kept."""

    start: int
    end: int
    keep_from: int
    keep_to: int


def windows(total: int, plan: ChunkPlan) -> Iterator[Window]:
    """The decoder calls covering `total` latent frames; kept parts tile [0, total) exactly once."""
    begin, size = 0, plan.first_frames
    while begin < total:
        stop = min(total, begin + size)
        yield Window(max(0, begin - plan.overlap), min(total, stop + plan.overlap), begin, stop)
        begin, size = stop, plan.frames


def session_options(threads: int, arena: bool) -> ort.SessionOptions:
    """Options for both graphs; memory patterns off because every clause and chunk length differs."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = arena
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

    The latent graph's memory grows with the sentence (text-encoder attention is quadratic in
    phonemes), so its arena is shrunk after every run; the decoder's arena is bounded by the plan
    and kept across a clause's chunks, then shrunk after the clause's last chunk, so nothing of a
    reply stays resident between replies.
    """

    def __init__(self, latent: str, decoder: str, plan: ChunkPlan, threads: int = 1, arena: bool = True,
                 providers: Sequence[str] = ("CPUExecutionProvider",)) -> None:
        options = session_options(threads, arena)
        self.plan = plan
        self._latent = ort.InferenceSession(latent, sess_options=options, providers=list(providers))
        self._decoder = ort.InferenceSession(decoder, sess_options=options, providers=list(providers))
        self._latent_inputs = [i.name for i in self._latent.get_inputs()]
        if self._latent_inputs != ["input", "input_lengths", "scales"]:
            raise ValueError(f"{latent}: inputs {self._latent_inputs}, expected Piper's input/input_lengths/scales")
        self._z_name = self._decoder.get_inputs()[0].name
        self._shrink, self._keep = run_options(arena), run_options(False)

    def latent(self, ids: Sequence[int], noise_scale: float, length_scale: float, noise_w: float) -> np.ndarray:
        """One sentence's phoneme ids -> z, [1, 192, frames] float32."""
        feeds = {"input": np.array([ids], dtype=np.int64), "input_lengths": np.array([len(ids)], dtype=np.int64),
                 "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32)}
        return self._latent.run(None, feeds, self._shrink)[0]

    def decode(self, z: np.ndarray,
               should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[np.ndarray, bool]]:
        """z -> (float32 audio chunk, is it the last), in order; stops (without shrinking) when should_stop() says so."""
        total = int(z.shape[2])
        hop = self.plan.hop
        parts = list(windows(total, self.plan))
        for index, w in enumerate(parts):
            if should_stop is not None and should_stop():
                return
            last = index == len(parts) - 1
            feed = {self._z_name: np.ascontiguousarray(z[:, :, w.start:w.end])}
            audio = self._decoder.run(None, feed, self._shrink if last else self._keep)[0].reshape(-1)
            yield audio[(w.keep_from - w.start) * hop:(w.keep_to - w.start) * hop].astype(np.float32, copy=False), last


__all__ = ["ChunkPlan", "Vocoder", "Window", "windows"]
