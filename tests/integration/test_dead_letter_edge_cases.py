"""Dead letters at the edges that only the real broker shows: a record too large to keep in
a dead letter, and a replay whose source topic is not on the broker.

Both tests failed on the code before their fixes: the intake agent crashed on the
producer's size limit and lost the rest of its batch; the replay created the missing topic
(the broker's default partitions) and marked the letter replayed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis.asyncio as aioredis
from aiokafka.admin import AIOKafkaAdminClient

from config.stack import PROJECT_ROOT
from models.dead_letter import DeadLetter
from stack.topic_admin import ensure_topics
from tests.integration.raw_records import mailbox_json
from tests.integration.worker_process import WorkerProcess, publish, wait_for

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")


async def _topics(bootstrap: str, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(prefix))
    finally:
        await admin.close()


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


async def test_a_record_too_large_for_a_dead_letter_costs_nothing_else(
    kafka_bootstrap, redis_url, tmp_path
):
    """A 900 KB mailbox record (the broker takes up to 1 MB) between two good ones, all in
    one batch: the good ones are appeals, the large one a dead letter without its bytes."""
    proc = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path, extra_env={"HOTLINE_WORKER_STAGES": "intake"}
    )
    from streams.topics import SPECS

    await ensure_topics(kafka_bootstrap, [proc.topic(n) for n in SPECS], 1)
    huge = mailbox_json("MB-huge", "噪音扰民", "楼下KTV噪音" * 60_000)
    good = [
        mailbox_json("MB-edge-1", "A3区小区噪音扰民", "楼下KTV每晚营业到凌晨，噪音扰民。"),
        mailbox_json("MB-edge-2", "A3区路灯坏了", "小区门口路灯坏了一个月了，晚上很黑。"),
    ]
    assert 850_000 < len(huge) < 1_000_000
    # published before the worker starts: one backlog, one batch
    await publish(kafka_bootstrap, proc.topic("raw.mailbox"), [good[0], huge, good[1]])
    proc.start()
    try:
        received = await wait_for(
            kafka_bootstrap, proc.topic("appeals.received"), lambda rs: len(rs) >= 2
        )
        assert sorted(json.loads(r.value)["source_id"] for r in received) == [
            "MB-edge-1", "MB-edge-2"
        ]  # fmt: skip
        [dead] = await wait_for(kafka_bootstrap, proc.topic("deadletter"), lambda rs: rs)
        letter = DeadLetter.loads(dead.value)
        assert (letter.error_code, letter.payload_b64) == ("OVERSIZED", "")
        assert str(len(huge)) in letter.reason
        assert f"{proc.topic('raw.mailbox')}/0/1" in letter.reason
        assert "Crashed" not in proc.log_text()
    finally:
        proc.stop()
        await _delete_topics(kafka_bootstrap, proc.prefix)


def _cli(prefix: str, bootstrap: str, redis_url: str, *args: str) -> dict:
    env = {**os.environ, "HOTLINE_TOPIC_PREFIX": prefix, "HOTLINE_KAFKA_BOOTSTRAP": bootstrap,
           "HOTLINE_REDIS_URL": redis_url}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "cli", "deadletter", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"_text": done.stdout}


async def test_a_replay_does_not_create_a_source_topic_missing_from_the_broker(
    kafka_bootstrap, redis_url
):
    prefix = f"itdl{uuid.uuid4().hex[:8]}."
    source = f"{prefix}raw.mailbox"
    letter = DeadLetter(
        error_code="INTERNAL", reason="a bug, since fixed", source_topic=source,
        source_partition=0, source_offset=3,
        payload_b64=base64.b64encode(orjson.dumps({"message_id": "MB-1"})).decode(),
        failed_at=datetime.now(TZ), channel="mailbox",
    )  # fmt: skip
    await publish(kafka_bootstrap, f"{prefix}deadletter", [letter.dumps()])
    try:
        first = _cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "-q")
        assert (first["selected"], first["sent"], first["unknown_topic"]) == (0, 0, 1)
        assert "not on the broker" in first["_text"]
        assert await _topics(kafka_bootstrap, prefix) == [f"{prefix}deadletter"]
        summary = _cli(prefix, kafka_bootstrap, redis_url, "summary")
        assert summary["groups"][0]["replayed"] == 0  # still waiting for its replay

        await ensure_topics(kafka_bootstrap, [source], 4)  # the worker is back
        second = _cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "-q")
        assert (second["selected"], second["sent"]) == (1, 1)
    finally:
        await _delete_topics(kafka_bootstrap, prefix)
        client = aioredis.Redis.from_url(redis_url)
        await client.delete(f"{prefix}deadletter:replayed")
        await client.aclose()
