"""Building and connecting the device's paho-mqtt client: protocol, persistent session, TLS, Last Will.

Kept apart from the sync loop so the loop reads as "what to send when" and this module as "how the
device talks to a broker". MQTT 5 is preferred (session expiry, reason codes); brokers that only
speak 3.1.1 (amqtt, older Mosquitto) answer CONNACK "unsupported protocol version" and the caller
asks for a 3.1.1 client instead.
"""

from __future__ import annotations

import random
import ssl
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.config import BrokerSettings
from edge.wire import BrokerAddress, Presence, device_topic, encode, parse_broker_url

PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311}
# CONNACK codes meaning "I do not speak that MQTT version": 1 in 3.1.1, 0x84 in 5.
UNSUPPORTED_PROTOCOL = {1, 0x84}


@dataclass(frozen=True)
class ConnectionSpec:
    """Everything needed to open the device's MQTT session."""

    address: BrokerAddress
    device_id: str
    client_id: str
    username: str
    password: str
    ca_file: str
    keepalive: int
    session_expiry: int
    max_inflight: int

    @classmethod
    def for_broker(cls, broker: BrokerSettings, device_id: str, url: str | None = None) -> ConnectionSpec:
        """The session a [broker] section asks for; url overrides broker.url, the device id fills the blanks."""
        address = parse_broker_url(url or broker.url)
        return cls(address=address, device_id=device_id, client_id=broker.client_id or f"voiceshop-{device_id}",
                   username=broker.username or address.username or device_id,
                   password=broker.password or address.password, ca_file=broker.ca_file,
                   keepalive=broker.keepalive_seconds, session_expiry=broker.session_expiry_seconds,
                   max_inflight=broker.max_inflight)


class Backoff:
    """Exponential reconnect delays with "equal jitter": half the step fixed, half random.

    The jitter spreads a fleet of devices that lost the broker at the same moment (a broker restart),
    so they do not all reconnect in the same instant; the fixed half keeps a lone device from
    hammering a broker that is down.
    """

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self.initial, self.maximum = initial, maximum
        self._rng = rng or random.Random()
        self.attempts = 0

    def next_delay(self) -> float:
        step = min(self.maximum, self.initial * 2 ** min(self.attempts, 30))
        self.attempts += 1
        return step / 2 + self._rng.uniform(0, step / 2)

    def reset(self) -> None:
        self.attempts = 0


def presence_payload(device_id: str, online: bool) -> bytes:
    return encode(Presence(device_id=device_id, online=online, at=time.time()))


def publish_offline(client: mqtt.Client, device_id: str, wait: float, poll: float) -> None:
    """Publish the retained "offline" presence and drive the client until it is out or wait seconds pass."""
    info = client.publish(device_topic(device_id, "presence"), presence_payload(device_id, False), qos=1, retain=True)
    give_up = time.monotonic() + wait
    while not info.is_published() and time.monotonic() < give_up:
        if client.loop(poll) != mqtt.MQTT_ERR_SUCCESS:
            break


def make_client(spec: ConnectionSpec, protocol: str) -> mqtt.Client:
    """A paho client for one protocol version with auth, TLS, the presence Will and a persistent session."""
    version = PROTOCOLS[protocol]
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=spec.client_id, protocol=version,
        clean_session=None if version == mqtt.MQTTv5 else False, reconnect_on_failure=False,
    )
    if spec.username:
        client.username_pw_set(spec.username, spec.password or None)
    if spec.address.tls:
        client.tls_set(ca_certs=spec.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
    client.max_inflight_messages_set(spec.max_inflight)
    client.max_queued_messages_set(0)
    # The Will's timestamp is the connect time: the broker publishes it verbatim when the device vanishes.
    client.will_set(device_topic(spec.device_id, "presence"), presence_payload(spec.device_id, False),
                    qos=1, retain=True)
    return client


def start_connect(client: mqtt.Client, spec: ConnectionSpec) -> None:
    """Open the socket and send CONNECT (blocking up to the TCP/TLS handshake); CONNACK comes via loop()."""
    if client.protocol == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = spec.session_expiry
        client.connect(spec.address.host, spec.address.port, spec.keepalive, clean_start=False, properties=props)
    else:
        client.connect(spec.address.host, spec.address.port, spec.keepalive)
