"""A worker told to stop (SIGTERM) while Redis is unreachable stops, and loses nothing.

Batches that meet a Redis outage wait for it (``streams/outages.py``) with their offsets
unacknowledged. faust's shutdown waits for every record in hand to be acknowledged
(``stream_wait_empty``), so the worker used to wait for Redis forever: ``systemctl stop``
or ``kill`` hung. It must now stop within a bound, committing none of the records whose
effects were not applied, and its successor (Redis back) must do them.

The worker gets a Redis of its own (a ``redis-server`` on a free loopback port, killed and
started again here): the project's shared Redis is left alone.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from aiokafka import TopicPartition

from intake.identity import appeal_id
from tests.integration.private_redis import publish_records
from tests.integration.raw_records import assignment_json, mailbox_json, received_appeal
from tests.integration.worker_process import WorkerProcess, read_all, sla_store, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]

#: How long a worker may take to stop after SIGTERM while Redis is away.
STOP_BOUND_S = 30.0


def _keys(records) -> set[str]:
    return {r.key.decode() for r in records}


async def _wait_for_log(w: WorkerProcess, texts: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(t in w.log_text() for t in texts):
            return
        await asyncio.sleep(0.2)
    missing = [t for t in texts if t not in w.log_text()]
    raise AssertionError(f"not in the worker's log after {timeout:.0f}s: {missing}")


async def test_sigterm_while_redis_is_down_stops_the_worker_and_loses_nothing(
    make_private_worker, private_redis
):
    w = await make_private_worker(private_redis.url)
    boot = w.bootstrap
    await asyncio.to_thread(w.start)

    # the worker is up, its partitions assigned, and it has used Redis
    first = appeal_id("mailbox", "MB-stop-0")
    await publish_records(boot, [(w.topic("raw.mailbox"), None,
                           mailbox_json("MB-stop-0", "A市A3区噪音", "楼下KTV每晚噪音扰民。"))])  # fmt: skip
    await wait_for(boot, w.topic("appeals.received"), lambda rs: first in _keys(rs))

    private_redis.kill()
    # records for three agents that each need Redis: intake (de-duplication, contacts),
    # understand (a vague appeal is parked for review), SLA (an assignment's clocks)
    mailbox = {n: mailbox_json(f"MB-stop-{n}", "A市A3区噪音", f"楼下KTV每晚噪音扰民，第{n}次反映。")
               for n in range(1, 7)}  # fmt: skip
    intake_ids = {appeal_id("mailbox", f"MB-stop-{n}") for n in mailbox}
    vague = received_appeal("MB-stop-vague", "咨询", "请问一下这个事情怎么办")
    assigned_id = appeal_id("mailbox", "MB-stop-assigned")
    assignment = assignment_json(assigned_id, "a3.zjj", datetime.now(ZoneInfo("Asia/Shanghai")))
    held = await publish_records(boot, [
        *((w.topic("raw.mailbox"), None, value) for value in mailbox.values()),
        (w.topic("appeals.received"), vague.appeal_id.encode(), vague.dumps()),
        (w.topic("assignments.all"), assigned_id.encode(), assignment),
    ])  # fmt: skip
    # each agent has its batch in hand and waits for Redis
    await _wait_for_log(w, ["Redis unreachable during mailbox intake",
                            "Redis unreachable during understand",
                            "Redis unreachable during SLA assignments"])  # fmt: skip

    stopped_at = time.monotonic()
    w.proc.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.to_thread(w.proc.wait, STOP_BOUND_S)
    except subprocess.TimeoutExpired:
        w.proc.kill()
        await asyncio.to_thread(w.proc.wait)
        pytest.fail(f"worker still running {STOP_BOUND_S:.0f}s after SIGTERM with Redis down; "
                    f"log tail:\n{w.log_text()[-3000:]}")  # fmt: skip
    took = time.monotonic() - stopped_at
    log = w.log_text()
    assert code == 0, f"worker exited with {code} after {took:.1f}s:\n{log[-3000:]}"
    assert "stopping while Redis is unreachable" in log, log[-3000:]
    assert "will be redone after restart" in log, log[-3000:]

    # at-least-once: no offset of a record held back by the outage was committed
    committed = await w.committed_offsets()
    for meta in held:
        tp = TopicPartition(meta.topic, meta.partition)
        assert committed.get(tp, -1) <= meta.offset, (
            f"{tp.topic}/{tp.partition}: offset {committed[tp]} committed past record "
            f"{meta.offset}, which was never applied"
        )

    # Redis back (empty: no persistence), a new worker on the same group: all redone
    private_redis.start()
    w.stop()  # closes the first run's log
    w.log.rename(w.log.with_suffix(".first.log"))
    await asyncio.to_thread(w.start)
    await wait_for(boot, w.topic("appeals.received"), lambda rs: intake_ids <= _keys(rs), 60)
    routed = [w.topic("assignments.all"), w.topic("appeals.review")]
    await wait_for(boot, routed, lambda rs: intake_ids <= _keys(rs), 60)
    await wait_for(boot, w.topic("appeals.review"), lambda rs: vague.appeal_id in _keys(rs), 30)
    assigned = (_keys(await read_all(boot, w.topic("assignments.all"))) & intake_ids) | {
        assigned_id
    }

    client = aioredis.Redis.from_url(private_redis.url)
    store = sla_store(w, private_redis.url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            clocks = await store.load_many(sorted(assigned))
            parked = await client.exists(f"{w.prefix}review:{vague.appeal_id}")
            if set(clocks) == assigned and parked:
                break
            await asyncio.sleep(0.5)
        assert set(clocks) == assigned, f"no SLA clocks for {sorted(assigned - set(clocks))}"
        assert parked, f"{vague.appeal_id}: review requested, not parked"
    finally:
        await store.aclose()
        await client.aclose()
    assert await read_all(boot, w.topic("deadletter")) == []
