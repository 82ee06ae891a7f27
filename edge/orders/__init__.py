"""The order outbox: confirmed orders kept on the device until the cloud has acknowledged them.

The dialogue calls `Outbox.confirm(lines)` / `Outbox.cancel(order_id)` / `Outbox.list()`; the sync
client (`edge.sync`) moves orders through queued → sent → acked and applies the cloud's status
updates. See `edge.orders.model` for the states.
"""

from edge.orders.db import OutboxDamaged
from edge.orders.model import STATES, Order, OrderError
from edge.orders.outbox import Outbox

__all__ = ["STATES", "Order", "OrderError", "Outbox", "OutboxDamaged"]
