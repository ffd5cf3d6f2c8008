"""A Redis that refuses writes (full: past ``maxmemory``) mid-stream is waited out like an
outage; an error nobody anticipated stops the worker with its batch unacknowledged.

Refused writes (``OOM command not allowed when used memory > 'maxmemory'``) crashed the
understand agent, and faust acknowledged its batch and what was buffered meanwhile:
4,804 of 8,376 appeals lost, no dead letter, after ``maxmemory`` was set low for 12 s.
Retried as a whole, a chunk also sent its dead letters again at every attempt.

The worker gets a Redis of its own (a ``redis-server`` on a free loopback port, as in
``test_stop_during_redis_outage.py``), whose ``maxmemory`` is changed here: the project's
shared Redis is left alone.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections import Counter

import orjson
import pytest
import redis.asyncio as aioredis
from aiokafka import TopicPartition

from models.dead_letter import DeadLetter
from tests.integration.private_redis import publish_records
from tests.integration.raw_records import received_appeal
from tests.integration.worker_process import WorkerProcess, read_all, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]

UNDERSTAND = {"HOTLINE_WORKER_STAGES": "understand"}


def _appeals(tag: str, good: int, vague: int) -> list[tuple[str, bytes]]:
    """``(appeal_id, record)``: appeals dispatched at once, and appeals left for review."""
    out = []
    for n in range(good):
        a = received_appeal(f"MB-{tag}-g{n}", "A7县学校乱收费",
                            f"A7县某中学向学生收取补课费，每人每学期{800 + n}元，教育局请查处。")  # fmt: skip
        out.append((a.appeal_id, a.dumps()))
    for n in range(vague):
        a = received_appeal(f"MB-{tag}-v{n}", "咨询", f"请问一下这个事情怎么办（第{n}次）")
        out.append((a.appeal_id, a.dumps()))
    return out


#: Records that are no appeal: dead-lettered by the understand stage.
BAD = [b"{not json", orjson.dumps({"appeal_id": "x"})]


async def _wait_for_log(w: WorkerProcess, texts: tuple[str, ...], timeout: float = 30.0) -> None:
    """Until one of ``texts`` is in the worker's log."""
    deadline = time.monotonic() + timeout
    while not any(t in w.log_text() for t in texts):
        assert time.monotonic() < deadline, f"none in the worker's log: {texts}"
        await asyncio.sleep(0.2)


async def test_redis_refusing_writes_mid_stream_loses_no_appeal_and_sends_nothing_twice(
    make_private_worker, private_redis
):
    w = await make_private_worker(private_redis.url, UNDERSTAND)
    boot, received = w.bootstrap, w.topic("appeals.received")
    outcomes = [w.topic("assignments.all"), w.topic("appeals.review")]
    await asyncio.to_thread(w.start)
    redis = aioredis.Redis.from_url(private_redis.url)
    try:
        # the stream runs: a first lot is done as usual
        before = _appeals("before", good=6, vague=2)
        await publish_records(boot, [(received, aid.encode(), v) for aid, v in before])
        await wait_for(boot, outcomes, lambda rs: {a for a, _ in before} <= _keys(rs), 60)

        # Redis full: every write refused (noeviction), reads still answered
        await redis.config_set("maxmemory", "1")
        during = _appeals("during", good=20, vague=8)
        # a review case first: its batch meets the full Redis when it parks the case
        records = [(received, aid.encode(), v) for aid, v in during[-1:] + during[:-1]]
        records[3:3] = [(received, None, BAD[0]), (received, None, BAD[1])]
        records[20:20] = [(received, None, BAD[0]), (received, None, BAD[1])]
        meta = await publish_records(boot, records)
        bad = {
            (m.partition, m.offset) for m, (_, k, _) in zip(meta, records, strict=True) if k is None
        }
        # the batch meets the full Redis (formerly the agent crashed: "Crashed reason=")
        await _wait_for_log(w, ("Redis refusing writes (OOM)", "Crashed reason="))
        await asyncio.sleep(4)  # a few retries
        await redis.config_set("maxmemory", "0")

        # every appeal has exactly one outcome: dispatched or waiting for review
        ids = {a for a, _ in before + during}
        seen = await wait_for(boot, outcomes, lambda rs: ids <= _keys(rs), 60)
        await asyncio.sleep(2)  # anything sent twice would be there by now
        seen = await read_all(boot, outcomes)
        twice = {k: n for k, n in Counter(r.key.decode() for r in seen).items() if n > 1}
        assert not twice, f"appeals with more than one outcome: {twice}"
        for aid, _ in during:
            if "-v" in aid:
                assert await redis.exists(f"{w.prefix}review:{aid}"), f"{aid} not parked"

        # each record that is no appeal dead-lettered once, and counted once
        await _lettered_once(w, redis, bad, "unknown.dead_lettered")
    finally:
        await redis.aclose()
    log = w.log_text()
    assert "Crashed" not in log, log[-3000:]
    assert "Redis refusing writes (OOM) during understand (review parking)" in log
    assert "retrying in" in log and "nothing acknowledged" in log


