"""The device catalog: SQLite synced from the cloud by signed snapshots and deltas, searched offline.

- ``schema``: tables, FTS5 indexes and versioned migrations (``open_catalog``).
- ``wire``: the signed payload format shared with the cloud.
- ``apply``: ``apply_delta(conn, payload, public_key) -> ApplyResult`` (snapshots too).
- ``search``: hybrid lexical + semantic + fuzzy/phonetic search with filters.
- ``recommend``: ALS taste + learned family complements, one item per family, never the cart's
  families; "often bought with" and "something like this" (alternatives).
- ``catalog``: ``Catalog``, the facade the dialogue and the CLI use.

Nothing is imported here on purpose: the cloud imports ``edge.catalog.wire`` (the shared wire
format) and must not pull in the device runtime with it.
"""

