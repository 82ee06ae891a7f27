"""Faults with a real Mosquitto: after each, the cloud holds every confirmed order exactly once.

- the broker is killed (SIGKILL) in the middle of a flush and restarted on the same port;
- the device process is killed (SIGKILL) while it publishes, then restarted;
- the link is cut under the device by a TCP proxy, several times during one flush.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from cloud.serve import Store
from edge.orders import Outbox
from tests.brokers import Mosquitto, TcpProxy, wait_for
from tests.conftest import REPO
from tests.orders_rig import (
    assert_exactly_once,
    cloud_worker,
    device_client,
    device_env,
    make_catalog,
    prepare_outbox,
)

pytestmark = pytest.mark.broker


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as mq:
        yield mq


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "master.sqlite"
    return path, make_catalog(path)


def stored(store: Store) -> int:
    return len(store.keys())


def test_broker_killed_mid_flush_and_restarted(broker, catalog, tmp_path):
    keys = prepare_outbox(tmp_path / "device" / "outbox.sqlite", catalog[1], 1000)
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite") as cloud:
        client = device_client(outbox, broker.url, ack_timeout=2.0, max_inflight=20)
        client.start()
        wait_for(lambda: stored(cloud.ingest.store) >= 100, 30, "the flush to be under way")
        broker.kill()
        acked_at_kill = outbox.counts()["acked"]
        assert acked_at_kill < 1000, "the flush finished before the broker was killed"
        broker.start()
        wait_for(lambda: outbox.counts()["acked"] == 1000, 90, "every order acked after the restart")
        client.stop()
        assert client.stats.disconnects >= 1 and client.stats.connects >= 2
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
    outbox.close()


def test_device_process_killed_mid_publish_and_restarted(broker, catalog, tmp_path):
    keys = prepare_outbox(tmp_path / "device" / "outbox.sqlite", catalog[1], 1500)
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    env = device_env(tmp_path / "device", broker.url, ack_timeout_seconds="2", max_inflight="20")
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite") as cloud:
        device = subprocess.Popen([sys.executable, "-m", "edge", "orders", "sync"], cwd=REPO, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: stored(cloud.ingest.store) >= 100 or device.poll() is not None, 60,
                     "the device process to be publishing")
            assert device.poll() is None, device.stderr.read().decode()[-2000:] if device.stderr else ""
        finally:
            device.send_signal(signal.SIGKILL)
            device.wait(10)
        counts = outbox.counts()
        assert counts["acked"] < 1500, "the device finished before it was killed"
        restarted = subprocess.run([sys.executable, "-m", "edge", "orders", "sync", "--once", "--timeout", "90",
                                    "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=150)
        assert restarted.returncode == 0, restarted.stderr[-3000:]
        report = json.loads(restarted.stdout)
        assert report["settled"] and report["counts"]["acked"] == 1500
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
    outbox.close()


def test_connection_cut_by_a_proxy_during_the_flush(broker, catalog, tmp_path):
    keys = prepare_outbox(tmp_path / "device" / "outbox.sqlite", catalog[1], 1000)
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    proxy = TcpProxy(broker.port)
    with cloud_worker(broker.url, catalog[0], db=tmp_path / "cloud.sqlite") as cloud:
        client = device_client(outbox, proxy.url, ack_timeout=2.0, max_inflight=20)
        client.start()
        for step in (1, 2, 3):
            wait_for(lambda step=step: stored(cloud.ingest.store) >= 150 * step, 60, f"progress before cut {step}")
            wait_for(lambda: proxy.connections() > 0, 30, "the device to be connected")
            assert proxy.cut() >= 1
        wait_for(lambda: outbox.counts()["acked"] == 1000, 90, "every order acked after the cuts")
        client.stop()
        assert client.stats.disconnects >= 3
        assert_exactly_once(outbox, cloud.ingest.store, "dev-1", keys)
    proxy.close()
    outbox.close()
