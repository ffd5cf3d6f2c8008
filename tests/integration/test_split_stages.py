"""A worker running only the understand stage, with triage in a separate process."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest

from models.assignment import Assignment
from models.classification import Classification
from models.dead_letter import DeadLetter
from stack.process import child_pids
from tests.integration.raw_records import received_appeal
from tests.integration.worker_process import WorkerProcess, publish, read_all, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def understand_worker(kafka_bootstrap: str, redis_url: str, tmp_path_factory):
    proc = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path_factory.mktemp("worker"),
        extra_env={"HOTLINE_WORKER_STAGES": "understand", "HOTLINE_TRIAGE_PROCESSES": "1"},
    )  # fmt: skip
    from stack.topic_admin import ensure_topics_sync
    from streams.topics import SPECS

    ensure_topics_sync(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    proc.start()
    yield proc
    proc.stop()
    asyncio.run(proc.delete_topics_and_keys())


def _appeal(message_id: str, subject: str, detail: str) -> tuple[str, bytes]:
    appeal = received_appeal(message_id, subject, detail)
    return appeal.appeal_id, appeal.dumps()


async def test_understand_only_worker_with_a_triage_process(understand_worker):
    w = understand_worker
    aid, good = _appeal(
        "MB-split-1",
        "A7县学校乱收费",
        "A7县某中学向学生收取补课费，每人每学期800元，教育局请查处。",
    )
    not_json = b"{not json"
    no_title = orjson.dumps({"appeal_id": "x"})
    await publish(w.bootstrap, w.topic("appeals.received"), [not_json, good, no_title])
    # a raw channel record: this worker has no intake stage, so nothing reads it
    await publish(w.bootstrap, w.topic("raw.mailbox"), [b'{"message_id": "MB-split-2"}'])

    records = await wait_for(
        w.bootstrap, w.topic("assignments.all"), lambda rs: any(r.key.decode() == aid for r in rs)
    )
    assignment = Assignment.loads(next(r.value for r in records if r.key.decode() == aid))
    assert (assignment.category, assignment.lead_code) == ("教育文体", "a7.jyj")
    own = await read_all(w.bootstrap, w.topic("assign.a7.jyj"))
    assert [Assignment.loads(r.value).appeal_id for r in own] == [aid]
    classified = await read_all(w.bootstrap, w.topic("appeals.classified"))
    assert [Classification.loads(r.value).appeal_id for r in classified] == [aid]

    letters = await wait_for(w.bootstrap, w.topic("deadletter"), lambda rs: len(rs) >= 2)
    by_offset = {}
    for r in letters:
        d = DeadLetter.loads(r.value)
        assert d.stage == "understand" and d.source_topic == w.topic("appeals.received")
        by_offset[d.source_partition, d.source_offset] = d.error_code
    assert sorted(by_offset.values()) == ["BAD_JSON", "MISSING_FIELD"]
    assert "triage runs in 1 processes" in w.log_text()
    # the raw record stayed unread: appeals.received holds only what the test published
    assert len(await read_all(w.bootstrap, w.topic("appeals.received"))) == 3


def test_triage_processes_exit_when_the_worker_is_killed(kafka_bootstrap, redis_url, tmp_path):
    w = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path,
        extra_env={"HOTLINE_WORKER_STAGES": "understand", "HOTLINE_TRIAGE_PROCESSES": "1"},
    )  # fmt: skip
    w.start()
    try:
        deadline = time.monotonic() + 60
        while "triage runs in 1 processes" not in w.log_text():
            assert time.monotonic() < deadline, w.log_text()[-2000:]
            time.sleep(0.3)
        children = child_pids(w.proc.pid)
        assert children  # the triage process (and multiprocessing's resource tracker)
        w.stop(kill=True)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [c for c in children if Path(f"/proc/{c}").exists()]
        assert not left, f"processes left behind by a killed worker: {left}"
    finally:
        w.stop()
        asyncio.run(w.delete_topics_and_keys())


async def test_an_appeal_left_waiting_without_a_deadline_gets_one_when_a_worker_starts(
    kafka_bootstrap, redis_url, tmp_path
):
    """Parked by a worker without review alerts (an older version, or alerts off): the
    next worker to start dates it from its start, and its cards come."""
    import redis.asyncio as aioredis

    from models.sla_alert import SlaAlert
    from stack.topic_admin import ensure_topics
    from streams.topics import SPECS

    w = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path,
        extra_env={"HOTLINE_WORKER_STAGES": "understand", "HOTLINE_SLA_TIMER_INTERVAL": "0.5",
                   "HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER": "3s"},
    )  # fmt: skip
    await ensure_topics(kafka_bootstrap, [w.topic(n) for n in SPECS], 4)
    legacy = received_appeal("MB-legacy-review", "咨询", "请问一下。")
    client = aioredis.Redis.from_url(redis_url)
    await client.set(f"{w.prefix}review:{legacy.appeal_id}", legacy.dumps())
    w.start()
    try:
        ids = {f"{legacy.appeal_id}/review/warn80", f"{legacy.appeal_id}/review/overdue"}
        await wait_for(
            w.bootstrap, w.topic("sla.alerts"),
            lambda rs: ids <= {SlaAlert.loads(r.value).alert_id for r in rs},
        )  # fmt: skip
        assert "1 appeal(s) waiting for review had no deadline" in w.log_text()
    finally:
        w.stop()
        await w.delete_topics_and_keys()
        await client.aclose()
