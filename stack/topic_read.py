"""Read a whole topic as it stands: every record up to the end offsets seen at the start."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


async def read_to_end(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` (all partitions, each in offset order) up to the end
    offsets at the time of the call; records published meanwhile are not waited for.
    A topic that does not exist reads as empty."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: list[ConsumerRecord] = []
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return out
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)

        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            batch = await consumer.getmany(*partitions, timeout_ms=1000, max_records=20000)
            for tp, records in batch.items():
                out.extend(r for r in records if r.offset < ends[tp])
    finally:
        await consumer.stop()
    return out
