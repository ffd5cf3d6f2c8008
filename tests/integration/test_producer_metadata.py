"""The worker's metadata pre-fetch keeps the topics it already sends to (real broker).

A worker restarted with a backlog sends its first records before the pre-fetch task runs;
the pre-fetch once narrowed the client's tracked topics to the department topics and
those first records then waited 20 minutes for a partition leader.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from stack.topic_admin import ensure_topics
from streams.timers.department_metadata import topics_to_track
from streams.topics import ALL, department_topic_names

pytestmark = pytest.mark.integration


def test_the_worker_tracks_its_own_topics_besides_the_departments() -> None:
    wanted = topics_to_track(["already.tracked"])
    assert {t.get_topic_name() for t in ALL} <= wanted
    assert set(department_topic_names()) <= wanted
    assert "already.tracked" in wanted


async def test_a_record_sent_before_the_prefetch_is_still_delivered(kafka_bootstrap) -> None:
    out = f"it{uuid.uuid4().hex[:8]}.appeals.classified"
    await ensure_topics(kafka_bootstrap, [out], 1)
    # the record waits in the accumulator while the tracked topics change under it
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=2000)
    await producer.start()
    try:
        # tracking no topic, the client refreshes metadata of all topics (as faust's
        # producer has done by the time a restarted worker's first batch is sent)
        await producer.client.force_metadata_update()
        ack = await producer.send(out, b"first record of a restarted worker")
        # so the send found its partitions without tracking the topic
        assert out not in producer.client._topics
        await producer.client.set_topics(sorted(topics_to_track(producer.client._topics, [out])))
        assert (await asyncio.wait_for(ack, 30)).topic == out
    finally:
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([out])
        finally:
            await admin.close()
