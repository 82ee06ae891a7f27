"""Whisper on onnxruntime directly: the asr bundle's own files, a session and memory setting per graph.

`[asr] runtime = "onnxruntime"` runs the same encoder/decoder/tokens files sherpa-onnx's
OfflineRecognizer runs, the same way (edge.asr.whisper_features reproduces its features; greedy
search, its start tokens, its token limit, its tail padding), behind the few calls the device makes
of sherpa's recognizer (`create_stream`, `stream.accept_waveform`, `decode_stream`,
`stream.result.text`), so edge.asr.stream, files, the wake second look and Wyoming take either.

Why not sherpa-onnx here (the VAD stays sherpa's): Whisper's onnxruntime arena was what kept the
device above its memory goal, and sherpa-onnx 2.0.1 sets one arena switch for both Whisper graphs
and cannot bound it (its provider config reads only EnableCpuMemArena and EnableMemPattern). The
encoder is what grows it (its attention is quadratic in a segment's frames), while the decoder makes
hundreds of small tensors per token and needs its arena. Here each graph has its own
`SessionMemory`: the encoder without an arena, the decoder with one (`python -m bench.asr_memory`,
one run, load 3.6: a Whisper process after eight commands and a 26 s dictation holds 307 MB vs
sherpa's 378, at 124-129 ms CPU per command vs sherpa's 140, and 1.5 s vs 2.0 s for the dictation:
onnxruntime 1.32 here against the 1.28 inside sherpa-onnx, and IOBinding keeps the cross keys/values
and the self-attention cache in onnxruntime's memory between steps instead of copying them out).

Where a decoder step goes (ORT profiling, 1 thread; ~3 ms for a 2 s segment, ~6.4 ms at 29 s, with
sherpa's decoder): the vocabulary projection (a 20 MB INT8 matrix read for every token, ~0.9 ms),
then the graph's re-layout of the cross-attention keys and values at every step (Split per layer,
Transpose, the scale Mul: ~1.3 ms more per 10 s of segment, since sherpa's decoder takes them
stacked and unscaled), then ~400 small nodes. So the bundle ships a second decoder for this runtime
(export/whisper_onnx.py, "per_layer" cross inputs): `encode` lays the keys and values out once per
segment (`_laid_out`) and binds each layer's as a view, and no step copies them again. That decoder
decodes one sequence only, so its reshapes are constants instead of shape arithmetic at every token
(333 -> 269 nodes after onnxruntime's optimizer, ~7 % less time per token, the same tokens). A bundle
without it (an older build, or sherpa's own files) runs on the stacked decoder as before.

Beyond sherpa's decoding, two small calls a later feature needs: a `prompt` (previous text, after
<|startofprev|>) and a `prefix` (forced first tokens of the transcript), and `score`, the sum of
log-probabilities of a forced token sequence (a wake word's second look, catalog biasing). The
decoder graph bakes in Whisper's suppression (non-speech tokens always, a blank or end-of-text as
the first token at position len(sot sequence)): with a prompt that position is inside the prompt,
so `greedy` suppresses both at the first predicted token itself (Whisper's SuppressBlank), and
`score` of a prompted sequence is not kept from a blank start. A stream's `prompt` (edge.asr.prompt)
reaches decode_stream, the call the device's recognizer makes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edge.asr import guard
from edge.asr.bpe import ranks
from edge.asr.timestamps import TOKENS_PER_SECOND, Picker, TimestampRules, resumed
from edge.asr.whisper_features import N_MELS, mel_energies, normalize
from edge.asr.whisper_stream import RATE, Result, WhisperStream, read_tokens

log = logging.getLogger("edge.asr")

MAX_FRAMES = 3000
"""Whisper's window (30 s of 10 ms frames); sherpa keeps at most MAX_FRAMES - 50 real frames."""
_SHRINK = "memory.enable_memory_arena_shrinkage"
WIDE_FEED = 8
"""Feeds longer than this (the start tokens and a prefix are shorter; a prompt is longer) run with arena shrinkage."""
_DECODER_OUTPUTS = ("logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache")


