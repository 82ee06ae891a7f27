"""Test helpers: a real Mosquitto per test (own port, config, users, ACL, TLS) and a TCP proxy to cut links.

Everything waits on conditions (a port answering, a predicate turning true) rather than sleeping a
fixed time, so the tests are as fast as the machine allows and fail with a message when it stalls.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud.broker import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition",
             interval: float = 0.02) -> object:
    """Poll predicate until truthy; AssertionError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# -- TLS ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_tls(directory: Path) -> TlsFiles:
    """A throw-away CA and a server certificate for localhost / 127.0.0.1, signed by it (PEM files)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "voiceshop test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return files


# -- Mosquitto ---------------------------------------------------------------------------------------

DEVICE_ACL = """\
# Devices: only topics under their own id (%u = the MQTT username), and the catalog deltas.
pattern write voiceshop/v1/devices/%u/orders
pattern write voiceshop/v1/devices/%u/presence
pattern read voiceshop/v1/devices/%u/acks
pattern read voiceshop/v1/devices/%u/status
pattern read voiceshop/v1/catalog/deltas
"""


class Mosquitto:
    """A Mosquitto broker on a free port with its own config; kill -9 and restart keep port and state dir."""

    def __init__(self, workdir: Path, *, users: dict[str, str] | None = None, acl: str | None = None,
                 tls: TlsFiles | None = None, cloud_users: tuple[str, ...] = ("cloud",)) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.proc: subprocess.Popen[bytes] | None = None
        lines = [
            "per_listener_settings false",
            "user root",
            f"persistence true\npersistence_location {self.dir}/\nautosave_interval 1",
            "max_queued_messages 200000",
            "max_inflight_messages 100",
            f"log_dest file {self.dir}/mosquitto.log",
            "log_type error\nlog_type warning\nlog_type notice",
            f"listener {self.port} 127.0.0.1",
        ]
        if tls:
            lines += [f"listener {self.tls_port} 127.0.0.1", f"cafile {tls.ca}", f"certfile {tls.cert}",
                      f"keyfile {tls.key}"]
        if users:
            passwd = self.dir / "passwd"
            passwd.write_text("")
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        if acl is not None:
            cloud = "".join(f"user {u}\ntopic readwrite voiceshop/v1/#\n" for u in cloud_users)
            (self.dir / "acl").write_text(cloud + "\n" + acl)
            lines.append(f"acl_file {self.dir / 'acl'}")
        self.config = self.dir / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"mqtts://localhost:{self.tls_port}"

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        try:
            wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 15, "mosquitto to listen")
        except AssertionError:
            self.kill()
            raise
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            raise RuntimeError(f"mosquitto exited at start ({self.proc.returncode}): {err}\n{self.log()}")
        return self

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, state only as of the last autosave."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        self.kill()
        self.start()

    def log(self) -> str:
        path = self.dir / "mosquitto.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# -- a raw client watching the wire ------------------------------------------------------------------


class RawClient:
    """A plain paho MQTT 5 client seeing the wire from outside: records CONNACK, SUBACK and messages."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", username: str = "", password: str = "",
                 ca_file: str = "") -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.connack: list[int] = []
        self.suback: list[list[int]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        if ca_file:
            self.client.tls_set(ca_certs=ca_file)
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self.connack.append(rc.value)
        self.client.on_subscribe = lambda _c, _u, _m, rcs, _p: self.suback.append([r.value for r in rcs])
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, bytes(m.payload)))
        self.client.connect(host, port)
        self.client.loop_start()
        wait_for(lambda: self.connack, 10, f"CONNACK for {username or 'an anonymous client'}")

    @property
    def topics(self) -> list[str]:
        return [topic for topic, _payload in self.messages]

    def subscribe(self, *topics: str) -> list[int]:
        """Subscribe with QoS 1 and wait for the SUBACK; returns its reason codes."""
        before = len(self.suback)
        self.client.subscribe([(topic, 1) for topic in topics])
        wait_for(lambda: len(self.suback) > before, 10, "SUBACK")
        return self.suback[-1]

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish with QoS 1 and wait until the broker has acknowledged it."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- TCP proxy ---------------------------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; cut() severs every live connection (a tunnel, a dead link)."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._closed = False
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                if (a, b) in self._pairs:
                    self._pairs.remove((a, b))

    def cut(self) -> int:
        """Reset every connection through the proxy now; returns how many were cut."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    sock.shutdown(socket.SHUT_RDWR)
        self.cuts += len(pairs)
        return len(pairs)

    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut()
