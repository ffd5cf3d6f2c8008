"""Topic creation on the real broker: configs applied, visible once created."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from config.stack import PROJECT_ROOT
from stack.topic_admin import align_topic_configs, ensure_topics

pytestmark = pytest.mark.integration


async def test_created_topics_carry_their_configs_and_are_visible(kafka_bootstrap, unique_prefix):
    names = [f"{unique_prefix}changelog", f"{unique_prefix}plain"]
    compacted = {"cleanup.policy": "compact"}
    assert await ensure_topics(kafka_bootstrap, names[:1], 3, configs=compacted) == names[:1]
    # returns only once the broker lists the topic (a fresh broker may lag), so it now exists
    assert await ensure_topics(kafka_bootstrap, names, 2) == names[1:]

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(names)}
        assert [len(described[n]["partitions"]) for n in names] == [3, 2]
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        responses = await admin.describe_configs(resources)
        policy = {}
        for response in responses:
            for resource in response.resources:
                name, entries = resource[3], resource[4]
                policy[name] = {e[0]: e[1] for e in entries}["cleanup.policy"]
        assert policy == {names[0]: "compact", names[1]: "delete"}
    finally:
        await admin.delete_topics(names)
        await admin.close()


async def _configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    return {
        r[3]: {e[0]: e[1] for e in r[4]}
        for response in await admin.describe_configs(resources)
        for r in response.resources
    }


async def test_existing_topics_get_the_wanted_configs_and_keep_their_own(
    kafka_bootstrap, unique_prefix
):
    names = [f"{unique_prefix}old", f"{unique_prefix}tuned"]
    await ensure_topics(kafka_bootstrap, names[:1], 1)  # created under the broker's 7 days
    await ensure_topics(kafka_bootstrap, names[1:], 1, configs={"max.message.bytes": "2000000"})
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        assert (await _configs(admin, names))[names[0]]["retention.ms"] == "604800000"
        forever = {"retention.ms": "-1"}
        assert await align_topic_configs(kafka_bootstrap, names, forever) == names
        after = await _configs(admin, names)
        assert [after[n]["retention.ms"] for n in names] == ["-1", "-1"]
        # AlterConfigs replaces a topic's set: the operator's own setting must be sent back
        assert after[names[1]]["max.message.bytes"] == "2000000"
        assert after[names[0]]["max.message.bytes"] != "2000000"
        assert await align_topic_configs(kafka_bootstrap, names, forever) == []  # nothing to do
    finally:
        await admin.delete_topics(names)
        await admin.close()


def _prepare_case_log(kafka_bootstrap: str, prefix: str, days: str) -> subprocess.CompletedProcess:
    host, port = kafka_bootstrap.rsplit(":", 1)
    env = {**os.environ, "HOTLINE_TOPIC_PREFIX": prefix, "HOTLINE_KAFKA_BOOTSTRAP": kafka_bootstrap,
           "HOTLINE_CASE_LOG_RETENTION_DAYS": days}  # fmt: skip
    code = "import asyncio, streams.__main__ as m; asyncio.run(m.prepare_case_log())"
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


async def test_the_worker_start_keeps_the_case_log_as_configured(kafka_bootstrap, unique_prefix):
    prefix = f"{unique_prefix}."
    names = [f"{prefix}{n}" for n in ("cases.events", "sla.alerts", "assignments.all")]
    await ensure_topics(kafka_bootstrap, names[:1], 1)  # one made by an older version
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        done = _prepare_case_log(kafka_bootstrap, prefix, "0")
        assert done.returncode == 0, done.stderr
        assert f"case log retention set to forever on {names[0]}" in done.stderr
        assert {n: c["retention.ms"] for n, c in (await _configs(admin, names)).items()} == (
            dict.fromkeys(names, "-1")
        )
        done = _prepare_case_log(kafka_bootstrap, prefix, "400")  # a centre's own period
        assert done.returncode == 0, done.stderr
        kept = {c["retention.ms"] for c in (await _configs(admin, names)).values()}
        assert kept == {str(400 * 86_400_000)}
        # only the case log: appeals, reviews and dead letters keep the broker's default
        assert {t for t in await admin.list_topics() if t.startswith(prefix)} == set(names)
    finally:
        await admin.delete_topics(names)
        await admin.close()