@dataclass(frozen=True)
class SessionMemory:
    """onnxruntime memory options for one Whisper graph."""

    arena: bool = True
    """onnxruntime's CPU arena (BFC): without it every tensor is a malloc/mmap, ~1.9x the CPU per command."""
    shrink: bool = False
    """Hand the arena's wholly free regions back after every run: bounded like no arena, while a run
    still reuses its blocks. Only with arena."""
    pattern: bool = False
    """Memory patterns (a plan kept per input shape): segments vary in length, so off by default."""


def _session(path: Path, threads: int, memory: SessionMemory, providers: Sequence[str],
             optimization: ort.GraphOptimizationLevel) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = memory.arena
    options.enable_mem_pattern = memory.pattern
    options.graph_optimization_level = optimization
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=list(providers))


def _run_options(memory: SessionMemory) -> ort.RunOptions:
    options = ort.RunOptions()
    if memory.arena and memory.shrink:
        options.add_run_config_entry(_SHRINK, "cpu:0")
    return options


def _logsumexp(row: np.ndarray) -> float:
    top = float(row.max())
    return top + float(np.log(np.exp(row - top).sum()))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class WhisperOrt:
    """Greedy Whisper over the bundle's encoder and decoder graphs (sherpa-onnx's Whisper layout)."""

    def __init__(self, encoder: Path, decoder: Path, tokens: Path, *, language: str = "en", threads: int = 1,
                 tail_padding_frames: int = 1000, short_padding_frames: int = 0, beam_size: int = 1,
                 encoder_memory: SessionMemory = SessionMemory(),
                 decoder_memory: SessionMemory = SessionMemory(), providers: Sequence[str] = ("CPUExecutionProvider",),
                 optimization: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL) -> None:
        self.encoder = _session(encoder, threads, encoder_memory, providers, optimization)
        self.decoder = _session(decoder, threads, decoder_memory, providers, optimization)
        self._encoder_run, self._decoder_run = _run_options(encoder_memory), _run_options(decoder_memory)
        self._wide_run = _run_options(SessionMemory(decoder_memory.arena, shrink=True))
        """A first step wider than WIDE_FEED tokens (a prompt) hands its arena regions back when it ends:
        its logits and their projection are rows x 51,864 floats each, which the decoder's arena would
        otherwise keep for the device's life (bench e2e: +20 MB at the end and peak with a prompt)."""
        meta = self.encoder.get_modelmeta().custom_metadata_map
        try:
            self.n_mels = int(meta.get("n_mels", N_MELS))
            self.n_text_ctx = int(meta["n_text_ctx"])
            self.eot, self.sot_prev = int(meta["eot"]), int(meta["sot_prev"])
            self.no_timestamps = int(meta["no_timestamps"])
            sot_sequence = [int(t) for t in meta["sot_sequence"].split(",")]
            if int(meta.get("is_multilingual", 0)):
                codes = meta["all_language_codes"].split(",")
                ids = [int(t) for t in meta["all_language_tokens"].split(",")]
                if language not in codes:
                    raise ValueError(f"{encoder}: no language {language!r} (it has {', '.join(codes[:12])} ...)")
                sot_sequence[1] = ids[codes.index(language)]
                sot_sequence[2] = int(meta["transcribe"])
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"{encoder}: not a sherpa-onnx Whisper encoder ({exc})") from None
        self.start = [*sot_sequence, self.no_timestamps]
        """What every decode starts with: the sot sequence, then <|notimestamps|> (sherpa's initial tokens)."""
        self.tail_padding_frames = tail_padding_frames
        self.short_padding_frames = short_padding_frames
        """Padding by need: when above 0, decode_stream tries this shorter padding first and decodes again with
        tail_padding_frames only if Whisper did not end cleanly (the token limit instead of end-of-text, or a
        repetition or restart edge.asr.guard would cut: what too little padding causes)."""
        self.beam_size = beam_size
        """Hypotheses decode_stream keeps (edge.asr.beam; 1: greedy, sherpa's search). Other calls stay greedy."""
        self.tokens = read_tokens(tokens)
        self._blank = [i for i, raw in self.tokens.items() if raw == b" "][:1]
        """Whisper's "blank" (a lone space), kept from starting a transcript as its SuppressBlank does."""
        self._decoder_inputs = [i.name for i in self.decoder.get_inputs()]
        self._cross_names = self._decoder_inputs[3:-1]
        self._per_layer = self._cross_names[0] == "cross_k_0"
        self._n_head, self._n_layer, self._n_state = (int(meta.get(key, 0)) for key in
                                                      ("n_text_head", "n_text_layer", "n_text_state"))
        if self._per_layer and not (self._n_head and self._n_layer and self._n_state):
            raise ValueError(f"{encoder}: no n_text_head/layer/state in the metadata, which a per-layer decoder needs")
        cache = self.decoder.get_inputs()[1].shape
        self._grow = not isinstance(cache[2], int)
        self._cache_shape = (int(cache[0]), 1, self.n_text_ctx if not self._grow else 0, int(cache[3]))

    # -- sherpa's OfflineRecognizer interface -------------------------------------------------------

    def create_stream(self) -> WhisperStream:
        return WhisperStream()

    def decode_stream(self, stream: WhisperStream) -> None:
        samples, prompt = stream.samples, tuple(getattr(stream, "prompt", ()))
        bias = getattr(stream, "bias", None)
        if getattr(stream, "timed", False):  # a packed window: full padding, no padding by need
            ids = self.timed(samples, prompt, getattr(stream, "spans", ()))
            stream.result = Result(self.text(ids), ids)
            return
        pool: list[tuple[list[int], float]] = []
        if 0 < self.short_padding_frames < self.tail_padding_frames:
            ids, ended, logprob = self._greedy(samples, prompt, (), self.short_padding_frames, bias=bias,
                                               beam=self.beam_size, alternatives=pool)
            text = self.text(ids)
            if ended and guard.cut_restart(guard.cut_repetition(text)) == text.strip():
                stream.result = Result(text, ids, logprob, self._texts(pool))
                return
        pool.clear()
        ids, _, logprob = self._greedy(samples, prompt, (), None, bias=bias, beam=self.beam_size, alternatives=pool)
        stream.result = Result(self.text(ids), ids, logprob, self._texts(pool))

    def _texts(self, pool: Sequence[tuple[list[int], float]]) -> tuple[tuple[str, float], ...]:
        return tuple((self.text(tokens), score) for tokens, score in pool)

    # -- the recognizer ------------------------------------------------------------------------------

    def features(self, samples: np.ndarray, tail_padding_frames: int | None = None) -> tuple[np.ndarray, int]:
        """(1, n_mels, frames) encoder input and the real frame count, padded the way sherpa pads."""
        energies = mel_energies(samples, self.n_mels)
        frames = len(energies)
        if frames >= MAX_FRAMES - 50:  # sherpa keeps the first frames, then normalizes them alone
            log.warning("Whisper takes at most %.1f s: the rest of a %.1f s segment is dropped",
                        (MAX_FRAMES - 50) / 100, frames / 100)
            frames = MAX_FRAMES - 50
        feats = normalize(energies[:frames])
        pad = self.tail_padding_frames if tail_padding_frames is None else tail_padding_frames
        total = min(frames + pad, MAX_FRAMES)
        mel = np.zeros((1, self.n_mels, total), np.float32)
        mel[0, :, :frames] = feats.T
        return mel, frames

    def encode(self, samples: np.ndarray, tail_padding_frames: int | None = None) -> tuple[list[ort.OrtValue], int]:
        """Cross-attention keys and values (left in onnxruntime's memory, or laid out per layer for a per-layer
        decoder) and the real frame count."""
        mel, frames = self.features(samples, tail_padding_frames)
        binding = self.encoder.io_binding()
        binding.bind_cpu_input("mel", mel)
        if not self._per_layer:
            for output in ("n_layer_cross_k", "n_layer_cross_v"):
                binding.bind_output(output)
            self.encoder.run_with_iobinding(binding, self._encoder_run)
            return binding.get_outputs(), frames
        # written straight into numpy (no copy out of onnxruntime), then laid out once for every token's step
        shape = (self._n_layer, 1, (mel.shape[2] + 1) // 2, self._n_state)  # conv2: stride 2, padding 1
        stacked = [np.empty(shape, np.float32) for _ in range(2)]
        for output, array in zip(("n_layer_cross_k", "n_layer_cross_v"), stacked, strict=True):
            binding.bind_output(output, "cpu", 0, np.float32, list(shape), array.ctypes.data)
        self.encoder.run_with_iobinding(binding, self._encoder_run)
        return self._laid_out(stacked), frames

    def _laid_out(self, stacked: list[np.ndarray]) -> list[ort.OrtValue]:
        """Stacked (L, N, T, state) keys and values -> the per-layer decoder's inputs: keys (N, head, d, T) scaled
        by d^-0.25 and values (N, head, T, d). Each stacked array is dropped once laid out, so a 28 s segment
        holds at most three of the four 9 MB arrays at once."""
        n_layer, n_audio, frames, state = stacked[0].shape
        d = state // self._n_head
        split = (n_layer, n_audio, frames, self._n_head, d)
        keys = np.ascontiguousarray(stacked.pop(0).reshape(split).transpose(0, 1, 3, 4, 2))
        keys *= np.float32(d ** -0.25)
        values = np.ascontiguousarray(stacked.pop(0).reshape(split).transpose(0, 1, 3, 2, 4))
        return [ort.OrtValue.ortvalue_from_numpy(layer) for layer in (*keys, *values)]

    def _step(self, binding: ort.IOBinding, tokens: Sequence[int], cache: Sequence[ort.OrtValue],
              offset: int, run: ort.RunOptions | None = None) -> tuple[np.ndarray, list[ort.OrtValue]]:
        binding.bind_cpu_input("tokens", np.array([tokens], np.int64))
        binding.bind_ortvalue_input(self._decoder_inputs[1], cache[0])
        binding.bind_ortvalue_input(self._decoder_inputs[2], cache[1])
        binding.bind_cpu_input("offset", np.array([offset], np.int64))
        binding.clear_binding_outputs()  # a run leaves its outputs bound, at their shapes: let the next allocate
        for output in _DECODER_OUTPUTS:
            binding.bind_output(output)
        self.decoder.run_with_iobinding(binding, run or self._decoder_run)
        logits, k, v = binding.get_outputs()
        return logits.numpy()[0], [k, v]

    def _begin(self, cross: Sequence[ort.OrtValue]) -> tuple[ort.IOBinding, list[ort.OrtValue]]:
        binding = self.decoder.io_binding()
        for name, value in zip(self._cross_names, cross, strict=True):
            binding.bind_ortvalue_input(name, value)
        empty = np.zeros(self._cache_shape, np.float32)
        return binding, [ort.OrtValue.ortvalue_from_numpy(empty), ort.OrtValue.ortvalue_from_numpy(empty.copy())]

    def initial(self, prompt: Sequence[int] = (), prefix: Sequence[int] = ()) -> list[int]:
        """The tokens fed before the first predicted one: [<|startofprev|>, *prompt] if any, the start, the prefix."""
        return ([self.sot_prev, *prompt] if prompt else []) + self.start + list(prefix)

    def transcribe_ids(self, samples: np.ndarray, prompt: Sequence[int] = (), prefix: Sequence[int] = (),
                       tail_padding_frames: int | None = None) -> list[int]:
        """Greedy text tokens (prefix included, end-of-text excluded), sherpa's loop and token limit."""
        return self._greedy(samples, prompt, prefix, tail_padding_frames)[0]

    def timed(self, samples: np.ndarray, prompt: Sequence[int] = (),
              spans: Sequence[tuple[float, float]] = ()) -> list[int]:
        """Text tokens of a packed window in timestamp mode, decoded again where Whisper stopped early
        (edge.asr.timestamps.resumed; spans: the VAD's utterances, (start, stop) seconds into the window)."""
        samples = np.asarray(samples, np.float32).reshape(-1)

        def decode_from(at: float) -> tuple[list[int], bool, list[int]]:
            raw: list[int] = []
            part, ended, _ = self._greedy(samples[int(at * RATE):], prompt, (), None, timed=True, raw=raw)
            return part, ended, raw

        return resumed(decode_from, spans, self.no_timestamps + 1, len(samples) / RATE)

    def _greedy(self, samples: np.ndarray, prompt: Sequence[int], prefix: Sequence[int],
                tail_padding_frames: int | None, timed: bool = False,
                raw: list[int] | None = None, bias: Any = None, beam: int = 1,
                alternatives: list[tuple[list[int], float]] | None = None) -> tuple[list[int], bool, float]:
        """(tokens, whether Whisper ended them with end-of-text rather than the token limit, log-probability per
        token); beam > 1: by edge.asr.beam's search instead of greedy (not for a timed decode), its hypotheses
        into `alternatives` if given."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        if len(samples) < 80:  # no feature frame: sherpa has nothing to decode either
            return list(prefix), True, float("-inf")
        cross, frames = self.encode(samples, tail_padding_frames)
        if beam > 1 and not timed:
            from edge.asr.beam import beam_search

            return beam_search(self, cross, frames, tuple(prompt), tuple(prefix), bias, beam, alternatives=alternatives)
        return self.greedy(cross, frames, prompt, prefix, timed, raw, bias)

    def greedy(self, cross: Sequence[ort.OrtValue], frames: int, prompt: Sequence[int] = (),
               prefix: Sequence[int] = (), timed: bool = False,
               raw: list[int] | None = None, bias: Any = None) -> tuple[list[int], bool, float]:
        """Greedy tokens of an encoded window (encode's output; callers that also score it encode once),
        whether Whisper ended them with end-of-text rather than the token limit, and their log-probability per
        token (end-of-text included, the bias's bonuses too: the beam's ranking score, so two recognizers'
        transcripts compare, edge.asr.pair; nan for a timed decode). timed: in Whisper's timestamp
        mode (edge.asr.timestamps; no prefix), the timestamps left out of the tokens returned; `raw`, if
        given, receives the tokens as decoded, timestamps included; `bias` (edge.asr.biasing.PhraseBias, not
        with timed) adds its bonuses to every step's logits before the pick."""
        # sherpa: "assume at most 6 tokens per second", at most half the text context
        limit = min(int(frames / 100.0 * (TOKENS_PER_SECOND if timed else 6)), self.n_text_ctx // 2)
        if timed and (prefix or bias is not None):
            raise ValueError("a timed decode takes no prefix and no bias")
        pick = Picker(TimestampRules(self.no_timestamps + 1, self.eot) if timed else None)
        feed = self.initial(prompt, prefix)[:-1] if timed else self.initial(prompt, prefix)
        binding, cache, first = self.opening(cross, feed, bool(prompt) and not prefix)
        offset = len(feed)
        out = list(prefix)
        total, scored = 0.0, 0

        def choose(row: np.ndarray) -> int:
            nonlocal total, scored
            adjusted = bias.adjust(row, out) if bias is not None else row
            chosen = pick(adjusted, out)
            if not timed:  # a packed window's score is read by no one: no normalizer over the vocabulary each step
                total += float(adjusted[chosen]) - _logsumexp(row)
                scored += 1
            return chosen

        token = choose(first)
        for i in range(limit):
            if token == self.eot:
                break
            out.append(token)
            if i == limit - 1 or offset >= self.n_text_ctx - 2:
                break  # sherpa runs one more step here and discards it
            logits, cache = self._step(binding, [token], cache, offset)
            offset += 1
            token = choose(logits[-1])
        if raw is not None:
            raw += out
        return pick.strip(out), limit == 0 or token == self.eot, total / scored if scored else float("nan")

    def opening(self, cross: Sequence[ort.OrtValue], feed: Sequence[int],
                prompted: bool) -> tuple[ort.IOBinding, list[ort.OrtValue], np.ndarray]:
        """One decoder step over the tokens before the first predicted one (greedy's and edge.asr.beam's start): the
        binding, the self-attention cache after them, and the first prediction's logits. prompted: a prompt and no
        prefix, where the graph's blank/end-of-text suppression fell inside the prompt: done here instead."""
        binding, cache = self._begin(cross)
        logits, cache = self._step(binding, feed, cache, 0, self._wide_run if len(feed) > WIDE_FEED else None)
        first = logits[-1]
        if prompted:
            first = first.copy()
            first[[self.eot, *self._blank]] = -np.inf
        return binding, cache, first

    def score(self, samples: np.ndarray, tokens: Sequence[int], prompt: Sequence[int] = (), prefix: Sequence[int] = (),
              end: bool = True, tail_padding_frames: int | None = None) -> float:
        """Sum of log-probabilities of `tokens` (then end-of-text, if `end`) following the start: one decoder run."""
        if not tokens and not end:
            return 0.0
        cross, _ = self.encode(np.asarray(samples, np.float32).reshape(-1), tail_padding_frames)
        feed = self.initial(prompt, prefix)
        targets = [*tokens, self.eot] if end else list(tokens)
        if len(feed) + len(targets) > self.n_text_ctx:
            raise ValueError(f"{len(feed) + len(targets)} tokens: Whisper's text context is {self.n_text_ctx}")
        return float(self._forced(cross, feed + list(tokens), targets, len(feed) - 1, np.float64).sum())

    def _forced(self, cross: Sequence[ort.OrtValue], inputs: Sequence[int], targets: Sequence[int], first: int,
                dtype: type = np.float32) -> np.ndarray:
        """log P(targets[i] | inputs up to position first + i, audio), from one teacher-forced decoder pass."""
        binding, cache = self._begin(cross)
        logits, _ = self._step(binding, list(inputs), cache, 0)
        logp = _log_softmax(logits[first:first + len(targets)].astype(dtype))
        return logp[np.arange(len(targets)), np.asarray(targets)]

    def text(self, ids: Sequence[int]) -> str:
        """Token ids -> text (bytes joined first: a character may span tokens); ids outside the table are skipped."""
        raw = b"".join(self.tokens.get(i, b"") for i in ids)
        return raw.decode("utf-8", errors="replace")

    @functools.cached_property
    def token_ids(self) -> dict[bytes, int]:
        """Text token bytes -> id (edge.asr.bpe.ranks), built once for encode_text and the prompt's BPE."""
        return ranks(self.tokens, self.eot)

    def encode_text(self, text: str) -> list[int]:
        """Greedy longest-match tokens of text (for prompts and forced sequences; not BPE's own merges).

        Whisper's BPE would split some words differently, so scores of these sequences are slightly
        lower than of the model's own tokenization: compare scores made the same way."""
        if not hasattr(self, "_longest"):
            self._longest = max(len(raw) for raw in self.token_ids)
        raw, out, at = text.encode("utf-8"), [], 0
        while at < len(raw):
            for size in range(min(self._longest, len(raw) - at), 0, -1):
                token = self.token_ids.get(raw[at:at + size])
                if token is not None:
                    out.append(token)
                    at += size
                    break
            else:
                raise ValueError(f"byte {raw[at]} of {text!r} has no token")
        return out

    def continuation_logprobs(self, cross: Sequence[ort.OrtValue], sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """For each whole token sequence (start tokens included): log P(token j+1 | tokens up to j, audio).

        Teacher forcing, one decoder pass per sequence. Not batched on purpose: the INT8 decoder
        quantizes its activations with one scale per tensor, so a sequence's scores would depend on
        what else shared its batch (up to 0.24 nats per token, measured); alone, they do not."""
        out: list[np.ndarray] = []
        for sequence in sequences:
            if not 1 < len(sequence) <= self.n_text_ctx:
                raise ValueError(f"{len(sequence)} tokens: a forced sequence has 2 to {self.n_text_ctx}")
            out.append(self._forced(cross, sequence, sequence[1:], 0))
        return out
