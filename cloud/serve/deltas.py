"""The delta publisher hook: catalog releases written to a directory go out on voiceshop/v1/catalog/deltas.

`python -m cloud catalog publish` writes signed ``delta-NNNNNN.vscat`` files (see cloud.catalog.publish);
the service watches that directory and publishes each new delta once, in version order. Files that
were already there when the service started are not re-sent (devices hold them or will bootstrap
from a snapshot), unless asked to. The payload is passed through untouched: the device verifies the
signature, so the transport needs no trust in this process.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger("cloud.serve.deltas")

DELTA_NAME = re.compile(r"delta-(\d{6,})\.vscat")


class DeltaWatcher:
    """Remembers which delta files it has handed out; `poll()` returns the new ones' bytes."""

    def __init__(self, directory: str | Path, *, include_existing: bool = False) -> None:
        self.directory = Path(directory)
        self._seen: set[str] = set() if include_existing else {p.name for p in self._files()}
        self._sizes: dict[str, int] = {}

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.iterdir() if DELTA_NAME.fullmatch(p.name)]
        return sorted(found, key=lambda p: int(DELTA_NAME.fullmatch(p.name).group(1)))  # type: ignore[union-attr]

    def poll(self) -> list[tuple[str, bytes]]:
        """(file name, payload) for every new delta file, oldest version first.

        A file is handed out only once its size was the same at two polls in a row: the publisher
        writes it in place, and a half-written delta would fail verification on every device.
        """
        fresh = []
        for path in self._files():
            if path.name in self._seen:
                continue
            try:
                size = path.stat().st_size
                if size == 0 or self._sizes.get(path.name) != size:
                    self._sizes[path.name] = size
                    continue
                fresh.append((path.name, path.read_bytes()))
            except OSError as exc:  # gone or unreadable: try again next poll
                log.info("cannot read %s yet: %s", path, exc)
                continue
            self._seen.add(path.name)
        return fresh
