"""GPT-2 byte-level BPE over a Whisper bundle's tokens.txt: the tokens Whisper itself would make of a text.

Whisper's English vocabulary is tiktoken's "gpt2" file, where a token's id is its merge rank, so
the merges need no separate file: a word's bytes are merged pairwise, the pair whose joined bytes
have the lowest id first, until no adjacent pair is a token (tiktoken's algorithm). Words are cut
first by GPT-2's pre-tokenizer pattern (contractions, " word", " 123", " punctuation", spaces),
written here with the standard `re` module: letters are `[^\\W\\d_]`, which is what GPT-2's `\\p{L}`
matches for the text a prompt holds (tests compare with openai-whisper's own tokenizer).

Why not WhisperOrt.encode_text (greedy longest match): a prompt is context the decoder reads, and
a split it never saw in training ("russet" as "rus"+"set" where Whisper writes "r"+"uss"+"et") is
weaker context; forced scores (the wake word's second look) keep encode_text, their thresholds were
set with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|_+|\s+(?!\S)|\s+""")
"""GPT-2's pattern with `\\p{L}` as `[^\\W\\d_]` and `\\p{N}` as `\\d`; `_` (a word character to `re`,
punctuation to GPT-2) has its own branch."""


def ranks(tokens: Mapping[int, bytes], first_special: int) -> dict[bytes, int]:
    """Token bytes -> id for the text tokens (ids below first_special), the lowest id where bytes repeat:
    BPE's merge ranks, and the table WhisperOrt.encode_text matches against (one table for both)."""
    return {raw: i for i, raw in sorted(tokens.items(), reverse=True) if i < first_special}


class ByteBpe:
    """Text -> token ids by rank-ordered byte-pair merges (ids below `first_special` are ranks)."""

    def __init__(self, tokens: Mapping[int, bytes], first_special: int, rank: dict[bytes, int] | None = None) -> None:
        """rank: `ranks(tokens, first_special)` when the caller already holds it (a recognizer's table)."""
        self.rank = ranks(tokens, first_special) if rank is None else rank
        missing = [b for b in range(256) if bytes([b]) not in self.rank]
        if missing:
            raise ValueError(f"not a byte-level vocabulary: {len(missing)} single bytes have no token")
        self._cache: dict[str, tuple[int, ...]] = {}

    def _word(self, word: str) -> tuple[int, ...]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        parts = [bytes([b]) for b in word.encode("utf-8")]
        while len(parts) > 1:
            best, at = None, -1
            for i in range(len(parts) - 1):
                rank = self.rank.get(parts[i] + parts[i + 1])
                if rank is not None and (best is None or rank < best):
                    best, at = rank, i
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        ids = tuple(self.rank[p] for p in parts)
        if len(self._cache) < 4096:
            self._cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """The token ids of text (no special tokens)."""
        return [i for piece in _PRETOKEN.findall(text) for i in self._word(piece)]
