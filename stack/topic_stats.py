"""Read topic end offsets: how many records a topic has received in all."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition


async def total_records(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Sum of end offsets over every partition of each topic (0 for a missing topic)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        out: dict[str, int] = {}
        for topic in topics:
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                await consumer._client.force_metadata_update()  # topic may be new
                partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                out[topic] = 0
                continue
            ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
            out[topic] = sum(ends.values())
        return out
    finally:
        await consumer.stop()
