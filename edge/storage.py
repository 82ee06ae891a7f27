"""Telling a full disk apart from a damaged or unreadable file, so the user hears which it is.

SQLite reports a full disk in more than one way: SQLITE_FULL when a write finds no room, but "disk
I/O error" (SQLITE_IOERR_SHMSIZE and friends) when opening a WAL database cannot create its 32 KiB
shared-memory file. Taken at face value the second sent users off to rebuild a catalog that was fine.
So an I/O error counts as "disk full" when the filesystem under the file is in fact (nearly) full.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

SQLITE_FULL = 13
SQLITE_IOERR = 10
LOW_SPACE_BYTES = 1024 * 1024
"""Below this much free space an I/O error is put down to the full disk (SQLite needs ~100 KiB to open)."""


class StorageFull(OSError):
    """The disk under the device's data is full; the message says what to do. Nothing was changed."""

    def __str__(self) -> str:
        return str(self.args[0])


def free_bytes(path: str | Path) -> int | None:
    """Bytes an unprivileged writer can still use on the filesystem holding path (or its nearest parent)."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        info = os.statvfs(probe)
    except OSError:
        return None
    return info.f_bavail * info.f_frsize


def is_disk_full(exc: BaseException, path: str | Path | None = None) -> bool:
    """True when exc (or the error it happened during) comes from the disk under path being full."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(error, StorageFull):
            return True
        if isinstance(error, sqlite3.Error):
            code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
            if code == SQLITE_FULL or "disk is full" in str(error):
                return True
            if (code == SQLITE_IOERR or "disk I/O error" in str(error)) and path is not None:
                free = free_bytes(path)
                if free is not None and free < LOW_SPACE_BYTES:
                    return True
        error = error.__context__ or error.__cause__
    return False


def full_message(path: str | Path, what: str) -> str:
    """One line for the user: which disk is full, that nothing is damaged, and what to do."""
    where = Path(path)
    free = free_bytes(where)
    left = f"{free // 1024} KB free" if free is not None else "no space left"
    return (f"the disk holding {where} is full ({left}), so {what}. Nothing is damaged and nothing was "
            "changed: free some space there (old logs or recordings) and try again.")
