"""Word error rate for the model toolchain: the definition lives in `edge.text.wer`.

The simulator on the device side scores transcripts with the same normalizer and edit distance,
and device code may not import export/, so the code sits there and the toolchain's callers
(`from export.wer import wer, normalize`) keep their import.
"""

from __future__ import annotations

from edge.text.wer import edit_distance, normalize, number_words, wer, word_error_rate

__all__ = ["edit_distance", "normalize", "number_words", "wer", "word_error_rate"]
