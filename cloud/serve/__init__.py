"""The cloud reference service: ingest orders from devices over MQTT, ack, ship, publish catalog deltas.

`python -m cloud serve --broker URL --catalog FILE [--db PATH | --pg DSN]` runs one worker;
`python -m cloud orders list --json` reads what it stored. The modules: `pricing` (the cloud's own
prices), `store` (SQLite/PostgreSQL with the unique idempotency key), `ingest` (the policy, no MQTT),
`service` (the MQTT side), `cli` and `orders_cli` (thin CLIs).
"""

from cloud.serve.ingest import Ingest
from cloud.serve.pricing import CatalogPrices
from cloud.serve.service import CloudService, ServiceOptions
from cloud.serve.store import Store

__all__ = ["CatalogPrices", "CloudService", "Ingest", "ServiceOptions", "Store"]
