"""The device's MQTT sync loop: publish confirmed orders, apply the cloud's acks and status updates.

Delivery is at-least-once from the device and idempotent in the cloud (unique idempotency key), which
together give "exactly once in effect". The outbox, not the MQTT session, is the source of truth: an
order is published with QoS 1 over a persistent session, but it leaves `sent` only when the cloud's
ack with its key arrives; anything unacked is published again after `ack_timeout_seconds` (doubling
per attempt), after a process restart, and when the broker reports it lost our session.

One thread owns the paho client and drives it with `loop()`, so there is no locking around paho and
reconnects use our own exponential backoff with equal jitter (connection.Backoff) rather than paho's fixed schedule.
"""

from __future__ import annotations

import logging
import select
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from edge.events import OrderChanged
from edge.orders import Outbox
from edge.orders.db import damaged_message, is_damage
from edge.orders.model import DueOrder
from edge.storage import full_message, is_disk_full
from edge.sync.connection import (
    UNSUPPORTED_PROTOCOL,
    Backoff,
    ConnectionSpec,
    make_client,
    presence_payload,
    publish_offline,
    start_connect,
)
from edge.sync.options import SyncOptions, SyncStats
from edge.wire import (
    CATALOG_DELTAS_TOPIC,
    MAX_DELTA_BYTES,
    Ack,
    CancelRequest,
    StatusUpdate,
    WireError,
    decode,
    device_topic,
    encode,
)

log = logging.getLogger("edge.sync")

DeltaHandler = Callable[[bytes], Any]
CONNACK_TIMEOUT = 5.0  # seconds to wait for CONNACK before treating the attempt as failed
IDLE_POLL = 0.05  # seconds the loop waits on the socket when there is nothing to do
ACK_BATCH_SECONDS = 0.1  # longest an arrived ack waits to be applied with others
MAX_READS_PER_STEP = 500  # packets taken off the socket per loop step before the outbox gets a turn
FULL_DISK_PAUSE = 5.0  # seconds between sync steps while the disk is full
RESCAN_SECONDS = 1.0  # how often the outbox is checked for confirmed orders without a wake-up


