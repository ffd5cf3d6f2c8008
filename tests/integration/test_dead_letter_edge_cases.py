"""Dead letters at the edges that only the real broker shows: a record too large to keep in
a dead letter, and a replay whose source topic is not on the broker.

Both tests failed on the code before their fixes: the intake agent crashed on the
producer's size limit and lost the rest of its batch; the replay created the missing topic
(the broker's default partitions) and marked the letter replayed.
"""

from __future__ import annotations

import asyncio
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


def _run_cli(prefix: str, bootstrap: str, redis_url: str, *args: str):
    env = {**os.environ, "HOTLINE_TOPIC_PREFIX": prefix, "HOTLINE_KAFKA_BOOTSTRAP": bootstrap,
           "HOTLINE_REDIS_URL": redis_url}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "cli", "deadletter", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _cli(prefix: str, bootstrap: str, redis_url: str, *args: str) -> dict:
    done = _run_cli(prefix, bootstrap, redis_url, *args)
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


def _letter(source: str, message_id: str) -> DeadLetter:
    return DeadLetter(
        error_code="INTERNAL", reason="a bug, since fixed", source_topic=source,
        source_partition=0, source_offset=0,
        payload_b64=base64.b64encode(orjson.dumps({"message_id": message_id})).decode(),
        failed_at=datetime.now(TZ), channel="mailbox",
    )  # fmt: skip


async def test_a_re_created_dead_letter_topic_has_its_letters_replayed(kafka_bootstrap, redis_url):
    """The new topic's first letter sits at 0/0 like the old one's, replayed long ago: it is
    another letter and goes back (before, it was skipped as already replayed, for good)."""
    prefix = f"itdl{uuid.uuid4().hex[:8]}."
    source, dead = f"{prefix}raw.mailbox", f"{prefix}deadletter"
    await ensure_topics(kafka_bootstrap, [source, dead], 1)
    try:
        await publish(kafka_bootstrap, dead, [_letter(source, "MB-old").dumps()])
        first = _cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "-q")
        again = _cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "-q")
        assert (first["sent"], again["sent"], again["already_replayed"]) == (1, 0, 1)

        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([dead])
        finally:
            await admin.close()
        await asyncio.sleep(1)  # the broker finishes deleting before the name is taken again
        await ensure_topics(kafka_bootstrap, [dead], 1)
        await publish(kafka_bootstrap, dead, [_letter(source, "MB-new").dumps()])

        after = _cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "-q")
        assert (after["dead_letters"], after["sent"], after["already_replayed"]) == (1, 1, 0)
        sent = await wait_for(kafka_bootstrap, source, lambda rs: len(rs) >= 2)
        assert [orjson.loads(r.value)["message_id"] for r in sent] == ["MB-old", "MB-new"]
        client = aioredis.Redis.from_url(redis_url)
        try:  # the old topic's mark is older than any letter left: forgotten
            assert await client.zcard(f"{dead}:replayed") == 1
        finally:
            await client.aclose()
    finally:
        await _delete_topics(kafka_bootstrap, prefix)
        client = aioredis.Redis.from_url(redis_url)
        await client.delete(f"{dead}:replayed")
        await client.aclose()


async def test_a_second_replay_while_one_runs_is_refused(kafka_bootstrap, redis_url):
    """Both would find the same letters unmarked and send them twice."""
    from stores.replayed_dead_letters import ReplayedDeadLetters

    prefix = f"itdl{uuid.uuid4().hex[:8]}."
    source, dead = f"{prefix}raw.mailbox", f"{prefix}deadletter"
    await ensure_topics(kafka_bootstrap, [source, dead], 1)
    client = aioredis.Redis.from_url(redis_url)
    try:
        await publish(kafka_bootstrap, dead, [_letter(source, "MB-1").dumps()])
        running = ReplayedDeadLetters(client, f"{dead}:replayed")
        async with running.exclusive():  # a replay under way
            busy = _run_cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "-q")
            dry = _cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "--dry-run")
        assert busy.returncode == 2
        assert "another replay" in busy.stderr and "Traceback" not in busy.stderr
        assert dry["selected"] == 1  # a dry run sends nothing and needs no lock
        done = _cli(prefix, kafka_bootstrap, redis_url, "replay", "--all", "-q")
        assert done["sent"] == 1
    finally:
        await _delete_topics(kafka_bootstrap, prefix)
        await client.delete(f"{dead}:replayed", f"{dead}:replayed:lock")
        await client.aclose()
