"""Keep Whisper from putting words in the shopper's mouth.

Whisper was trained on subtitles, so on silence, noise or music it tends to write what subtitles
say at such moments: "Thank you.", "Thanks for watching!", "[Music]", "♪". On a shopping device an
invented "yes" or "thank you" can confirm or cancel an order, so text must be earned:

1. No decode at all without speech: only segments Silero VAD called speech reach Whisper (the
   recognizer enforces that; silence and steady noise never get here).
2. Non-speech annotations are removed: bracketed or parenthesised tags and music symbols.
3. Runaway repetition ("the the the the ...", a phrase looping) is cut to one occurrence, and so
   is a phrase of 3+ words said again at once, whole or cut off mid-word at the end of the text
   ("Add a loaf of sourdough bread Add a loaf of sourd"): in noise Whisper may start the segment
   over instead of ending it, and sherpa's token cap (~6 tokens per second of input) stops the
   second copy wherever it is.
4. A known hallucination phrase is dropped when the evidence for speech is weak: little VAD speech
   time or a quiet segment. A real "thank you" said to the device is loud and long enough to pass.
5. More words than anyone can say in the time (over MAX_WORDS_PER_SECOND) means invention: dropped.

Mandarin (zh mode) is written without spaces, so every rule counts a Chinese character as one word:
repetition and restarts are cut on characters ("我想买苹果我想买苹" -> "我想买苹果"), the speaking
rate limit is MAX_CHARS_PER_SECOND, and Whisper's Chinese subtitle credits ("字幕由…提供", "请不吝
点赞订阅") are hallucinations too. Text without Chinese characters is handled exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from edge.asr.mandarin import CJK_CLASS
from edge.asr.pauses import level_dbfs

HALLUCINATIONS = frozenset({
    "thank you", "thank you very much", "thanks", "thanks for watching", "thank you for watching",
    "thanks for listening", "thank you for listening", "you", "bye", "bye bye", "goodbye", "so", "okay",
    "oh", "uh", "um", "hmm", "the end", "please subscribe", "subscribe", "like and subscribe",
    "see you next time", "i'm sorry", "silence", "music", "applause", "laughter", "yeah",
})
MIN_SPEECH_SECONDS = 0.6
"""Below this much VAD speech, a known hallucination phrase is not believed."""
MIN_SPEECH_DBFS = -45.0
"""Below this RMS level (dB re full scale) over the segment, a known hallucination phrase is not believed."""
MAX_WORDS_PER_SECOND = 6.0
"""Faster than any shopper speaks (conversational English is 2-3 words per second)."""
MAX_CHARS_PER_SECOND = 9.0
"""The same for Chinese characters (one syllable each; conversational Mandarin is 4-6 per second)."""

HALLUCINATIONS_ZH = frozenset({
    "谢谢", "谢谢观看", "谢谢收看", "感谢观看", "谢谢大家", "谢谢收听", "再见", "嗯", "啊", "哦", "好", "好的",
    "请订阅", "下集再见", "我们下期再见", "字幕", "音乐",
})
"""Mandarin phrases Whisper writes on silence or noise (believed only with strong speech evidence)."""
ALWAYS_INVENTED_ZH = ("字幕", "Amara", "amara", "订阅", "点赞", "打赏", "明镜", "栏目", "独播剧场")
"""Subtitle credits and channel plugs: no shopper says them to the device, so a segment holding one
is dropped whatever the evidence."""

_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|（[^）]*）|【[^】]*】|\*[^*]*\*|[♪♫♬♩]+")
_WORD = re.compile(rf"[{CJK_CLASS}]|[a-z0-9']+")
_TOKEN = re.compile(rf"[{CJK_CLASS}][，。？！：；、,.!?]*|[^\s{CJK_CLASS}]+")
_CJK_CHAR = re.compile(rf"[{CJK_CLASS}]")


def _words(text: str) -> list[str]:
    """Words to count: Latin words, and each Chinese character on its own."""
    return _WORD.findall(text.lower())


def _tokens(text: str) -> list[str]:
    """Whitespace words, with every Chinese character (and the marks after it) a token of its own."""
    return _TOKEN.findall(text)


def _join(tokens: list[str]) -> str:
    """The inverse of _tokens: a space only between two tokens that are not Chinese."""
    out = ""
    for token in tokens:
        if out and not (_CJK_CHAR.match(token) or _CJK_CHAR.match(out[-1]) or out[-1] in "，。？！：；、"):
            out += " "
        out += token
    return out


def strip_annotations(text: str) -> str:
    """'[Music] add milk (coughs)' -> 'add milk'."""
    return _join(_tokens(_ANNOTATION.sub(" ", text)))


_SUBWORD_LOOP = r"\b(\w+)(?:-\1\b){%d,}"
"""A piece repeated inside one hyphenated word ("A-dah-dah-dah-dah-...-da"): a decoder loop over sub-word
tokens, which the whitespace n-grams below do not see (one INT8 build looped so on 1 of 90 parity clips)."""


def cut_repetition(text: str, max_repeats: int = 3) -> str:
    """Collapse an n-gram (n <= 4) repeated more than max_repeats times in a row to one copy, and a piece
    repeated more than max_repeats times inside a hyphenated word."""
    loop = re.compile(_SUBWORD_LOOP % max_repeats, re.IGNORECASE)
    tokens = [loop.sub(r"\1", token) if token.count("-") >= max_repeats else token for token in _tokens(text)]
    for n in range(1, 5):
        out: list[str] = []
        i = 0
        while i < len(tokens):
            gram = [t.lower().strip(".,!?，。？！") for t in tokens[i:i + n]]
            repeats = 1
            while [t.lower().strip(".,!?，。？！") for t in tokens[i + repeats * n:i + (repeats + 1) * n]] == gram:
                repeats += 1
            if len(gram) == n and repeats > max_repeats:
                out += tokens[i:i + n]
                i += repeats * n
            else:
                out.append(tokens[i])
                i += 1
        tokens = out
    return _join(tokens)


MIN_LOOP_WORDS = 3
"""A phrase said again at once is a decoder loop from this many words up; "no no" or "add milk add
milk" can be real, "add a loaf add a loaf" is not a thing shoppers say."""
_SENTENCE_END = (".", "?", "!", "。", "？", "！")


