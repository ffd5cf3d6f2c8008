"""A WeChat session sent again after it closed makes no new appeal, and is counted once.

WeChat resends a message it got no answer for, and a replay (``hotline demo`` run twice)
sends whole sessions again. Their messages are skipped; the session's first message (the
one its appeal is named after) counts the appeal as ``wechat.resent``, so the demo and
operators can account for every session.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from intake.identity import appeal_id
from models.appeal import Appeal
from stores.intake_counters import IntakeCounters
from tests.integration.raw_records import wechat_xml
from tests.integration.worker_process import publish, read_all, wait_for

pytestmark = pytest.mark.integration

WORKER_ENV = {"HOTLINE_WORKER_STAGES": "intake"}


async def test_a_session_sent_again_is_skipped_and_counted_once(worker, redis_url):
    now = int(time.time())
    sender = "oWX-resent-1"
    session = [
        wechat_xml(sender, 9901, now - 30, "text", Content="小区门口的路灯坏了"),
        wechat_xml(sender, 9902, now - 25, "text", Content="已经一个星期了"),
        wechat_xml(sender, 9903, now - 20, "text", Content="请尽快修"),
    ]
    aid = appeal_id("wechat", "9901")
    await publish(worker.bootstrap, worker.topic("raw.wechat"), session)
    await wait_for(
        worker.bootstrap, worker.topic("appeals.received"),
        lambda rs: aid in {r.key.decode() for r in rs}, timeout=30,
    )  # fmt: skip
    client = aioredis.from_url(redis_url)
    counters = IntakeCounters(client, key=f"{worker.prefix}intake:counters")
    assert (await counters.read()).get("wechat.resent", 0) == 0

    await publish(worker.bootstrap, worker.topic("raw.wechat"), session)  # all sent again
    deadline = time.monotonic() + 20
    while (await counters.read()).get("wechat.resent", 0) < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(4)  # twice the idle period: a session opened by them would be out
    appeals = [Appeal.loads(r.value) for r in await read_all(
        worker.bootstrap, worker.topic("appeals.received"))]  # fmt: skip
    assert [a.appeal_id for a in appeals] == [aid]
    counts = await counters.read()
    assert counts.get("wechat.resent") == 1  # one appeal resent, not three messages
    assert counts.get("wechat.normalised") == 1
    await client.aclose()
