"""What counts as a yes to "Shall I place the order?": a closed list of affirmative phrases.

An order is an irreversible act with money, so the model's guess is not enough on its own: the
joint NLU was measured reading "maybe", "hold on", "perhaps", "mmm", "x" and a 10,000-letter line
as `confirm` at ~0.7 (issue 15). At a read-back only an answer that is *made entirely of* phrases
from the list below (with politeness and a leading "um" allowed) counts as the words of a yes;
the dialogue also needs the model to read it as `confirm` with high confidence. Both, never one.

By construction a negation, a question ("yes?"), a hedge ("yes maybe"), an extra request ("yes but
remove the milk"), a partial word ("ye-") or noise is not a yes: any word outside the list, or a
question mark anywhere, makes the whole answer "not a yes". A new language adds its own entry to
AFFIRMATIVES (and its politeness words) rather than loosening these.

Mandarin ("zh") has no spaces between words, so its answer is cut into listed phrases with
`words_zh.cover`: "好的，下单吧" is 好的 + 下单吧; "好的吗", "不对", "算了", "等一下", "再想想", "对吧"
leave a character outside the lists (吗, 不, 算, 等, 再) and are not a yes; 吧 comes only inside
listed phrases (下单吧, 好吧), so the tag questions 对吧 and 是吧 are not a yes either. A bare 嗯 is a hesitation there, as "um" is here; "嗯对" is a yes.
"""

from __future__ import annotations

import re
import unicodedata

from edge.dialog.words_zh import cover, squeeze

AFFIRMATIVES: dict[str, frozenset[str]] = {
    "en": frozenset({
        "yes", "yeah", "yep", "yup", "yea", "ya", "sure", "ok", "okay", "alright", "all right",
        "correct", "that's correct", "that is correct", "that's right", "that is right", "right",
        "absolutely", "definitely", "certainly", "of course", "affirmative", "indeed",
        "uh huh", "mm hmm", "mhm", "yes indeed", "you bet", "sure thing",
        "confirm", "i confirm", "confirmed", "go ahead", "go for it", "do it", "please do",
        "let's do it", "let's go", "sounds good", "that sounds good", "looks good", "perfect",
        "that works", "all good", "i'm sure", "i am sure",
        "place the order", "place my order", "place it", "place order", "order it", "buy it",
        "send it", "send the order", "submit it", "submit the order", "complete the order",
        "that's all correct",
    }),
    "zh": frozenset({
        "是", "是的", "是啊", "是呀", "对", "对的", "对啊", "对呀", "对对", "对对对", "没错", "对没错", "是的没错",
        "好", "好的", "好啊", "好呀", "好吧", "好嘞", "好好", "行", "行啊", "行吧", "可以", "可以的", "可以啊",
        "确认", "确定", "我确认", "我确定", "确认下单", "确定下单", "确认购买", "确认订单", "下单", "下单吧",
        "就下单吧", "那就下单吧", "可以下单", "请下单", "帮我下单", "提交订单", "提交吧", "买吧", "买", "就买吧",
        "就这样", "就这样吧", "没问题", "当然", "当然可以", "嗯对", "嗯是的", "嗯好的", "嗯可以", "嗯行",
        "ok", "okay", "yes",
    }),
}
"""Per language, the phrases whose words make an explicit yes (all lower case, straight apostrophes)."""

POLITE: dict[str, frozenset[str]] = {
    "en": frozenset({"please", "thanks", "thank you", "now", "just", "and", "then", "um", "uh", "oh", "well",
                     "so", "hey"}),
    "zh": frozenset({"请", "谢谢", "谢谢你", "谢啦", "麻烦你", "麻烦了", "那", "那就", "就", "嗯", "呃", "啊",
                     "呀", "哦", "噢", "了", "现在"}),
}
"""Words that may come with a yes without changing it ("um yes please", "yes thanks")."""

MAX_WORDS = 12
"""A yes is short; a long answer is a sentence with more in it than assent."""

_WORD = re.compile(r"[a-z']+")
_CUT_OFF = re.compile(r"-(?![a-z])")
"""A hyphen not followed by a letter: a word cut off mid-way ("yes-", "go a-"), as Whisper writes it."""
_LONGEST = 4  # words in the longest phrase above


def _words(text: str) -> list[str] | None:
    """Lower-case words, or None when the text holds anything a yes cannot (digits, a question mark)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    if "?" in text or any(ch.isdigit() for ch in text) or _CUT_OFF.search(text):
        return None
    text = text.replace("-", " ")  # "uh-huh", "mm-hmm"
    rest = _WORD.sub(" ", text)
    if rest.strip(" \t\n.,!;:\"()"):  # symbols, other scripts, stray characters: not plain words
        return None
    return _WORD.findall(text)


def explicit_yes(text: str, language: str = "en") -> bool:
    """True when text is only affirmative phrases (at least one) and politeness words.

    "yes", "Yes, place the order.", "um yeah go ahead please" are; "maybe", "yes?", "yes no",
    "yes but remove the milk", "ye", "k", "true", "whatever", "hold on" and "" are not.
    """
    phrases, polite = AFFIRMATIVES[language], POLITE[language]
    if language == "zh":
        return _explicit_yes_zh(text, phrases, polite)
    words = _words(text)
    if not words or len(words) > MAX_WORDS:
        return False
    i, assent = 0, False
    while i < len(words):
        for n in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + n])
            if phrase in phrases:
                assent = True
                break
            if phrase in polite:
                break
        else:
            return False
        i += n
    return assent


MAX_CHARS_ZH = 16
"""A Chinese yes is a few characters; a long answer says more than assent."""


def _explicit_yes_zh(text: str, phrases: frozenset[str], polite: frozenset[str]) -> bool:
    """The Mandarin rule: the whole answer cut into listed phrases, at least one of them a yes.

    A question mark, a digit (ASCII, full-width or a Chinese numeral outside a listed phrase) or any
    character outside the lists makes it "not a yes"; so does a cut-off word ("确-").
    """
    squeezed = squeeze(text)
    if not squeezed or len(squeezed) > MAX_CHARS_ZH or any(ch in squeezed for ch in "?？-"):
        return False
    pieces = cover(squeezed, phrases | polite)
    return bool(pieces) and any(piece in phrases for piece in pieces)
