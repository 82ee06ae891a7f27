"""What a *multilingual* Whisper needs beyond the English-only exporter: dimensions read from the
CT2 tensors, language tokens in sherpa's metadata, and the longer start sequence.

export/whisper_onnx.py writes English-only models and refuses a multilingual vocabulary. Its
source files are hashed into the tiny.en bundle's key, so instead of widening it (which would
rebuild tiny.en for nothing) the multilingual differences live here:

- sherpa (`offline-whisper-model.cc` InitEncoder) reads `all_language_tokens` and
  `all_language_codes` (comma-separated, same length) when `is_multilingual` is 1, and its greedy
  decoder overwrites `sot_sequence[1]` with the language token (the `language` it is given, or the
  one it detects) and `sot_sequence[2]` with the task token, then appends `<|notimestamps|>`. So the
  metadata's sot_sequence is [sot, <|en|>, <|transcribe|>] and the first text token is chosen at
  position 3, not 1: the decoder graph's "no blank/end-of-text first" rule must fire there.
- openai-whisper's greedy suppression is the same set of ids as for tiny.en, taken from the
  multilingual vocabulary (language tokens are not suppressed: sherpa's language detection reads
  their logits at offset 0).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import whisper
import whisper.model as wm
import whisper.tokenizer

from export import whisper_onnx
from export.asr_parity import MAX_TOKENS, whisper_mel
from export.ct2 import Ct2Model

TASKS = ("transcribe", "translate")


def dims_from_ct2(ct2: Ct2Model) -> wm.ModelDimensions:
    """Whisper's dimensions from the tensor shapes (the CT2 config.json does not record them)."""
    def layers(prefix: str) -> int:
        # "encoder/layer_3/..." counts; "encoder/layer_norm/..." (the final norm) does not
        return len({name.split("/")[1] for name in ct2.variables
                    if re.fullmatch(r"layer_\d+", name.split("/")[1]) and name.startswith(f"{prefix}/")})

    def heads(prefix: str) -> int:
        return int(ct2.get(f"{prefix}/num_heads"))

    conv1 = ct2.get("encoder/conv1/weight")  # (n_audio_state, n_mels, 3)
    embedding = ct2.get("decoder/embeddings/weight")  # (n_vocab, n_text_state)
    return wm.ModelDimensions(
        n_mels=int(conv1.shape[1]), n_audio_ctx=int(ct2.get("encoder/position_encodings/encodings").shape[0]),
        n_audio_state=int(conv1.shape[0]), n_audio_head=heads("encoder"), n_audio_layer=layers("encoder"),
        n_vocab=int(embedding.shape[0]), n_text_ctx=int(ct2.get("decoder/position_encodings/encodings").shape[0]),
        n_text_state=int(embedding.shape[1]), n_text_head=heads("decoder"), n_text_layer=layers("decoder"),
    )


def language_tables(vocabulary: list[str]) -> tuple[list[int], list[str]]:
    """(token ids, codes) of every language the vocabulary has, in openai-whisper's LANGUAGES order."""
    index = {token: i for i, token in enumerate(vocabulary)}
    pairs = [(index[f"<|{code}|>"], code) for code in whisper.tokenizer.LANGUAGES if f"<|{code}|>" in index]
    if not pairs:
        raise ValueError("vocabulary has no language tokens: not a multilingual Whisper")
    return [token for token, _ in pairs], [code for _, code in pairs]


def sot_sequence(vocabulary: list[str], language: str = "en", task: str = "transcribe") -> list[int]:
    """[sot, language, task]: what openai-whisper's tokenizer starts with (sherpa rewrites 1 and 2)."""
    ids = whisper_onnx.special_ids(vocabulary)
    tokens, codes = language_tables(vocabulary)
    if language not in codes:
        raise ValueError(f"language {language!r} not in this model ({len(codes)} languages)")
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}")
    return [ids["sot"], tokens[codes.index(language)], ids[task]]


def encoder_metadata(dims: wm.ModelDimensions, vocabulary: list[str], non_speech: list[int],
                     model_type: str) -> dict[str, Any]:
    """The encoder's metadata_props sherpa reads, for a multilingual model."""
    ids = whisper_onnx.special_ids(vocabulary)
    tokens, codes = language_tables(vocabulary)
    return {
        "model_type": model_type, "version": "1", "maintainer": "voiceshop-edge export/asr_base.py",
        "n_mels": dims.n_mels, "n_audio_ctx": dims.n_audio_ctx, "n_audio_state": dims.n_audio_state,
        "n_audio_head": dims.n_audio_head, "n_audio_layer": dims.n_audio_layer, "n_vocab": dims.n_vocab,
        "n_text_ctx": dims.n_text_ctx, "n_text_state": dims.n_text_state, "n_text_head": dims.n_text_head,
        "n_text_layer": dims.n_text_layer,
        "sot_sequence": ",".join(map(str, sot_sequence(vocabulary))),
        "all_language_tokens": ",".join(map(str, tokens)), "all_language_codes": ",".join(codes),
        "sot": ids["sot"], "sot_index": 0, "eot": ids["eot"], "blank_id": ids["blank_id"],
        "is_multilingual": 1, "no_speech": ids["no_speech"],
        "non_speech_tokens": ",".join(map(str, non_speech)),
        "transcribe": ids["transcribe"], "translate": ids["translate"], "sot_prev": ids["sot_prev"],
        "sot_lm": ids["sot_lm"], "no_timestamps": ids["no_timestamps"],
    }


def suppress_rules(vocabulary: list[str], non_speech: list[int]) -> whisper_onnx.SuppressRules:
    """openai-whisper's greedy suppression; the first text token follows sot, language, task, notimestamps."""
    rules = whisper_onnx.suppress_rules(vocabulary, non_speech)
    return dataclasses.replace(rules, first_text_position=len(sot_sequence(vocabulary)))


class OnnxGreedyMultilingual:
    """Our encoder/decoder files driven as sherpa drives a multilingual model (language given),
    on openai-whisper's log-mel: the gated FP32/INT8 figures."""

    def __init__(self, encoder: Path, decoder: Path, meta: dict[str, int], prefix: list[int],
                 threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.encoder = ort.InferenceSession(str(encoder), options, providers=["CPUExecutionProvider"])
        self.decoder = ort.InferenceSession(str(decoder), options, providers=["CPUExecutionProvider"])
        self.meta = meta
        self.prefix = [*prefix, meta["no_timestamps"]]
        self.tokenizer = whisper.tokenizer.get_tokenizer(multilingual=True)

    def token_ids(self, mel: np.ndarray) -> list[int]:
        cross_k, cross_v = self.encoder.run(None, {"mel": mel[None].astype(np.float32)})
        shape = (self.meta["n_text_layer"], 1, self.meta["n_text_ctx"], self.meta["n_text_state"])
        self_k, self_v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        feed, offset, out = list(self.prefix), 0, []
        for _ in range(MAX_TOKENS):
            logits, self_k, self_v = self.decoder.run(None, {
                "tokens": np.array([feed], np.int64), "in_n_layer_self_k_cache": self_k,
                "in_n_layer_self_v_cache": self_v, "n_layer_cross_k": cross_k, "n_layer_cross_v": cross_v,
                "offset": np.array([offset], np.int64)})
            offset += len(feed)
            token = int(logits[0, -1].argmax())
            if token == self.meta["eot"]:
                break
            out.append(token)
            feed = [token]
        return out

    def __call__(self, audio: np.ndarray) -> str:
        ids = [t for t in self.token_ids(whisper_mel(audio)) if t < self.meta["eot"]]
        return self.tokenizer.decode(ids).strip()