def _key(token: str) -> str:
    return token.lower().strip(".,!?;:\"'，。？！：；、")


def _repeats_prefix(copy: list[str], phrase: list[str], looped: bool = False) -> bool:
    """copy is the start of phrase, its last word possibly cut off mid-word."""
    if not copy or len(copy) > len(phrase) or copy[:-1] != phrase[:len(copy) - 1]:
        return False
    last, want = copy[-1], phrase[len(copy) - 1]
    return last == want or ((looped or len(copy) >= MIN_LOOP_WORDS) and bool(last) and want.startswith(last))


def cut_restart(text: str, looped: bool = False) -> str:
    """Drop a second copy of a 3+ word phrase that follows it at once: a whole copy anywhere, or a
    cut-off copy (>= MIN_LOOP_WORDS words, or any length once a whole copy proved the loop or the phrase
    ended its sentence; no sentence end of its own) that runs to the end of the text."""
    tokens = _tokens(text)
    keys = [_key(t) for t in tokens]
    n = len(tokens)
    open_end = not text.rstrip().endswith(_SENTENCE_END)
    for start in range(n):
        # a copy begins with the phrase's first word: only those places are compared
        for again in (j for j in range(start + MIN_LOOP_WORDS, n) if keys[j] == keys[start]):
            size = again - start
            phrase = keys[start:again]
            if keys[again:again + size] == phrase:
                return cut_restart(_join(tokens[:again] + tokens[again + size:]), looped=True)
            rest = keys[again:]
            # after a finished sentence even one word of it again, left open, is the decoder restarting
            # ("Order the same as last time. Order the"), never a request: the endpoint waited for it
            restarted = looped or tokens[again - 1].endswith(_SENTENCE_END)
            if open_end and (restarted or len(rest) >= MIN_LOOP_WORDS) and len(rest) < size \
                    and _repeats_prefix(rest, phrase, restarted):
                return _join(tokens[:again]).rstrip(",;:，；：、")
    return text


def accept(text: str, audio: np.ndarray, speech_seconds: float) -> str:
    """The text to believe for a decoded segment ('' when it is most likely invented)."""
    text = cut_restart(cut_repetition(strip_annotations(text)))
    words = _words(text)
    if not words:
        return ""
    chinese = sum(1 for w in words if _CJK_CHAR.match(w))
    if chinese and any(mark in text for mark in ALWAYS_INVENTED_ZH):
        return ""
    weak = speech_seconds < MIN_SPEECH_SECONDS or level_dbfs(audio) < MIN_SPEECH_DBFS
    if weak and (" ".join(words) in HALLUCINATIONS or "".join(words) in HALLUCINATIONS_ZH):
        return ""
    seconds = max(speech_seconds, 0.5)
    if chinese / (MAX_CHARS_PER_SECOND * seconds) + (len(words) - chinese) / (MAX_WORDS_PER_SECOND * seconds) \
            > 1 + 2 / (MAX_WORDS_PER_SECOND * seconds):
        return ""
    return text


def accept_alternatives(text: str, alternatives: Sequence[tuple[str, float]], audio: np.ndarray,
                        speech_seconds: float) -> tuple[tuple[str, float], ...]:
    """The beam's readings a dialogue may choose among, each believed as `accept` believes the kept `text`
    (a repetition cut, an invented line gone), one entry per text at its best score; none unless the kept
    text is among them and something else is too (the guard dropped the rest, or a greedy decode)."""
    if not text:
        return ()
    kept: dict[str, float] = {}
    for raw, score in alternatives:
        believed = accept(raw, audio, speech_seconds)
        if believed and believed not in kept:
            kept[believed] = score
    return tuple(kept.items()) if text in kept and len(kept) > 1 else ()
