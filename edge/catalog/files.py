"""Reading a catalog payload file from disk for `edge catalog apply`, within the same cap as over MQTT.

Kept out of edge/catalog/apply.py on purpose: that file's bytes key the cached demo catalog
(edge.simulation.world), and reading a file is not part of how a catalog is built.
"""

from __future__ import annotations

import stat
from pathlib import Path

from edge.wire import MAX_DELTA_BYTES


def read_payload_file(path: str | Path, limit: int = MAX_DELTA_BYTES) -> bytes:
    """The bytes of a catalog payload file, refusing before reading anything over limit.

    The same cap as a payload arriving over MQTT (32 MB): `catalog apply` once read a 2 GB file
    whole (2.1 GB resident) only to refuse it. Size is checked with stat, and the read itself is
    bounded too, in case the file grows meanwhile. Raises ValueError with a one-line reason.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{path} is a directory; give the .vscat file in it")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file")
    if info.st_size > limit:
        raise ValueError(f"{path} is {info.st_size / 2**20:.1f} MB; catalog files over {limit / 2**20:.0f} MB "
                         "are refused (the limit for catalog payloads over MQTT too)")
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ValueError(f"{path} grew past {limit / 2**20:.0f} MB while being read; refused")
    return data
