"""The cloud reference service's MQTT side: subscribe, batch, ingest, publish acks, statuses and deltas.

Two threads: paho's network thread only queues incoming messages; one worker thread owns the store,
takes messages in batches (one database transaction per batch, which is what lets a single worker
keep up with a device flushing thousands of queued orders), publishes the acks after the commit, and
runs the shipping timer. An ack is never published before its order is committed, so a crash loses
at most acks, and the device re-sends anything unacked.

Scale-out: with MQTT 5 the service subscribes through the shared subscription
``$share/<group>/voiceshop/v1/devices/+/orders``, so several processes (or hosts, against a clustered
broker) split the stream; the unique key in the store keeps a re-send that lands on another worker
from being stored twice. Brokers that speak only 3.1.1 (amqtt) get a plain subscription and one worker.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud.serve.deltas import DeltaWatcher
from cloud.serve.ingest import Ingest, Outgoing, status_message
from voiceshop_common.wire import CATALOG_DELTAS_TOPIC, BrokerAddress, device_filter

log = logging.getLogger("cloud.serve")
V5_PROBE_SECONDS = 5.0


@dataclass(frozen=True)
class ServiceOptions:
    client_id: str = "voiceshop-cloud"
    username: str = ""
    password: str = ""
    ca_file: str = ""
    protocol: str = "auto"
    """"auto" (MQTT 5, falling back to 3.1.1), "5" or "3.1.1"."""
    group: str = "ingest"
    """Shared-subscription group; empty subscribes plainly (every worker gets every message)."""
    ship_after: float | None = 30.0
    """Seconds after acceptance an order is marked shipped (development stand-in for a warehouse)."""
    deliver_after: float | None = None
    """Seconds after shipping an order is marked delivered; None never."""
    batch_max: int = 500
    tick: float = 0.2
    """How often the shipping timer runs (seconds)."""
    session_expiry: int = 86400
    deltas_dir: str = ""
    """Directory `python -m cloud catalog publish` writes to; new delta files there are published."""


class CloudService:
    """One ingest worker: `start()`, then `stop()`; `publish_delta()` is the catalog's hook."""

    def __init__(self, ingest: Ingest, address: BrokerAddress, options: ServiceOptions | None = None) -> None:
        self.ingest, self.address = ingest, address
        self.options = options or ServiceOptions()
        self.protocol = ""
        self.connected = threading.Event()
        self._inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._stop = threading.Event()
        self._client: mqtt.Client | None = None
        self._worker: threading.Thread | None = None
        self._deltas = DeltaWatcher(self.options.deltas_dir) if self.options.deltas_dir else None
        self.deltas_published = 0

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self, connect_timeout: float = 15.0) -> None:
        """Connect (MQTT 5 if the broker speaks it), subscribe, and start the worker; raise if unreachable."""
        order = ["5", "3.1.1"] if self.options.protocol == "auto" else [self.options.protocol]
        last = ""
        for n, protocol in enumerate(order):
            # amqtt never answers a v5 CONNECT with properties, so the v5 probe gets a short wait.
            wait = min(connect_timeout, V5_PROBE_SECONDS) if n + 1 < len(order) else connect_timeout
            client, result = self._open(protocol, wait)
            if result == 0:
                self._client, self.protocol = client, protocol
                break
            client.disconnect()
            client.loop_stop()
            last = f"CONNACK {result}" if result is not None else "no answer"
            if result not in (1, 0x84, None):  # refused for a reason other than the protocol: final
                break
        else:
            raise ConnectionError(f"broker {self.address.url} refused every protocol ({last})")
        if self._client is None:
            raise ConnectionError(f"cannot connect to broker {self.address.url}: {last}")
        self._worker = threading.Thread(target=self._work, name="cloud-ingest", daemon=True)
        self._worker.start()
        log.info("serving %s over MQTT %s as %s (group %r)", self.address.url, self.protocol,
                 self.options.client_id, self.options.group if self.shared else "")

    @property
    def shared(self) -> bool:
        return bool(self.options.group) and self.protocol == "5"

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(10)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
        self.connected.clear()

    def _open(self, protocol: str, timeout: float) -> tuple[mqtt.Client, int | None]:
        version = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.options.client_id, protocol=version,
                             clean_session=None if version == mqtt.MQTTv5 else False)
        if self.options.username:
            client.username_pw_set(self.options.username, self.options.password or None)
        if self.address.tls:
            client.tls_set(ca_certs=self.options.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(0.2, 5)
        client.max_inflight_messages_set(1000)
        answered = threading.Event()
        result: list[int] = []

        def on_connect(c: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
            result.append(reason.value)
            answered.set()
            if not reason.is_failure:
                self.connected.set()
                self._subscribe(c)

        def on_disconnect(*_args: Any) -> None:
            self.connected.clear()

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = self._on_message
        if version == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.options.session_expiry
            client.connect_async(self.address.host, self.address.port, 30, clean_start=False, properties=props)
        else:
            client.connect_async(self.address.host, self.address.port, 30)
        client.loop_start()
        answered.wait(timeout)
        return client, (result[0] if result else None)

    def _subscribe(self, client: mqtt.Client) -> None:
        prefix = f"$share/{self.options.group}/" if self.options.group and client.protocol == mqtt.MQTTv5 else ""
        client.subscribe([(prefix + device_filter("orders"), 1), (prefix + device_filter("presence"), 1)])

    # -- messages --------------------------------------------------------------------------------------

    def _on_message(self, _c: Any, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put((msg.topic, bytes(msg.payload)))

    def _work(self) -> None:
        next_tick = 0.0
        while not self._stop.is_set():
            batch = self._take_batch()
            try:
                if batch:
                    self._publish(self.ingest.handle(batch))
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.options.tick
                    moved = self.ingest.store.advance(ship_after=self.options.ship_after,
                                                      deliver_after=self.options.deliver_after)
                    self._publish([status_message(row) for row in moved])
                    for name, payload in self._deltas.poll() if self._deltas else ():
                        self.publish_delta(payload)
                        log.info("published catalog %s (%d bytes)", name, len(payload))
            except Exception:  # a database hiccup must not end the service; unacked orders come again
                log.exception("ingest batch of %d failed; the devices will re-send", len(batch))
                self._stop.wait(1.0)
                try:
                    self.ingest.store.recover()
                except Exception as exc:  # the database is still away: try again after the next batch
                    log.warning("store not back yet: %s", exc)

    def _take_batch(self) -> list[tuple[str, bytes]]:
        try:
            batch = [self._inbox.get(timeout=self.options.tick)]
        except queue.Empty:
            return []
        while len(batch) < self.options.batch_max:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _publish(self, messages: list[Outgoing]) -> None:
        assert self._client is not None
        for message in messages:
            self._client.publish(message.topic, message.payload, qos=1)

    def publish_delta(self, payload: bytes) -> None:
        """The catalog's hook: send a signed catalog delta (or snapshot) to every device."""
        assert self._client is not None
        self._client.publish(CATALOG_DELTAS_TOPIC, payload, qos=1)
        self.deltas_published += 1
