"""The shipped broker configuration (deploy/mosquitto) ties client ids to usernames: a device with valid
credentials cannot use another device's client id to kick it off or wipe its persistent session.

Mosquitto is started from the shipped files themselves, only paths and the port changed. A control test
on the per-test config without the setting shows the takeover is real, so the main test can fail.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.orders import Outbox
from edge.wire import device_topic
from tests.brokers import DEVICE_ACL, Mosquitto, make_tls, wait_for
from tests.conftest import REPO
from tests.orders_rig import assert_exactly_once, cloud_worker, confirm_orders, device_client, make_catalog

pytestmark = pytest.mark.broker

SHIPPED = REPO / "deploy" / "mosquitto"
USERS = {"dev-a": "pw-a-7Hq", "dev-b": "pw-b-3Zr", "cloud-1": "pw-cloud-9Kx"}
B_CLIENT_ID = "voiceshop-dev-b"  # what dev-b's SyncClient sends ("voiceshop-<device id>")


def shipped_broker(work: Path) -> Mosquitto:
    """A Mosquitto running deploy/mosquitto/voiceshop.conf and its acl, on a free port, with USERS."""
    broker = Mosquitto(work, users=USERS)  # writes the passwd file and picks a port; its config is replaced
    tls = make_tls(work / "tls")
    (work / "acl").write_text((SHIPPED / "acl").read_text())
    paths = {"password_file": work / "passwd", "acl_file": work / "acl", "cafile": tls.ca,
             "certfile": tls.cert, "keyfile": tls.key, "persistence_location": f"{work}/"}
    lines = ["user root", f"log_dest file {work}/mosquitto.log"]  # as root, mosquitto would drop to a user
    for line in (SHIPPED / "voiceshop.conf").read_text().splitlines():
        key = line.split(" ", 1)[0]
        if key in paths:
            line = f"{key} {paths[key]}"
        elif re.fullmatch(r"listener 8883", line):
            line = f"listener {broker.port} 127.0.0.1"
        lines.append(line)
    broker.config.write_text("\n".join(lines) + "\n")
    broker.tls_ca = tls.ca
    return broker


class Session:
    """A raw MQTT 5 client with an explicit client id and clean-start flag, recording what happens to it."""

    def __init__(self, broker: Mosquitto, user: str, client_id: str, *, clean_start: bool = False,
                 tls_ca: Path | None = None) -> None:
        self.connack: list[tuple[int, bool]] = []
        self.disconnects: list[int] = []
        self.messages: list[tuple[str, bytes]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, USERS[user])
        if tls_ca is not None:
            self.client.tls_set(ca_certs=str(tls_ca))
        self.client.on_connect = lambda _c, _u, flags, rc, _p: self.connack.append((rc.value, flags.session_present))
        self.client.on_disconnect = lambda _c, _u, _f, rc, _p: self.disconnects.append(rc.value)
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        host = "localhost" if tls_ca is not None else "127.0.0.1"
        self.client.connect(host, broker.port, 30, clean_start=clean_start, properties=props)
        self.client.loop_start()
        wait_for(lambda: self.connack, 10, f"CONNACK for {user} as {client_id}")

    def subscribe(self, topic: str) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(10), "SUBACK"

    def publish(self, topic: str, payload: bytes) -> bool:
        """QoS 1; True once the broker acknowledged it (a kicked-off client never gets the PUBACK)."""
        info = self.client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(5)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_without_the_setting_dev_a_kicks_dev_b_off_and_wipes_its_session(tmp_path):
    """Control: the per-test broker config (passwords and ACL, no client-id binding) allows the takeover."""
    with Mosquitto(tmp_path / "open", users=USERS, acl=DEVICE_ACL, cloud_users=("cloud-1",)) as broker:
        cloud = Session(broker, "cloud-1", "cloud-x")
        b = Session(broker, "dev-b", B_CLIENT_ID)
        b.subscribe(device_topic("dev-b", "acks"))
        b.close()
        cloud.publish(device_topic("dev-b", "acks"), b"queued-ack")  # waits in dev-b's session ...
        a = Session(broker, "dev-a", B_CLIENT_ID, clean_start=True)
        assert a.connack == [(0, False)]
        a.close()  # ... which dev-a's clean start just replaced
        back = Session(broker, "dev-b", B_CLIENT_ID)
        back.subscribe(device_topic("dev-b", "acks"))
        cloud.publish(device_topic("dev-b", "acks"), b"marker")  # queued messages would come before it
        wait_for(lambda: back.messages, 10, "the marker")
        assert back.messages == [(device_topic("dev-b", "acks"), b"marker")]  # the queued ack is gone
        kicked = Session(broker, "dev-a", B_CLIENT_ID)  # and a live dev-b is kicked off
        wait_for(lambda: back.disconnects, 10, "dev-b to be kicked off")
        kicked.close()
        back.client.loop_stop()
        cloud.close()


def test_shipped_config_keeps_dev_b_connected_and_its_session_intact(tmp_path):
    broker = shipped_broker(tmp_path / "shipped")
    with broker:
        ca = broker.tls_ca
        cloud = Session(broker, "cloud-1", "ignored-by-the-broker", tls_ca=ca)
        b = Session(broker, "dev-b", B_CLIENT_ID, tls_ca=ca)
        b.subscribe(device_topic("dev-b", "acks"))
        a = Session(broker, "dev-a", B_CLIENT_ID, clean_start=True, tls_ca=ca)  # dev-a tries dev-b's id
        assert a.connack == [(0, False)]  # it gets in, but as its own session ("dev-a") ...
        # ... dev-b is still connected: a client that was kicked off never gets this PUBACK.
        assert b.publish(device_topic("dev-b", "presence"), b"{}")
        assert b.disconnects == []
        a.close()
        # dev-b goes offline; an ack queued for it must wait in its session through another takeover try.
        b.close()
        cloud.publish(device_topic("dev-b", "acks"), b"queued-ack")
        intruder = Session(broker, "dev-a", B_CLIENT_ID, clean_start=True, tls_ca=ca)
        intruder.subscribe(device_topic("dev-b", "acks"))  # and the ACL still hides dev-b's topics
        intruder.close()
        back = Session(broker, "dev-b", B_CLIENT_ID, tls_ca=ca)
        assert back.connack == [(0, True)]  # session present: nothing wiped
        wait_for(lambda: back.messages, 10, "the ack queued while dev-b was offline")
        assert back.messages == [(device_topic("dev-b", "acks"), b"queued-ack")]
        assert intruder.messages == []
        back.close()
        cloud.close()


def test_devices_and_a_cloud_worker_sync_orders_through_the_shipped_config(tmp_path):
    broker = shipped_broker(tmp_path / "shipped")
    catalog = tmp_path / "master.sqlite"
    products = make_catalog(catalog)
    url = f"mqtts://localhost:{broker.port}"
    with broker, cloud_worker(url, catalog, db=tmp_path / "cloud.sqlite", client_id="cloud-worker-x",
                              username="cloud-1", password=USERS["cloud-1"], ca_file=str(broker.tls_ca)) as cloud:
        for device in ("dev-a", "dev-b"):
            outbox = Outbox(tmp_path / device / "outbox.sqlite")
            keys = confirm_orders(outbox, products, 3, seed=len(device))
            client = device_client(outbox, url, device, username=device, password=USERS[device],
                                   ca_file=str(broker.tls_ca))
            assert client.run_until_settled(30), broker.log()
            assert_exactly_once(outbox, cloud.ingest.store, device, keys, complete=False)
            outbox.close()
