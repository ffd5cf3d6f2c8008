"""Move a table's changelog from the name faust gave it to the name it has now.

Before ``streams/tables/wechat_sessions.py`` named the session changelog after the app,
a worker running some of the stages kept it under its own group's name
(``hotline12345-intake-wechat-sessions-changelog``). Its records are the open sessions:
on the first start under the shared name they are copied across, partition by partition
and in order (deletions included), and the old topic is deleted, so the copy happens once.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from stack.topic_read import read_to_end


async def move_changelog(broker: str, source: str, target: str) -> int | None:
    """Append every record of ``source`` to the same partition of ``target``, then delete
    ``source``; return the number of records moved (``None`` when ``source`` does not
    exist). ``target`` must exist with at least as many partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        if source not in await admin.list_topics():
            return None
        records = await read_to_end(broker, source)  # each partition in offset order
        producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
        await producer.start()
        try:
            for r in records:
                await producer.send(
                    target, r.value, key=r.key, partition=r.partition, headers=list(r.headers)
                )
            await producer.flush()
        finally:
            await producer.stop()
        await admin.delete_topics([source])
        return len(records)
    finally:
        await admin.close()
