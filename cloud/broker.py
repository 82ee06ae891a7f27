"""An in-process MQTT broker (amqtt) for laptops: `edge.simulate` and `make demo` need nothing installed.

amqtt speaks MQTT 3.1.1 only, so clients fall back from 5 (the sync client and the cloud service do
this themselves) and there are no shared subscriptions: one cloud worker. It runs its own asyncio
loop in a daemon thread so synchronous code can start and stop it. For anything beyond a demo, use a
real broker (Mosquitto, EMQX) with the ACL and TLS setup the tests exercise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import threading
from concurrent.futures import Future
from typing import Any

log = logging.getLogger("cloud.broker")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _broker_class() -> type:
    """amqtt's Broker, replaying only a session's own retained messages when it resumes.

    amqtt 0.12 (broker.py, on a persistent session's reconnect: `for topic in self._subscriptions`)
    replays the retained messages of every filter *any* client subscribed to. A device resuming its
    session (the simulator's second session, any reconnect) was sent the retained presence meant for
    the cloud's `devices/+/presence` and logged "dropped payload ... presence: unexpected topic".
    """
    from amqtt.broker import Broker  # imported here: only laptops running the demo need amqtt

    class OwnRetainedBroker(Broker):
        async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int],
                                                              session: Any) -> None:
            subscribers = self._subscriptions.get(subscription[0], [])
            if any(s.client_id == session.client_id for s, _qos in subscribers):
                await super()._publish_retained_messages_for_subscription(subscription, session)

    return OwnRetainedBroker


class EmbeddedBroker:
    """`with EmbeddedBroker() as broker: ... broker.url` — an anonymous amqtt broker on localhost."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: Future[None] = Future()

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        started: Future[None] = Future()
        self._thread = threading.Thread(target=self._serve, args=(started,), name="amqtt", daemon=True)
        self._thread.start()
        started.result(timeout)  # re-raises a bind failure here, in the caller's thread
        log.info("embedded amqtt broker on %s", self.url)
        return self

    def _serve(self, started: Future[None]) -> None:
        broker_class = _broker_class()

        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": 1000}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            broker = broker_class(config)
            try:
                await broker.start()
            except Exception as exc:
                started.set_exception(exc)
                return
            started.set_result(None)
            self._stop_event = asyncio.Event()
            await self._stop_event.wait()
            await broker.shutdown()

        try:
            asyncio.run(main())
        finally:
            self._stopped.set_result(None)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop_event.set)
            self._stopped.result(timeout)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m cloud.broker [--port N]`: run the embedded broker in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m cloud.broker", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    broker = EmbeddedBroker(args.host, args.port).start()
    print(broker.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
