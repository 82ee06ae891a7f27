"""Handing catalog deltas from MQTT to the device catalog, and saying what became of each.

The catalog does the real work (signature, version order, one transaction: `Catalog.apply`); this
adapter only turns its result into a log line, because a rejected or out-of-order delta is routine
news for the sync loop, not an error that should stop it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("edge.sync.deltas")


class AppliesPayloads(Protocol):
    def apply(self, payload: bytes) -> Any: ...


def catalog_delta_handler(catalog: AppliesPayloads) -> Callable[[bytes], Any]:
    """A DeltaHandler for SyncClient(on_catalog_delta=...) that applies payloads to catalog."""

    def handle(payload: bytes) -> Any:
        result = catalog.apply(payload)
        status = getattr(result, "status", "?")
        if status == "applied":
            log.info("catalog now at version %s (%s changes)", result.version, result.changes)
        elif status == "snapshot_needed":
            log.warning("catalog delta %s skips ahead of version %s: a snapshot is needed",
                        result.payload_version, result.version)
        elif status != "stale":
            log.warning("catalog payload %s: %s", status, getattr(result, "reason", ""))
        return result

    return handle
