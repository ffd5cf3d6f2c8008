"""A ``redis-server`` of a test's own, for tests that stop Redis or change its settings:
the project's shared Redis is left alone. Fixtures in ``conftest.py``."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer

#: A restarted worker joins its group at once: the stopped one left it, or a killed one's
#: member is given up after 6 s (the broker's minimum) instead of faust's 60 s.
FAST_GROUP = {"BROKER_SESSION_TIMEOUT": "6", "BROKER_REBALANCE_TIMEOUT": "6",
              "BROKER_HEARTBEAT_INTERVAL": "1"}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A ``redis-server`` of this test's own, without persistence (a restart starts empty)."""

    def __init__(self, directory: Path):
        self.dir, self.port = directory, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


async def publish_records(bootstrap: str, records: list[tuple[str, bytes | None, bytes]]) -> list:
    """Send ``(topic, key, value)`` records; their metadata (partition, offset) in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        return [await producer.send_and_wait(t, value=v, key=k) for t, k, v in records]
    finally:
        await producer.stop()
