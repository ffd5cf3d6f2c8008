"""A WeChat session whose closing fails is dead-lettered itself, and closed (real worker).

Closing a session publishes its appeal; an unexpected error there (a bug, a record the
broker refuses, here a Redis key of the wrong type) was raised to the session agent,
which dead-lettered the *incoming* message as ``INTERNAL`` and left the failed session
in the table: every later message of its sender re-closed it, failed and was
dead-lettered in its place (WeChat letters cannot be replayed), and an idle flush failed
at every tick with nothing dead-lettered; the session never closed.
"""

from __future__ import annotations

import base64
import time

import orjson
import pytest
import redis.asyncio as aioredis

from intake.identity import appeal_id
from models.dead_letter import DeadLetter
from tests.integration.raw_records import wechat_xml
from tests.integration.worker_process import publish, read_all, wait_for

pytestmark = pytest.mark.integration

WORKER_ENV = {"HOTLINE_WORKER_STAGES": "intake"}  # idle flush after 2 s, window 600 s


def _session_letters(records) -> dict[str, DeadLetter]:
    """The worker's WeChat session letters, by the msg id of each session's first message."""
    out = {}
    for r in records:
        letter = DeadLetter.loads(r.value)
        if letter.stage == "wechat-session":
            session = orjson.loads(base64.b64decode(letter.payload_b64))
            out[session["pieces"][0]["msg_id"]] = letter
    return out


async def _break_the_seen_key(worker, redis_url: str, msg_id: int) -> None:
    """Make publishing the appeal of the session opened by ``msg_id`` fail, not as an
    outage: its de-duplication key holds a hash, and ``SET … GET`` answers WRONGTYPE."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.hset(f"{worker.prefix}seen:{appeal_id('wechat', str(msg_id))}", "x", "1")
    finally:
        await client.aclose()


async def test_a_session_that_fails_to_close_is_dead_lettered_and_its_sender_goes_on(
    worker, redis_url
):
    now = int(time.time())
    gap, idle = "oWX-closefail-gap", "oWX-closefail-idle"
    await _break_the_seen_key(worker, redis_url, 9701)
    await _break_the_seen_key(worker, redis_url, 9711)
    # closed by the sender's next message, more than the window (600 s) later
    await publish(worker.bootstrap, worker.topic("raw.wechat"), [
        wechat_xml(gap, 9701, now - 1000, "text", Content="小区门口的路灯坏了"),
        wechat_xml(gap, 9702, now, "text", Content="A3区幸福路垃圾没人清运"),
    ], key=gap.encode())  # fmt: skip
    # closed by the idle flush
    await publish(worker.bootstrap, worker.topic("raw.wechat"),
                  [wechat_xml(idle, 9711, now, "text", Content="楼下噪音扰民")],
                  key=idle.encode())  # fmt: skip

    # each failed session is dead-lettered itself, with its own message and position
    records = await wait_for(
        worker.bootstrap, worker.topic("deadletter"),
        lambda rs: {"9701", "9711"} <= set(_session_letters(rs)), timeout=30,
    )  # fmt: skip
    letters = _session_letters(records)
    for msg_id in ("9701", "9711"):
        letter = letters[msg_id]
        assert letter.error_code == "INTERNAL" and "ResponseError" in letter.reason
        session = orjson.loads(base64.b64decode(letter.payload_b64))
        assert [p["msg_id"] for p in session["pieces"]] == [msg_id]
        assert (letter.source_topic, letter.source_offset) == (
            worker.topic("raw.wechat"),
            session["pieces"][0]["raw"]["offset"],
        )

    # and closed: the message that closed it carries on as an appeal of its own, and so
    # does the idle sender's next message (it would have joined the stuck session)
    await publish(worker.bootstrap, worker.topic("raw.wechat"),
                  [wechat_xml(idle, 9712, int(time.time()), "text", Content="还是很吵")],
                  key=idle.encode())  # fmt: skip
    wanted = {appeal_id("wechat", "9702"), appeal_id("wechat", "9712")}
    await wait_for(
        worker.bootstrap, worker.topic("appeals.received"),
        lambda rs: wanted <= {r.key.decode() for r in rs}, timeout=30,
    )  # fmt: skip
    # nothing else dead-lettered: not the innocent messages, not the sessions again
    letters = [DeadLetter.loads(r.value) for r in await read_all(
        worker.bootstrap, worker.topic("deadletter"))]  # fmt: skip
    assert len(letters) == 2
    assert worker.log_text().count("closing the WeChat session of") == 2
