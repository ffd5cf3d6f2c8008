"""Topic creation on the real broker: configs applied, visible once created."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from stack.topic_admin import ensure_topics

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
