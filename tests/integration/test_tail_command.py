"""``hotline tail`` against the real broker: the newest records with ``--last``, text that
is not JSON shown as text, and a clear error for a topic that does not exist.

Before, ``tail`` only read from the beginning (the README's "publish with kcat, then tail"
showed the oldest demo appeal, not the one just published), printed WeChat XML as base64,
and said "no records" with exit 0 for a misspelt topic.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from stack.topic_admin import ensure_topics

pytestmark = pytest.mark.integration


def _tail(bootstrap: str, prefix: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOTLINE_KAFKA_BOOTSTRAP": bootstrap, "HOTLINE_TOPIC_PREFIX": prefix}
    return subprocess.run(
        [sys.executable, "-m", "cli", "tail", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def test_tail_last_shows_the_newest_records_across_partitions(kafka_bootstrap):
    prefix = f"it-tail-{uuid.uuid4().hex[:8]}."
    topic = f"{prefix}appeals.received"
    await ensure_topics(kafka_bootstrap, [topic], 3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        base = 1_700_000_000_000
        values = [orjson.dumps({"n": i, "title": "路灯坏了"}) for i in range(30)]
        values.append("<xml><Content><![CDATA[路灯坏了]]></Content></xml>".encode())
        for i, value in enumerate(values):  # spread over the partitions, ordered in time
            await producer.send_and_wait(
                topic, value=value, key=f"k{i}".encode(), timestamp_ms=base + 10 * i
            )
        await producer.stop()

        newest = _tail(kafka_bootstrap, prefix, "appeals.received", "--limit", "3", "--last")
        assert newest.returncode == 0, newest.stderr
        shown = [orjson.loads(line)["value"] for line in newest.stdout.splitlines()]
        assert shown == [
            {"n": 28, "title": "路灯坏了"},
            {"n": 29, "title": "路灯坏了"},
            {"text": "<xml><Content><![CDATA[路灯坏了]]></Content></xml>"},
        ]
        every = _tail(kafka_bootstrap, prefix, "appeals.received", "--limit", "31", "--last")
        assert every.returncode == 0, every.stderr
        lines = [orjson.loads(line) for line in every.stdout.splitlines()]
        assert len(lines) == 31, every.stderr
        assert len({line["partition"] for line in lines}) == 3

        oldest = _tail(kafka_bootstrap, prefix, "appeals.received", "--limit", "2")
        assert oldest.returncode == 0, oldest.stderr
        assert len(oldest.stdout.splitlines()) == 2

        missing = _tail(kafka_bootstrap, prefix, "appeals.recieved")
        assert missing.returncode == 2
        assert f"no topic {prefix}appeals.recieved" in missing.stderr
    finally:
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()
