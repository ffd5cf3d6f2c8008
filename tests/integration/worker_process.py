"""A real faust worker in a subprocess, on its own topic prefix, for integration tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from redis.exceptions import ConnectionError as RedisConnectionError

from config.stack import PROJECT_ROOT
from tests.integration.redis_keys import delete_keys


def declare_next_year(path: Path) -> Path:
    """Write a calendar overrides file declaring the year after chinese-calendar's last
    (weekdays working, no holidays: no real announcement, a test fixture only)."""
    from sla.calendar import package_years

    path.write_text(f"known_years = [{package_years()[1] + 1}]\n", encoding="utf-8")
    return path


#: The worker's SLA files and calendar settings, which the tests' own stores must share.
_SLA_NAMES = (
    "HOTLINE_SLA_POLICY_FILE", "HOTLINE_SLA_CALENDAR_OVERRIDES", "HOTLINE_SLA_PROVISIONAL_YEARS",
)  # fmt: skip


def worker_sla_settings(worker: WorkerProcess):
    """The worker's :class:`config.sla.SlaSettings` (its policies and calendar), read
    without changing this process's environment, so later tests do not inherit a
    worker's declared year or test policies."""
    from config.sla import SlaSettings

    with mock.patch.dict(os.environ, {n: worker.env[n] for n in _SLA_NAMES if n in worker.env}):
        return SlaSettings()


def worker_calendar(worker: WorkerProcess):
    """The working-day calendar of the worker (its overrides file, provisional years)."""
    from sla.calendar import WorkdayCalendar, load_overrides

    settings = worker_sla_settings(worker)
    return WorkdayCalendar(load_overrides(settings.overrides_file), settings.provisional_years)


def sla_store(worker: WorkerProcess, redis_url: str):
    """An :class:`sla.redis_store.SlaStore` on the worker's keys, with its policies and
    calendar (:func:`worker_sla_settings`)."""
    from sla.redis_store import SlaStore

    settings = worker_sla_settings(worker)
    return SlaStore.from_url(
        redis_url, settings=settings, prefix=f"{worker.prefix}{settings.redis_prefix}"
    )


class WorkerProcess:
    """Starts ``python -m streams worker`` with a unique prefix and app id; stops it cleanly."""

    def __init__(
        self,
        bootstrap: str,
        redis_url: str,
        log_dir: Path,
        extra_env: dict[str, str] | None = None,
        prefix: str | None = None,
    ):
        """``prefix``: another worker's, to run on its topics and keys (a new one if None)."""
        self.bootstrap = bootstrap
        self.prefix = prefix or f"it{uuid.uuid4().hex[:8]}."
        self.log = log_dir / f"worker-{self.prefix}log"
        calendar = declare_next_year(log_dir / f"calendar-{self.prefix}toml")
        self.env = {
            **os.environ,
            "HOTLINE_TOPIC_PREFIX": self.prefix,
            "HOTLINE_KAFKA_BOOTSTRAP": bootstrap,
            "HOTLINE_REDIS_URL": redis_url,
            "HOTLINE_WEB_PORT": "0",
            "HOTLINE_WECHAT_IDLE_FLUSH_S": "2",
            "HOTLINE_WECHAT_WINDOW_S": "600",
            # reviewers' corrections from tests must not end up in the real training data
            "HOTLINE_UNDERSTAND_CORRECTIONS_PATH": str(log_dir / f"corrections-{self.prefix}csv"),
            # tests assign cases "now": their time limits must not depend on how close the
            # installed calendar's last day is (that case has its own test)
            "HOTLINE_SLA_CALENDAR_OVERRIDES": str(calendar),
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen | None = None

    def topic(self, name: str) -> str:
        return self.prefix + name

    def start(self, timeout: float = 90) -> None:
        self._log_file = open(self.log, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker", "-l", "info"],
            cwd=PROJECT_ROOT, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.proc.returncode}: {self.log.read_text()[-3000:]}"
                )
            if "[^Worker]: Ready" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.3)
        raise RuntimeError(f"worker not ready after {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:  # never started
            return
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    async def committed_offsets(self, group: str = "hotline12345") -> dict:
        """``TopicPartition`` → offset committed by ``group`` (this prefix's; by default the
        all-stages group, ``hotline12345-understand`` for an understand-only worker)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(self.prefix + group)
        finally:
            await admin.close()
        return {tp: meta.offset for tp, meta in offsets.items()}

    async def delete_topics_and_keys(self) -> None:
        """Remove every topic of this prefix (the worker's changelogs included) and every
        Redis key: test and benchmark runs otherwise pile up in the stack's Redis (400,000
        keys after a few weeks, walked by every understand worker's start-up scan)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            mine = [t for t in await admin.list_topics() if t.startswith(self.prefix)]
            if mine:
                await admin.delete_topics(mine)
        finally:
            await admin.close()
        client = aioredis.Redis.from_url(self.env["HOTLINE_REDIS_URL"], socket_timeout=10)
        try:
            await delete_keys(client, self.prefix)
        except RedisConnectionError:
            pass  # a test's own Redis, stopped by the test: thrown away with its keys
        finally:
            await client.aclose()


async def publish(
    bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None
) -> None:
    """Publish raw values in order and wait for the acknowledgements."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str | list[str], idle_ms: int = 1500) -> list:
    """Every record of ``topic`` (or of several topics) from the beginning until ``idle_ms``
    pass without one."""
    topics = [topic] if isinstance(topic, str) else topic
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    out = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=idle_ms)
            if not batch:
                return out
            for records in batch.values():
                out.extend(records)
    finally:
        await consumer.stop()


async def wait_for(bootstrap: str, topic: str, predicate, timeout: float = 40.0) -> list:
    """Re-read ``topic`` until ``predicate(records)`` holds; return the records."""
    deadline = time.monotonic() + timeout
    records: list = []
    while time.monotonic() < deadline:
        records = await read_all(bootstrap, topic, idle_ms=800)
        if predicate(records):
            return records
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting on {topic}; {len(records)} records seen")
