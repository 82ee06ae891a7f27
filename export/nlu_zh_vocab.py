"""Trim multilingual-e5-small's 250,002-piece vocabulary to what the Mandarin device needs.

Most of the model is its embedding table (250,037 x 384 floats, 384 MB in FP32; 96 MB even as
INT8). The device reads Chinese, digits and short Latin names (brands such as "OPPO", "U盘"), so
we keep: the four specials; every piece made only of CJK characters, CJK punctuation and
fullwidth forms (with or without the word-start mark); every piece of at most three ASCII letters
or digits (so any Latin word still splits into kept pieces instead of <unk>); and every piece the
training data, the held-out sets, the hand-written set and the product vocabulary use, under
both the NLU tokenizer and the encoder tokenizer.

Removing pieces that the best segmentation of a text never uses cannot change that segmentation
(the Viterbi argmax only loses losing paths), so on the covered texts the trimmed tokenizer gives
the full one's pieces with renumbered ids; `check_remap` proves it on the data, and the count of
mismatches goes into the manifest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tokenizers import Tokenizer

_CJK = r"\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff" \
       r"\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_KEEP_SHAPE = re.compile(rf"▁?(?:[{_CJK}]+|[A-Za-z0-9]{{1,3}}|[!-/:-@\[-`{{-~]{{1,2}})|▁")


def keep_ids(pieces: Sequence[str], tokenizers: Iterable[Tokenizer], texts: Sequence[str]) -> list[int]:
    """Piece ids to keep, ascending (so the specials stay 0-3 and the order is the original's)."""
    keep = set(range(4))
    keep.update(i for i, piece in enumerate(pieces) if _KEEP_SHAPE.fullmatch(piece))
    for tokenizer in tokenizers:
        for encoding in tokenizer.encode_batch(list(texts)):
            keep.update(encoding.ids)
    return sorted(keep)


def check_remap(full: Tokenizer, trimmed: Tokenizer, keep: Sequence[int], texts: Sequence[str]) -> int:
    """Texts whose trimmed ids are not the full ids renumbered (should be 0)."""
    new_id = {old: new for new, old in enumerate(keep)}
    bad = 0
    for a, b in zip(full.encode_batch(list(texts)), trimmed.encode_batch(list(texts)), strict=True):
        if [new_id.get(i, -1) for i in a.ids] != b.ids or a.offsets != b.offsets:
            bad += 1
    return bad
