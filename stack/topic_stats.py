"""Read topic offsets: where each partition starts and ends, how many records a topic has
received in all."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition


async def partitions_of(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    """Every partition of each topic (none for a missing one), asking the broker again for a
    topic the consumer's metadata does not know yet."""
    parts: list[TopicPartition] = []
    for topic in topics:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()  # topic may be new
            partitions = consumer.partitions_for_topic(topic)
        parts += [TopicPartition(topic, p) for p in sorted(partitions or ())]
    return parts


async def partition_ends(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    """End offset of every partition of each topic (a missing topic has none)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()  # in the try: a consumer that could not start is stopped too
        parts = await partitions_of(consumer, topics)
        return await consumer.end_offsets(parts) if parts else {}
    finally:
        await consumer.stop()


async def partition_bounds(
    bootstrap: str, topics: list[str]
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """First and end offset of every partition of each topic (a missing topic has none)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
        parts = await partitions_of(consumer, topics)
        if not parts:
            return {}, {}
        return await consumer.beginning_offsets(parts), await consumer.end_offsets(parts)
    finally:
        await consumer.stop()


async def total_records(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Sum of end offsets over every partition of each topic (0 for a missing topic)."""
    out = dict.fromkeys(topics, 0)
    for tp, end in (await partition_ends(bootstrap, topics)).items():
        out[tp.topic] += end
    return out
