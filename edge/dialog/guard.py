"""Purchase safety that must outlive a conversation: the voice PIN and the purchasing lock.

Three wrong PINs in a row lock purchasing until someone resets it (`python -m edge chat
--unlock-purchasing`, an owner action on the device). The lock and the failure count live in a
small SQLite file in the device data dir, not in memory, so restarting the assistant (or the
device) does not give a guesser three fresh tries.
"""

from __future__ import annotations

import hmac
import re
import sqlite3
import time
import unicodedata
from pathlib import Path

from edge.dialog.words_zh import has_cjk, is_hesitation_zh, pin_digits

MAX_PIN_FAILURES = 3

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "to": "2", "too": "2", "three": "3",
    "four": "4", "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "ate": "8", "nine": "9",
}


def ascii_digits(token: str) -> str:
    """"١٢٣٤" (or "１２３４", "१२३४") -> "1234": a PIN said in any decimal digit script compares as ASCII.

    `\\d` matches every script's decimal digits, and hmac.compare_digest raises TypeError on
    non-ASCII str (issue 15: "١٢٣٤" crashed the PIN turn); the digit values are what was said.
    """
    return "".join(str(unicodedata.decimal(ch)) for ch in token)


def spoken_digits(text: str) -> str:
    """The digits said in a transcript: "one two three four" and "1234" both give "1234".

    ASR homophones of digits ("to", "for", "ate") count only when the whole answer is digits
    and those words, so "it's for you" is not read as a PIN. Anything else yields "".
    A PIN said in Chinese ("一二三四", "幺二三四", "我的密码是1234") is read by `words_zh.pin_digits`.
    """
    if has_cjk(text):
        return pin_digits(text)
    tokens = re.findall(r"[a-z]+|\d+", text.lower())
    digits: list[str] = []
    fillers = {"my", "pin", "is", "it", "its", "s", "the", "code", "number", "um", "uh", "please", "and"}
    for token in tokens:
        if token.isdigit():
            digits.append(ascii_digits(token))
        elif token in _DIGIT_WORDS:
            digits.append(_DIGIT_WORDS[token])
        elif token not in fillers:
            return ""
    return "".join(digits)


class PurchaseGuard:
    """Counts failed PINs and holds the purchasing lock, persisted in `path` (SQLite)."""

    def __init__(self, path: Path | str, pin: str) -> None:
        self.pin = pin
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS purchase_guard ("
                " id INTEGER PRIMARY KEY CHECK (id = 1), failed_pins INTEGER NOT NULL DEFAULT 0,"
                " locked_at REAL)"
            )
            db.execute("INSERT OR IGNORE INTO purchase_guard (id, failed_pins) VALUES (1, 0)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _row(self) -> tuple[int, float | None]:
        db = self._connect()
        try:
            row = db.execute("SELECT failed_pins, locked_at FROM purchase_guard WHERE id = 1").fetchone()
        finally:
            db.close()
        return int(row[0]), row[1]

    @property
    def locked(self) -> bool:
        return self._row()[1] is not None

    @property
    def failures(self) -> int:
        return self._row()[0]

    @property
    def has_pin(self) -> bool:
        return bool(self.pin)

    def check(self, spoken: str) -> bool:
        """True when the spoken PIN matches; a miss counts, and the third miss in a row locks."""
        if self.locked or not self.pin:
            return False
        attempt = spoken_digits(spoken).encode("ascii")
        pin = ascii_digits(self.pin).encode("ascii") if self.pin.isdigit() else self.pin.encode("utf-8")
        ok = len(attempt) == len(pin) and hmac.compare_digest(attempt, pin)
        db = self._connect()
        try:
            if ok:
                db.execute("UPDATE purchase_guard SET failed_pins = 0 WHERE id = 1")
            else:
                db.execute(
                    "UPDATE purchase_guard SET failed_pins = failed_pins + 1,"
                    " locked_at = CASE WHEN failed_pins + 1 >= ? THEN ? ELSE locked_at END WHERE id = 1",
                    (MAX_PIN_FAILURES, time.time()),
                )
        finally:
            db.close()
        return ok

    def reset(self) -> None:
        """Unlock purchasing and forget failed attempts (an owner action)."""
        db = self._connect()
        try:
            db.execute("UPDATE purchase_guard SET failed_pins = 0, locked_at = NULL WHERE id = 1")
        finally:
            db.close()


# Sounds people make while thinking, and the glue words that come with them. An utterance made of
# nothing else carries no answer, whatever intent the model guesses for it (the NLU was measured
# reading a bare "uh" after a read-back as "yes" at 0.94): it must never confirm a purchase. "mm" is
# left out: "mm hmm" is a yes.
HESITATIONS = frozenset({"um", "umm", "uh", "uhh", "hmm", "hmmm", "hm", "er", "erm", "ah", "eh",
                         "the", "a", "so", "well", "like", "let", "me", "see", "think", "i", "oh"})


def is_hesitation(text: str) -> bool:
    """True when text is only hesitation sounds and glue words ("uh", "hmm the uh", "um let me see");
    a Chinese line by the Mandarin list ("嗯……", "呃那个"): it has no Latin words to count."""
    if has_cjk(text):
        return is_hesitation_zh(text)
    words = re.findall(r"[a-z']+", text.lower())
    return not words or all(word in HESITATIONS for word in words)

