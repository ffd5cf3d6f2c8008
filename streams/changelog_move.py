"""Move a table's changelog from the name faust gave it to the name it has now.

Before ``streams/tables/wechat_sessions.py`` named the session changelog after the app,
a worker running some of the stages kept it under its own group's name
(``hotline12345-intake-wechat-sessions-changelog``). Its records are the open sessions:
on the first start under the shared name they are copied across, partition by partition
and in order (deletions included), and the old topic is deleted, so the copy happens once.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def move_changelog(broker: str, source: str, target: str) -> int | None:
    """Append every record of ``source`` to the same partition of ``target``, then delete
    ``source``; return the number of records moved (``None`` when ``source`` does not
    exist). ``target`` must exist with at least as many partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        if source not in await admin.list_topics():
            return None
        (described,) = await admin.describe_topics([source])
        partitions = [TopicPartition(source, p["partition"]) for p in described["partitions"]]
        moved = await _copy(broker, partitions, target)
        await admin.delete_topics([source])
        return moved
    finally:
        await admin.close()


async def _copy(broker: str, partitions: list[TopicPartition], target: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await consumer.start()
    await producer.start()
    moved = 0
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        left = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
        while left:
            batch = await consumer.getmany(*left, timeout_ms=1000)
            for tp, records in batch.items():
                for r in records:
                    await producer.send(
                        target, r.value, key=r.key, partition=tp.partition, headers=list(r.headers)
                    )
                    moved += 1
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
        await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()
    return moved