class SyncClient:
    """Keeps the outbox and the cloud in step over MQTT; run it in a thread or once from the CLI."""

    def __init__(self, outbox: Outbox, spec: ConnectionSpec, options: SyncOptions | None = None, *,
                 on_catalog_delta: DeltaHandler | None = None) -> None:
        self.outbox, self.spec = outbox, spec
        self.options = options or SyncOptions.from_broker()
        self.on_catalog_delta = on_catalog_delta
        self.stats = SyncStats()
        self.connected, self._stop, self._wake = threading.Event(), threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = Backoff(self.options.backoff_initial, self.options.backoff_max)
        self._protocol = "5" if self.options.protocol == "auto" else self.options.protocol
        self._client: mqtt.Client | None = None
        self._inflight: set[int] = set()
        self._ready: deque[DueOrder] = deque()  # marked `sent` in the outbox, not yet handed to paho
        self._acks: list[Ack] = []
        self._acks_since = 0.0
        self._statuses: list[StatusUpdate] = []
        self._deltas: list[bytes] = []
        self._connack: int | None = None
        self._protocol_known = False  # set once a CONNACK said which MQTT version the broker speaks
        self._topics = {leaf: device_topic(spec.device_id, leaf) for leaf in ("orders", "acks", "status")}
        outbox.add_listener(self._on_order_changed)

    @classmethod
    def for_settings(cls, settings: Any, outbox: Outbox, *, url: str | None = None,
                     on_catalog_delta: DeltaHandler | None = None) -> SyncClient:
        """Build from the device settings ([device] and [broker]); url overrides broker.url."""
        spec = ConnectionSpec.for_broker(settings.broker, settings.device.id, url)
        return cls(outbox, spec, SyncOptions.from_broker(settings.broker), on_catalog_delta=on_catalog_delta)

    # -- running ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the loop in a daemon thread until stop()."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(None,), name="edge-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_until_settled(self, timeout: float) -> bool:
        """Connect, flush, and return True once every order is acked (False if timeout passes first)."""
        return self._run(time.monotonic() + timeout)

    @property
    def inflight(self) -> int:
        """Orders and cancel requests published but not yet acknowledged by the broker (PUBACK)."""
        return len(self._inflight)

    def _on_order_changed(self, event: OrderChanged) -> None:
        # Only a new confirmation needs the loop's attention; our own moves (queued, sent) do not.
        if event.state == "confirmed":
            self._wake.set()

    def wake(self) -> None:
        """Look at the outbox now instead of at the next poll (the outbox's listener calls this)."""
        self._wake.set()

    def _run(self, deadline: float | None) -> bool:
        try:
            return self._loop(deadline)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            # Retrying cannot help a damaged file, and "busy, retrying" would hide it.
            log.error("order sync stopped: %s", damaged_message(self.outbox.path, str(exc), None))
            return False

    def _loop(self, deadline: float | None) -> bool:
        settled = False
        next_scan = 0.0
        try:
            self._restart_sends()
            while not self._stop.is_set():
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    break
                if now >= next_scan:  # also pick up orders confirmed by another process
                    self._wake.set()
                    next_scan = now + RESCAN_SECONDS
                if self._client is None or not self.connected.is_set():
                    if not self._connect():
                        self._pause(self._backoff.next_delay(), deadline)
                    continue
                rc = self._read()
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    log.info("connection lost (%s); reconnecting with backoff", mqtt.error_string(rc))
                    self._drop_socket()
                    self._pause(self._backoff.next_delay(), deadline)
                    continue
                idle = False
                try:
                    idle = self._pump()
                except sqlite3.Error as exc:
                    self._outbox_failed(exc, deadline)
                except Exception:  # never let one bad record stop order sync for good
                    log.exception("sync step failed; retrying")
                    self._pause(1.0, deadline)
                if deadline is not None and idle and not self._inflight and self.outbox.unsettled() == 0:
                    settled = True
                    break
        finally:
            self._goodbye()
        return settled

    def _outbox_failed(self, exc: sqlite3.Error, deadline: float | None) -> None:
        """Damage stops sync (raised for _run to report); a full disk pauses it; a lock is retried soon."""
        if is_damage(exc):
            raise exc
        if is_disk_full(exc, self.outbox.path):  # the orders stay as they were until there is room
            log.warning("order sync paused: %s", full_message(self.outbox.path, "the outbox cannot record changes"))
            self._pause(FULL_DISK_PAUSE, deadline)
        else:  # e.g. the outbox file is locked by a long reader
            log.warning("outbox busy, retrying: %s", exc)
            self._pause(IDLE_POLL, deadline)

    def _restart_sends(self) -> None:
        """Every `sent` order is due again; the ready buffer would only duplicate what the outbox returns."""
        self._ready.clear()
        self.outbox.restart_sends()

    def _read(self) -> mqtt.MQTTErrorCode:
        """Wait up to IDLE_POLL for traffic, then take everything already waiting on the socket.

        paho's loop() reads one packet per call when nothing of ours is in flight, so a burst of
        acks would otherwise cost one outbox transaction each.
        """
        client = self._client
        assert client is not None
        rc = client.loop(IDLE_POLL)
        for _ in range(MAX_READS_PER_STEP):
            sock = client.socket()
            if rc != mqtt.MQTT_ERR_SUCCESS or sock is None or not select.select([sock], [], [], 0)[0]:
                break
            rc = client.loop_read()
        return rc

    def _pause(self, seconds: float, deadline: float | None) -> None:
        if deadline is not None:
            seconds = max(0.0, min(seconds, deadline - time.monotonic()))
        self._stop.wait(seconds)

    # -- connection ------------------------------------------------------------------------------------

    def _connect(self) -> bool:
        """One connection attempt, waiting for CONNACK; True when the session is up."""
        if self._client is None:
            self._client = make_client(self.spec, self._protocol)
            self._client.on_connect = self._on_connect
            self._client.on_disconnect = self._on_disconnect
            self._client.on_message = self._on_message
            self._client.on_publish = self._on_publish
            self._inflight.clear()
            self._restart_sends()  # a new paho client has none of the old one's in-flight messages
        self._connack = None
        timed_out = False
        try:
            start_connect(self._client, self.spec)
            give_up = time.monotonic() + CONNACK_TIMEOUT
            while self._connack is None and not self._stop.is_set():
                if self._client.loop(IDLE_POLL) != mqtt.MQTT_ERR_SUCCESS and self._connack is None:
                    break
                if time.monotonic() > give_up:
                    timed_out = True
                    break
        except (OSError, ValueError) as exc:  # refused, unreachable, TLS failure, DNS
            log.warning("cannot reach broker %s: %s", self.spec.address.url, exc)
            return False
        if self._connack == 0:
            self._protocol_known = True
            return True
        self._drop_socket()
        if self.options.protocol == "auto" and not self._protocol_known:
            if self._connack in UNSUPPORTED_PROTOCOL and self._protocol == "5":
                log.info("broker %s does not speak MQTT 5; using 3.1.1", self.spec.address.url)
                self._protocol, self._client = "3.1.1", None
                return self._connect()
            if timed_out:
                # amqtt never answers a v5 CONNECT that carries properties; until some version has
                # worked, a silent broker gets the other version next time.
                self._protocol, self._client = ("3.1.1" if self._protocol == "5" else "5"), None
                log.info("no CONNACK from %s; next attempt uses MQTT %s", self.spec.address.url, self._protocol)
                return False
        if self._connack is None:
            log.warning("no CONNACK from %s (%s)", self.spec.address.url,
                        "timed out" if timed_out else "connection closed")
        else:
            log.warning("broker %s refused the connection (reason %s)", self.spec.address.url, self._connack)
        return False

    def _on_connect(self, client: mqtt.Client, _ud: Any, flags: Any, reason: Any, _props: Any) -> None:
        self._connack = reason.value
        if reason.is_failure:
            return
        self.connected.set()
        self.stats.connects += 1
        self.stats.protocol = self._protocol
        self._backoff.reset()
        if not flags.session_present:
            # The broker forgot us: acks it held for our old session are gone, so resend what is unacked.
            self._restart_sends()
        subs = [(self._topics["acks"], 1), (self._topics["status"], 1)]
        if self.on_catalog_delta is not None:
            subs.append((CATALOG_DELTAS_TOPIC, 1))
        client.subscribe(subs)
        client.publish(device_topic(self.spec.device_id, "presence"),
                       presence_payload(self.spec.device_id, True), qos=1, retain=True)
        log.info("connected to %s (MQTT %s, session present: %s)", self.spec.address.url, self._protocol,
                 flags.session_present)

    def _on_disconnect(self, _c: Any, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if self.connected.is_set():
            self.stats.disconnects += 1
            log.warning("disconnected from %s: %s", self.spec.address.url, reason)
        self.connected.clear()

    def _drop_socket(self) -> None:
        try:
            if self._client is not None:
                self._client.disconnect()
        except (OSError, ValueError):
            pass
        self.connected.clear()

    def _goodbye(self) -> None:
        """Clean stop: say offline (a clean DISCONNECT does not fire the Will) and close."""
        client = self._client
        if client is None or not self.connected.is_set():
            return
        self.connected.clear()  # from here on a disconnect is ours, not news
        try:
            publish_offline(client, self.spec.device_id, wait=2.0, poll=IDLE_POLL)
            client.disconnect()
        except (OSError, ValueError, RuntimeError) as exc:
            log.info("offline notice not delivered: %s", exc)
        self.connected.clear()

    # -- messages --------------------------------------------------------------------------------------

    def _on_publish(self, _c: Any, _ud: Any, mid: int, reason: Any, _props: Any) -> None:
        self._inflight.discard(mid)
        if reason.is_failure:
            # e.g. "not authorized" from an ACL: the order stays `sent` and is retried on its timer.
            log.error("broker refused publish %s: %s", mid, reason)

    def _on_message(self, _c: Any, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        """Sort incoming payloads; bad ones are logged and dropped, never raised into paho."""
        try:
            if msg.topic == CATALOG_DELTAS_TOPIC:
                if len(msg.payload) > MAX_DELTA_BYTES:
                    raise WireError(f"catalog delta of {len(msg.payload)} bytes exceeds {MAX_DELTA_BYTES}")
                self._deltas.append(bytes(msg.payload))
            elif msg.topic == self._topics["acks"]:
                if not self._acks:
                    self._acks_since = time.monotonic()
                self._acks.append(decode(msg.payload, "acks"))  # type: ignore[arg-type]
            elif msg.topic == self._topics["status"]:
                self._statuses.append(decode(msg.payload, "status"))  # type: ignore[arg-type]
            else:
                raise WireError(f"unexpected topic {msg.topic[:200]!r}")
        except WireError as exc:
            self.stats.dropped += 1
            log.warning("dropped payload on %s: %s", msg.topic[:200], exc)

    def _pump(self) -> bool:
        """Apply what arrived, then publish what is due, within the in-flight window; True if idle.

        Work is batched because every outbox write is an fsync'd transaction: acks are applied once
        half a window has gathered (or the oldest has waited ACK_BATCH_SECONDS), and orders are
        marked `sent` a batch ahead of the in-flight window (the ready buffer), so one transaction
        covers many orders and runs while the broker works through what is already in flight.
        """
        busy = False
        if self._acks and (len(self._acks) >= self.options.max_inflight // 2
                           or time.monotonic() - self._acks_since >= ACK_BATCH_SECONDS):
            acks, self._acks = self._acks, []
            self.stats.acks += self.outbox.apply_acks(acks)
            busy = True
        if self._statuses:
            statuses, self._statuses = self._statuses, []
            self.stats.statuses += self.outbox.apply_statuses(statuses)
        while self._deltas:
            payload = self._deltas.pop(0)
            if self.on_catalog_delta is None:
                continue
            try:
                self.on_catalog_delta(payload)
                self.stats.deltas += 1
            except Exception:  # the catalog's own checks failed; the device loop must go on
                self.stats.dropped += 1
                log.exception("catalog delta handler failed")
        if self._wake.is_set():
            self._wake.clear()
            self.outbox.queue_confirmed()
        room = self.options.max_inflight - len(self._inflight)
        published = self._publish_ready(room)
        room -= published
        if len(self._ready) < self.options.max_inflight:
            # Mark the next batch `sent` now, while the window is full: the fsync then overlaps with
            # the broker working through what is in flight instead of stalling the pipeline.
            self._ready.extend(self.outbox.take_due(2 * self.options.max_inflight - len(self._ready),
                                                    ack_timeout=self.options.ack_timeout))
            published += self._publish_ready(room)
            room = self.options.max_inflight - len(self._inflight)
        if room > 0 and not self._ready:
            for order in self.outbox.take_due_cancels(room, timeout=self.options.ack_timeout):
                request = CancelRequest(key=order.key or "", requested_at=time.time())
                self._publish(self._topics["orders"], encode(request))
                self.stats.cancels_sent += 1
                busy = True
        return not (busy or published or self._acks or self._ready)

    def _publish_ready(self, room: int) -> int:
        """Publish up to room orders already marked `sent`, oldest first; return how many."""
        count = 0
        while self._ready and count < room:
            order = self._ready.popleft()
            self._publish(self._topics["orders"], order.payload)
            self.stats.published += 1
            self.stats.republished += order.attempts > 0
            count += 1
        return count

    def _publish(self, topic: str, payload: bytes) -> None:
        assert self._client is not None
        info = self._client.publish(topic, payload, qos=1)
        if info.rc == mqtt.MQTT_ERR_SUCCESS or info.rc == mqtt.MQTT_ERR_NO_CONN:
            # NO_CONN: paho keeps the message and sends it after reconnecting; our resend timer also covers it.
            self._inflight.add(info.mid)
        else:
            log.warning("publish failed locally: %s", mqtt.error_string(info.rc))
