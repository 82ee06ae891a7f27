"""The CLIs as a user runs them: `edge orders list|sync|cancel`, `cloud serve`, `cloud orders list`."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from edge.orders import Outbox
from tests.brokers import Mosquitto
from tests.conftest import REPO
from tests.orders_rig import confirm_orders, device_env, make_catalog, postgres_database


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "master.sqlite"
    return path, make_catalog(path)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


class CloudProcess:
    """`python -m cloud serve ... --json` in the background; waits for its "ready" line."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOICESHOP_")}
        self.proc = subprocess.Popen([sys.executable, "-m", "cloud", "serve", *args, "--json"], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.ready = self._line(60)
        assert self.ready.get("event") == "ready", self.ready

    def _line(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if readable:
                line = self.proc.stdout.readline()
                if line:
                    return json.loads(line)
            if self.proc.poll() is not None:
                break
        self.proc.kill()
        raise AssertionError(f"cloud serve gave no JSON line: {self.proc.stderr.read()[-3000:]}")

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        record = self._line(30)
        assert self.proc.wait(30) == 0
        return record


def test_list_is_json_lines_and_empty_when_no_orders(cli, tmp_path, catalog):
    empty = cli("edge", "orders", "list", "--json", env=device_env(tmp_path / "device"))
    assert empty.returncode == 0 and empty.stdout == ""
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    keys = confirm_orders(outbox, catalog[1], 3)
    outbox.close()
    listed = cli("edge", "orders", "list", "--json", env=device_env(tmp_path / "device"))
    assert listed.returncode == 0, listed.stderr
    records = json_lines(listed.stdout)
    assert [r["key"] for r in records] == keys[::-1] and {r["state"] for r in records} == {"confirmed"}
    assert all(r["lines"] and r["total_cents"] > 0 for r in records)
    human = cli("edge", "orders", "list", env=device_env(tmp_path / "device"))
    assert human.returncode == 0 and human.stdout.count("confirmed") == 3


def test_db_is_the_device_data_dir(cli, tmp_path, catalog):
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    keys = confirm_orders(outbox, catalog[1], 2)
    outbox.close()
    env = device_env(tmp_path / "elsewhere")
    for args in (("--db", str(tmp_path / "device"), "list"), ("list", "--db", str(tmp_path / "device"))):
        listed = cli("edge", "orders", *args, "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert [r["key"] for r in json_lines(listed.stdout)] == keys[::-1]
    assert not (tmp_path / "elsewhere").exists()


def test_sync_without_a_broker_is_a_clear_error(cli, tmp_path):
    result = cli("edge", "orders", "sync", "--once", env=device_env(tmp_path / "device"))
    assert result.returncode == 2 and "no broker configured" in result.stderr and "Traceback" not in result.stderr


def test_cancel_from_the_cli(cli, tmp_path, catalog):
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    confirm_orders(outbox, catalog[1], 1)
    order_id = outbox.list()[0].id
    outbox.close()
    done = cli("edge", "orders", "cancel", str(order_id), "--json", env=device_env(tmp_path / "device"))
    assert done.returncode == 0 and json.loads(done.stdout)["state"] == "cancelled"
    missing = cli("edge", "orders", "cancel", "999", env=device_env(tmp_path / "device"))
    assert missing.returncode == 2 and "no order with id 999" in missing.stderr


def test_sync_once_against_cloud_serve_and_cloud_orders_list(cli, tmp_path, catalog):
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    keys = confirm_orders(outbox, catalog[1], 12)
    outbox.close()
    db = tmp_path / "cloud.sqlite"
    with Mosquitto(tmp_path / "mosquitto") as broker:
        cloud = CloudProcess("--broker", broker.url, "--db", str(db), "--catalog", str(catalog[0]),
                             "--client-id", "cloud-cli", "--ship-after", "-1")
        assert cloud.ready["protocol"] == "5" and cloud.ready["shared"]
        synced = cli("edge", "orders", "sync", "--once", "--timeout", "60", "--json",
                     env=device_env(tmp_path / "device", broker.url))
        assert synced.returncode == 0, synced.stderr[-3000:]
        [report] = json_lines(synced.stdout)
        assert report["settled"] and report["counts"]["acked"] == 12 and report["protocol"] == "5"
        stopped = cloud.stop()
    assert stopped["event"] == "stopped" and stopped["stored"] == 12 and stopped["dropped"] == 0
    listed = cli("cloud", "orders", "list", "--db", str(db), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json_lines(listed.stdout)
    assert sorted(r["key"] for r in rows) == sorted(keys)
    assert all(r["status"] == "accepted" and r["device_id"] == "dev-1" and r["lines"] for r in rows)
    accepted = cli("cloud", "orders", "list", "--db", str(db), "--status", "shipped", "--json")
    assert accepted.returncode == 0 and accepted.stdout == ""


def test_cloud_serve_with_an_embedded_broker(cli, tmp_path, catalog):
    outbox = Outbox(tmp_path / "device" / "outbox.sqlite")
    confirm_orders(outbox, catalog[1], 3)
    outbox.close()
    cloud = CloudProcess("--broker", "embedded", "--db", str(tmp_path / "cloud.sqlite"), "--catalog",
                         str(catalog[0]), "--client-id", "cloud-embedded")
    try:
        assert cloud.ready["protocol"] == "3.1.1" and not cloud.ready["shared"]
        synced = cli("edge", "orders", "sync", "--once", "--timeout", "60", "--json",
                     env=device_env(tmp_path / "device", cloud.ready["broker"]))
        assert synced.returncode == 0, synced.stderr[-3000:]
        assert json_lines(synced.stdout)[0]["counts"]["acked"] == 3
    finally:
        stopped = cloud.stop()
    assert stopped["stored"] == 3


def test_cloud_orders_list_on_postgres(cli, tmp_path):
    with postgres_database() as dsn:
        empty = cli("cloud", "orders", "list", "--pg", dsn, "--json")
        assert empty.returncode == 0 and empty.stdout == ""
    bad = cli("cloud", "orders", "list", "--pg", "postgresql://nobody@127.0.0.1:1/none", "--json")
    assert bad.returncode == 2 and bad.stdout == "" and "cannot open the order store" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cloud_serve_refuses_a_missing_catalog(cli, tmp_path):
    result = cli("cloud", "serve", "--broker", "mqtt://127.0.0.1:1", "--db", str(tmp_path / "c.sqlite"),
                 "--catalog", str(tmp_path / "nope.sqlite"))
    assert result.returncode == 2 and "no catalog at" in result.stderr and "Traceback" not in result.stderr
