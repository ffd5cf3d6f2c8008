"""Read a whole topic as it stands: every record up to the end offsets seen at the start."""

from __future__ import annotations

import logging
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from stack.topic_stats import partitions_of

log = logging.getLogger(__name__)
R = TypeVar("R", covariant=True)


class Loadable(Protocol[R]):
    """A record class that decodes bytes (a faust ``Record``'s ``loads``)."""

    def loads(self, s: bytes, **kwargs: Any) -> R: ...


async def read_to_end(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` (all partitions, each in offset order) up to the end
    offsets at the time of the call; records published meanwhile are not waited for.
    A topic that does not exist reads as empty."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    out: list[ConsumerRecord] = []
    try:
        await consumer.start()  # in the try: a consumer that could not start is stopped too
        partitions = await partitions_of(consumer, [topic])
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


async def read_records(
    bootstrap: str, topic: str, record_type: Loadable[R]
) -> tuple[list[tuple[ConsumerRecord, R]], int]:
    """:func:`read_to_end`, each record decoded as ``record_type``: the ``(record, decoded)``
    pairs, and how many records could not be decoded (each logged with its position)."""
    pairs, undecodable = [], 0
    for rec in await read_to_end(bootstrap, topic):
        try:
            pairs.append((rec, record_type.loads(rec.value)))
        except Exception:  # not written by this project's workers, or a tombstone
            log.warning(
                "record %d/%d of %s is not a %s",
                rec.partition, rec.offset, topic, getattr(record_type, "__name__", record_type),
            )  # fmt: skip
            undecodable += 1
    return pairs, undecodable
