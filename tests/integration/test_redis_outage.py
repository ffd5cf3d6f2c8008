"""A Redis outage holds records back; it never loses them (real broker, worker and Redis).

The worker runs every stage, so intake (de-duplication, contacts), understand (review
parking) and the SLA clocks all meet the outage."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import redis.asyncio as aioredis

from config.sla import SlaSettings
from config.stack import StackSettings
from intake.identity import appeal_id
from sla.redis_store import SlaStore
from stack import redis as stack_redis
from stack.topic_admin import ensure_topics
from streams.topics import SPECS
from tests.integration.worker_process import WorkerProcess, publish, read_all, wait_for

pytestmark = pytest.mark.integration


def _mailbox(n: int) -> bytes:
    return orjson.dumps({"message_id": f"MB-outage-{n}", "user": "U1", "subject": "A市A3区噪音",
                         "time": "2019/4/25 9:32:09", "detail": "楼下KTV每晚噪音扰民，请处理。"})  # fmt: skip


async def test_records_published_while_redis_is_down_come_through_when_it_returns(
    kafka_bootstrap, redis_url, tmp_path
):
    proc = WorkerProcess(kafka_bootstrap, redis_url, tmp_path)
    await ensure_topics(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    proc.start()
    stack = StackSettings()
    received, raw = proc.topic("appeals.received"), proc.topic("raw.mailbox")
    ids = {n: appeal_id("mailbox", f"MB-outage-{n}") for n in (1, 2, 3)}

    def keys(records):
        return {r.key.decode() for r in records}

    try:
        await publish(kafka_bootstrap, raw, [_mailbox(1)])
        await wait_for(kafka_bootstrap, received, lambda rs: ids[1] in keys(rs))
        stack_redis.stop(stack)
        try:
            await publish(kafka_bootstrap, raw, [_mailbox(2), _mailbox(3)])
            await asyncio.sleep(4)  # the worker tries, fails on Redis, and waits
            assert keys(await read_all(kafka_bootstrap, received)) == {ids[1]}
            assert proc.proc.poll() is None  # still running
        finally:
            stack_redis.start(stack)
        await wait_for(kafka_bootstrap, received, lambda rs: set(ids.values()) <= keys(rs))
        routed = [proc.topic("assignments.all"), proc.topic("appeals.review")]
        await wait_for(kafka_bootstrap, routed, lambda rs: set(ids.values()) <= keys(rs))
        assigned = keys(await read_all(kafka_bootstrap, proc.topic("assignments.all")))
        client = aioredis.Redis.from_url(redis_url)
        try:
            store = SlaStore(client, settings=SlaSettings(), prefix=f"{proc.prefix}sla:")
            clocks = await store.load_many(sorted(assigned))
        finally:
            await client.aclose()
        assert set(clocks) == assigned and assigned  # every assigned case has its clocks
        assert await read_all(kafka_bootstrap, proc.topic("deadletter")) == []
        assert "Redis unreachable during mailbox intake" in proc.log_text()
    finally:
        proc.stop()
        await proc.delete_topics()
