"""A Redis or Kafka outage holds records back; it never loses them (real broker, worker and
Redis, really stopped and started again).

The worker runs every stage, so intake (de-duplication, contacts), understand (review
parking) and the SLA clocks all meet the outage."""

from __future__ import annotations

import asyncio
import re
import time
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis

from config.sla import SlaSettings
from config.stack import StackSettings
from intake.identity import appeal_id
from sla.redis_store import SlaStore
from stack import kafka as stack_kafka
from stack import redis as stack_redis
from stack.topic_admin import ensure_topics
from streams.topics import SPECS
from tests.integration.raw_records import mailbox_json, received_appeal, wechat_xml
from tests.integration.worker_process import WorkerProcess, publish, read_all, wait_for

pytestmark = pytest.mark.integration


def _mailbox(tag: str, n: int) -> bytes:
    return mailbox_json(f"MB-{tag}-{n}", "A市A3区噪音", "楼下KTV每晚噪音扰民，请处理。")


def _keys(records) -> set[str]:
    return {r.key.decode() for r in records}


@asynccontextmanager
async def _running_worker(kafka_bootstrap, redis_url, tmp_path, env=None):
    """A whole-pipeline worker on its own topics; stopped and its topics deleted after."""
    proc = WorkerProcess(kafka_bootstrap, redis_url, tmp_path, env)
    await ensure_topics(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        await proc.delete_topics_and_keys()


async def _first_record_through(proc: WorkerProcess, tag: str) -> dict[int, str]:
    """Publish record 1 and wait for it: the worker is up and its partitions assigned."""
    ids = {n: appeal_id("mailbox", f"MB-{tag}-{n}") for n in (1, 2, 3)}
    await publish(proc.bootstrap, proc.topic("raw.mailbox"), [_mailbox(tag, 1)])
    await wait_for(proc.bootstrap, proc.topic("appeals.received"), lambda rs: ids[1] in _keys(rs))
    return ids


async def _all_through_and_clocked(proc: WorkerProcess, ids: dict[int, str], redis_url: str):
    """Every record reached appeals.received and assignment or review; every assigned
    case has its SLA clocks; nothing was dead-lettered."""
    boot, wanted = proc.bootstrap, set(ids.values())
    await wait_for(boot, proc.topic("appeals.received"), lambda rs: wanted <= _keys(rs), 90)
    routed = [proc.topic("assignments.all"), proc.topic("appeals.review")]
    await wait_for(boot, routed, lambda rs: wanted <= _keys(rs), 60)
    assigned = _keys(await read_all(boot, proc.topic("assignments.all")))
    client = aioredis.Redis.from_url(redis_url)
    try:
        store = SlaStore(client, settings=SlaSettings(), prefix=f"{proc.prefix}sla:")
        clocks = await store.load_many(sorted(assigned))
    finally:
        await client.aclose()
    assert set(clocks) == assigned and assigned
    assert await read_all(boot, proc.topic("deadletter")) == []


async def test_records_published_while_redis_is_down_come_through_when_it_returns(
    kafka_bootstrap, redis_url, tmp_path
):
    stack = StackSettings()
    async with _running_worker(kafka_bootstrap, redis_url, tmp_path) as proc:
        ids = await _first_record_through(proc, "redis")
        stack_redis.stop(stack)
        try:
            await publish(kafka_bootstrap, proc.topic("raw.mailbox"),
                          [_mailbox("redis", 2), _mailbox("redis", 3)])  # fmt: skip
            await asyncio.sleep(4)  # the worker tries, fails on Redis, and waits
            received = await read_all(kafka_bootstrap, proc.topic("appeals.received"))
            assert _keys(received) == {ids[1]}
            assert proc.proc.poll() is None  # still running
        finally:
            stack_redis.start(stack)
        await _all_through_and_clocked(proc, ids, redis_url)
        assert "Redis unreachable during mailbox intake" in proc.log_text()


async def test_a_batch_whose_records_fail_while_kafka_is_down_is_sent_again(
    kafka_bootstrap, redis_url, tmp_path
):
    """The broker stays away longer than the producer retries (cut to 3 s here; 20 min by
    default), so the batch's sends fail. Without the retry the agent crashed, faust moved
    past the batch and its appeals were lost."""
    env = {"HOTLINE_PRODUCER_REQUEST_TIMEOUT_S": "3"}
    stack = StackSettings()
    async with _running_worker(kafka_bootstrap, redis_url, tmp_path, env) as proc:
        ids = await _first_record_through(proc, "kafka")
        # hold the batch on Redis, so that it is in hand when the broker goes away
        stack_redis.stop(stack)
        try:
            await publish(kafka_bootstrap, proc.topic("raw.mailbox"),
                          [_mailbox("kafka", 2), _mailbox("kafka", 3)])  # fmt: skip
            # WeChat pieces go through faust's Topic.send, which wraps the broker's errors
            wechat = wechat_xml("oWX-outage", 777001, int(time.time()), "text",
                                Content="A市A3区小区门口垃圾没人清运，臭气熏天")  # fmt: skip
            await publish(kafka_bootstrap, proc.topic("raw.wechat"), [wechat], key=b"oWX-outage")
            ids[4] = appeal_id("wechat", "777001")
            # and an appeal for understand: a vague one goes to review, whose parking in
            # Redis holds the batch after triage, with its records not yet sent
            vague = received_appeal("MB-outage-vague", "咨询", "请问一下这个事情怎么办")
            await publish(kafka_bootstrap, proc.topic("appeals.received"), [vague.dumps()],
                          key=vague.appeal_id.encode())  # fmt: skip
            ids[5] = vague.appeal_id
            await asyncio.sleep(2)
            await asyncio.to_thread(stack_kafka.stop, stack)
        finally:
            stack_redis.start(stack)
        try:
            # the batch goes on, its sends fail after 3 s, it waits: until every step said
            # so (at most the 15 s this test used to sleep; the broker's start takes longer)
            deadline = time.monotonic() + 15
            while _kafka_waits_missing(proc) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert proc.proc.poll() is None  # still running
        finally:
            await asyncio.to_thread(stack_kafka.start, stack)
        await _all_through_and_clocked(proc, ids, redis_url)
        assert not _kafka_waits_missing(proc)
        assert "Crashed" not in proc.log_text()


def _kafka_waits_missing(proc: WorkerProcess) -> list[str]:
    """The steps whose sends have not failed on the absent broker (and been waited out)
    yet, by the worker's log; the producer reports an absent broker as a timeout or as an
    unknown topic."""
    log = proc.log_text()
    return [
        step
        for step in ("mailbox intake", "wechat intake", "understand")
        if not re.search(f"Kafka unreachable (or topic missing )?during {step}", log)
    ]
