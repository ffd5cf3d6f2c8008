"""Read the dead-letter topic and send chosen letters' original bytes back to their source.

The records go back unchanged (value and key), so the stage that rejected them reads them
as it read them the first time; every stage is idempotent on the ids inside (appeal,
assignment, event and decision ids), so a record that did get through before is not
processed twice. A letter is marked as replayed only after the broker acknowledged it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from dead_letters.selection import Letter, Resend, letter_id
from models.dead_letter import DeadLetter
from stack.topic_read import read_records
from stores.replayed_dead_letters import ReplayedDeadLetters
from streams.outages import all_delivered

log = logging.getLogger(__name__)

#: Letters sent between two waits for acknowledgements (and marks in Redis).
CHUNK = 500


async def read_letters(bootstrap: str, topic: str) -> tuple[list[Letter], int]:
    """Every dead letter on ``topic`` as it stands, and how many records were unreadable."""
    pairs, unreadable = await read_records(bootstrap, topic, DeadLetter)
    return [
        Letter(letter_id(rec.partition, rec.offset), record, rec.timestamp) for rec, record in pairs
    ], unreadable


async def existing_topics(bootstrap: str) -> set[str]:
    """The topics on the broker now (a replay sends to none other: sending would create it)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def send_back(
    bootstrap: str,
    resend: Sequence[Resend],
    replayed: ReplayedDeadLetters,
    progress: Callable[[Iterable[Resend]], Iterable[Resend]] = iter,
) -> int:
    """Publish each letter's bytes to its source topic, wait for the acknowledgements and
    mark the letters replayed, a chunk at a time; returns how many were sent."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent = 0
    try:
        chunk: list[Resend] = []
        for item in progress(resend):
            chunk.append(item)
            if len(chunk) >= CHUNK:
                sent += await _send_chunk(producer, chunk, replayed)
                chunk = []
        if chunk:
            sent += await _send_chunk(producer, chunk, replayed)
    finally:
        await producer.stop()
    return sent


async def _send_chunk(
    producer: AIOKafkaProducer, chunk: list[Resend], replayed: ReplayedDeadLetters
) -> int:
    acks = [await producer.send(r.topic, value=r.value, key=r.key) for r in chunk]
    await all_delivered(acks)  # raises if the broker refused one: nothing of it is marked
    await replayed.mark((r.letter_id, r.stamp) for r in chunk)
    for r in chunk:
        log.info("dead letter %s sent back to %s", r.letter_id, r.topic)
    return len(chunk)
