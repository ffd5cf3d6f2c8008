"""Re-arranging the stages of a running deployment (one worker ↔ split stage workers).

Each arrangement has its own consumer group; without a hand-over the new group starts at
the first retained record and every appeal of the retained week is dispatched again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from models.appeal import Appeal
from stack.topic_admin import ensure_topics
from streams.changelog_move import move_changelog
from streams.topics import SPECS
from tests.integration.raw_records import received_appeal, wechat_xml
from tests.integration.worker_process import WorkerProcess, publish, read_all, wait_for

pytestmark = pytest.mark.integration


def _appeals(tag: str, n: int) -> tuple[list[str], list[bytes]]:
    """``n`` appeals the classifier is sure of (none waits for review)."""
    detail = "A7县某中学向学生收取补课费，每人每学期{}元，教育局请查处。"
    appeals = [
        received_appeal(f"MB-{tag}-{i}", "A7县学校乱收费", detail.format(800 + i)) for i in range(n)
    ]
    return [a.appeal_id for a in appeals], [a.dumps() for a in appeals]


async def _dispatched(w: WorkerProcess, expected: set[str]) -> Counter:
    """Wait until every appeal of ``expected`` has an assignment; count them all by appeal."""

    def keys(records) -> set[str]:
        return {r.key.decode() for r in records}

    await wait_for(w.bootstrap, w.topic("assignments.all"), lambda rs: expected <= keys(rs), 90)
    return Counter(r.key.decode() for r in await read_all(w.bootstrap, w.topic("assignments.all")))


async def test_splitting_and_merging_the_stages_dispatches_each_appeal_once(
    kafka_bootstrap, redis_url, tmp_path
):
    arrangements = [None, "understand", None]  # every stage, understand alone, every stage
    workers: list[WorkerProcess] = []
    expected: set[str] = set()
    try:
        for step, stages in enumerate(arrangements):
            env = {"HOTLINE_WORKER_STAGES": stages} if stages else {}
            log_dir = tmp_path / str(step)
            log_dir.mkdir()
            prefix = workers[0].prefix if workers else None
            w = WorkerProcess(kafka_bootstrap, redis_url, log_dir, extra_env=env, prefix=prefix)
            if not workers:
                await ensure_topics(kafka_bootstrap, [w.topic(n) for n in SPECS], 4)
            workers.append(w)
            await asyncio.to_thread(w.start)
            ids, values = _appeals(f"{w.prefix}{step}", 2)
            await publish(kafka_bootstrap, w.topic("appeals.received"), values)
            expected |= set(ids)
            counts = await _dispatched(w, expected)
            await asyncio.to_thread(w.stop)
            assert set(counts) == expected
            assert [a for a, n in counts.items() if n > 1] == [], f"dispatched again at {step}"
            if step:
                before = f"{w.prefix}hotline12345{'-understand' if step == 2 else ''}"
                assert f"resume where {before} stopped" in w.log_text()
    finally:
        for w in workers:
            w.stop()
        if workers:
            await workers[0].delete_topics_and_keys()


async def test_an_open_wechat_session_carries_over_to_an_intake_worker(
    kafka_bootstrap, redis_url, tmp_path
):
    """A message still in its session when the one worker stops comes out of the intake
    worker that replaces it: the session changelog has one name for every arrangement."""
    first = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path, extra_env={"HOTLINE_WECHAT_IDLE_FLUSH_S": "600"}
    )
    (tmp_path / "intake").mkdir()
    intake = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path / "intake", prefix=first.prefix,
        extra_env={"HOTLINE_WORKER_STAGES": "intake", "HOTLINE_WECHAT_IDLE_FLUSH_S": "2"},
    )  # fmt: skip
    await ensure_topics(kafka_bootstrap, [first.topic(n) for n in SPECS], 4)
    try:
        await asyncio.to_thread(first.start)
        openid = "oWX-it-handover"
        text = "第九栋楼门口的路灯坏了一个星期了"
        message = wechat_xml(openid, 4242, int(time.time()), "text", Content=text)
        await publish(kafka_bootstrap, first.topic("raw.wechat"), [message], key=openid.encode())
        changelog = first.topic("hotline12345-wechat-sessions-changelog")
        await wait_for(kafka_bootstrap, changelog, lambda rs: len(rs) >= 1)
        await asyncio.to_thread(first.stop)
        assert await read_all(kafka_bootstrap, first.topic("appeals.received")) == []

        await asyncio.to_thread(intake.start)
        records = await wait_for(
            kafka_bootstrap, first.topic("appeals.received"), lambda rs: len(rs) >= 1
        )
        await asyncio.sleep(3)  # a second appeal (the message read again) would show by now
        records = await read_all(kafka_bootstrap, first.topic("appeals.received"))
        assert [Appeal.loads(r.value).content for r in records] == [text]
        assert "resume where" in intake.log_text()
    finally:
        first.stop()
        intake.stop()
        await first.delete_topics_and_keys()


async def test_a_changelog_under_its_former_name_is_moved_once(kafka_bootstrap):
    prefix = f"it{uuid.uuid4().hex[:8]}."
    source, target = f"{prefix}old-changelog", f"{prefix}new-changelog"
    await ensure_topics(kafka_bootstrap, [source, target], 2, configs={"cleanup.policy": "compact"})
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = [(0, b"a", b"1"), (1, b"b", b"2"), (0, b"a", None), (0, b"c", b"3")]
        for partition, key, value in sent:
            await producer.send_and_wait(
                source, value, key=key, partition=partition, headers=[("h", b"x")]
            )
    finally:
        await producer.stop()
    try:
        assert await move_changelog(kafka_bootstrap, source, target) == 4
        moved = await read_all(kafka_bootstrap, target)
        in_order = [
            (r.partition, r.key, r.value)
            for r in sorted(moved, key=lambda r: (r.partition, r.offset))
        ]
        assert in_order == [(0, b"a", b"1"), (0, b"a", None), (0, b"c", b"3"), (1, b"b", b"2")]
        assert all(list(r.headers) == [("h", b"x")] for r in moved)
        assert await move_changelog(kafka_bootstrap, source, target) is None  # gone: once
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics(
                [t for t in await admin.list_topics() if t.startswith(prefix)]
            )
        finally:
            await admin.close()