async def _lettered_once(w: WorkerProcess, redis, bad: set, counter: str) -> None:
    """Each record of ``bad`` (partition, offset) has one dead letter, and ``counter`` of
    the intake counters says as many."""
    letters = await read_all(w.bootstrap, w.topic("deadletter"))
    where = Counter(
        (d.source_partition, d.source_offset) for d in map(DeadLetter.loads, (r.value for r in letters))
    )  # fmt: skip
    assert set(where) == bad and set(where.values()) == {1}, where
    assert int(await redis.hget(f"{w.prefix}intake:counters", counter)) == len(bad)


def _keys(records) -> set[str]:
    return {r.key.decode() for r in records}


async def test_an_unexpected_redis_error_stops_the_worker_and_its_successor_redoes_the_batch(
    make_private_worker, private_redis
):
    """A key of the wrong type (no outage, no bad record): the worker stops, non-zero,
    with the appeal's offset not committed; restarted once the key is mended, it does it."""
    w = await make_private_worker(private_redis.url, UNDERSTAND)
    boot, received = w.bootstrap, w.topic("appeals.received")
    await asyncio.to_thread(w.start)
    redis = aioredis.Redis.from_url(private_redis.url)
    try:
        await redis.set(f"{w.prefix}review-waiting", "not the waiting zset")
        (aid, vague), (good_id, good) = _appeals("bug", good=0, vague=1)[0], _appeals("ok", 1, 0)[0]
        meta = await publish_records(boot, [(received, aid.encode(), vague)])
        try:
            code = await asyncio.to_thread(w.proc.wait, 60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker went on after an unexpected error:\n{w.log_text()[-3000:]}")
        log = w.log_text()
        assert code != 0, log[-3000:]
        assert "understand failed unexpectedly (ResponseError: " in log, log[-3000:]
        assert "WRONGTYPE" in log and "not acknowledged" in log, log[-3000:]
        assert "Restarting dead <Agent" not in log, log[-3000:]
        tp = TopicPartition(meta[0].topic, meta[0].partition)
        assert (await w.committed_offsets("hotline12345-understand")).get(tp, -1) <= meta[
            0
        ].offset  # never acknowledged

        # mended, a new worker does the appeal (and the stream goes on)
        await redis.delete(f"{w.prefix}review-waiting")
        w.stop()
        w.log.rename(w.log.with_suffix(".first.log"))
        await asyncio.to_thread(w.start)
        await publish_records(boot, [(received, good_id.encode(), good)])
        await wait_for(boot, w.topic("appeals.review"), lambda rs: aid in _keys(rs), 60)
        await wait_for(boot, w.topic("assignments.all"), lambda rs: good_id in _keys(rs), 30)
        assert await redis.exists(f"{w.prefix}review:{aid}")
    finally:
        await redis.aclose()


async def test_intake_dead_letters_each_bad_record_once_while_redis_refuses_writes(
    make_private_worker, private_redis
):
    """Bug: an intake batch was retried whole while Redis was full, and its dead letters
    were sent again at each attempt (nine copies of one bad record after 45 s), while the
    counter said one."""
    from tests.integration.raw_records import mailbox_json

    w = await make_private_worker(private_redis.url, {"HOTLINE_WORKER_STAGES": "intake"})
    boot, raw = w.bootstrap, w.topic("raw.mailbox")
    await asyncio.to_thread(w.start)
    redis = aioredis.Redis.from_url(private_redis.url)
    try:
        await redis.config_set("maxmemory", "1")
        good = [mailbox_json(f"MB-full-{n}", "A3区路灯坏了", f"A市A3区某小区{n}栋门口路灯坏了一个月")
                for n in range(12)]  # fmt: skip
        records = [(raw, b"k", v) for v in [b"{not json", *good[:6], b"[]", *good[6:], b"{"]]
        meta = await publish_records(boot, records)  # one key: one partition, one batch
        bad = {(m.partition, m.offset) for m, (_, _, v) in zip(meta, records, strict=True)
               if v not in good}  # fmt: skip
        await _wait_for_log(w, ("Redis refusing writes (OOM)", "Crashed reason="))
        await asyncio.sleep(4)  # a few retries
        await redis.config_set("maxmemory", "0")
        await wait_for(boot, w.topic("appeals.received"), lambda rs: len(rs) >= len(good), 60)
        await asyncio.sleep(2)  # anything sent twice would be there by now
        await _lettered_once(w, redis, bad, "mailbox.dead_lettered")
    finally:
        await redis.aclose()
    log = w.log_text()
    assert "Crashed" not in log, log[-3000:]
    assert "retrying in" in log and "nothing acknowledged" in log
