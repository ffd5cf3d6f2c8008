"""A changed arrangement of stages carries on where the previous one stopped.

Each set of stages has its own consumer group (``StreamSettings.group_id``):
``hotline12345`` for one worker running every stage, ``hotline12345-understand`` for a
worker running classification only, and so on. A group with nothing committed starts each
topic at its first retained record (``streams/recovery_order.py``). Without a hand-over,
splitting a running deployment into stage workers, or merging it back, would process the
retained week again: intake re-publishing every appeal, the understand stage dispatching
each one to its department a second time.

So, before faust joins its group, the worker moves its group's committed offset on each
topic it reads forward to the furthest that any other arrangement of the same app (and
topic prefix) has committed there. Only forward: records its own group has not reached
but another arrangement has were handled by that arrangement. Never past the end of the
log: an offset beyond it belongs to a topic that has since been deleted and re-created.
Only while the group is empty: the broker refuses a commit from outside a group with
running members, and the worker then starts from its group's own offsets as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from itertools import combinations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from config.streams import STAGES, StreamSettings, group_id_for

log = logging.getLogger(__name__)


def other_arrangements(settings: StreamSettings) -> list[str]:
    """Consumer groups of every other set of stages of this app (with the topic prefix)."""
    own = settings.topic_prefix + settings.group_id
    groups = (
        settings.topic_prefix + group_id_for(settings.app_id, stages)
        for n in range(1, len(STAGES) + 1)
        for stages in combinations(STAGES, n)
    )
    return [g for g in groups if g != own]


def furthest_offsets(
    own: Mapping[TopicPartition, int],
    others: Mapping[str, Mapping[TopicPartition, int]],
    ends: Mapping[TopicPartition, int],
) -> dict[TopicPartition, tuple[int, str]]:
    """Where each partition of ``ends`` should resume, and the group that got there, for
    the partitions where another group (``others``) got further than ``own``.

    ``ends`` are the partitions' end offsets: a committed offset beyond its partition's
    end is from a topic deleted and re-created since, and ignored. Ties go to the group
    first in ``others``.
    """
    moves: dict[TopicPartition, tuple[int, str]] = {}
    for group, offsets in others.items():
        for tp, offset in offsets.items():
            if tp not in ends or offset > ends[tp]:
                continue
            if offset > moves.get(tp, (own.get(tp, -1), ""))[0]:
                moves[tp] = (offset, group)
    return moves


#: How long to wait for the broker's group coordinator: on a fresh broker the offsets
#: topic is created at the first question, and the coordinator is "not available" until
#: it is (a few seconds).
COORDINATOR_WAIT_S = 60.0


async def _committed(
    admin: AIOKafkaAdminClient, group: str, topics: frozenset[str]
) -> dict[TopicPartition, int]:
    deadline = time.monotonic() + COORDINATOR_WAIT_S
    while True:
        try:
            offsets = await admin.list_consumer_group_offsets(group)
            break
        except KafkaError as exc:  # GroupCoordinatorNotAvailable, CoordinatorLoadInProgress
            if not exc.retriable or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    return {tp: m.offset for tp, m in offsets.items() if tp.topic in topics and m.offset >= 0}


async def hand_over(
    broker: str, group: str, others: Iterable[str], topics: Iterable[str]
) -> dict[TopicPartition, tuple[int, str]]:
    """Move ``group``'s committed offsets on ``topics`` forward to the furthest of
    ``others`` (see :func:`furthest_offsets`); return the moves made (none when the group
    has running members)."""
    wanted = frozenset(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        found = {g: await _committed(admin, g, wanted) for g in others}
        found = {g: offsets for g, offsets in found.items() if offsets}
        if not found:
            return {}  # the usual case: no other arrangement ever ran
        own = await _committed(admin, group, wanted)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = {tp for offsets in found.values() for tp in offsets}
        ends = await consumer.end_offsets(list(partitions))
        moves = furthest_offsets(own, found, ends)
        if not moves:
            return {}
        consumer.assign(list(moves))
        try:
            await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, (o, _) in moves.items()})
        except KafkaError as exc:  # a member of the group is running: it has its offsets
            log.warning(
                "%s: offsets not handed over: the group has running members (%s)",
                group,
                type(exc).__name__,
            )
            return {}
        return moves
    finally:
        await consumer.stop()


def describe(group: str, moves: Mapping[TopicPartition, tuple[int, str]]) -> list[str]:
    """One line per (previous group, topic) of a hand-over, for the worker's start log."""
    by_source: dict[tuple[str, str], list[int]] = {}
    for tp, (_, source) in sorted(moves.items()):
        by_source.setdefault((source, tp.topic), []).append(tp.partition)
    return [
        f"{group}: {topic} partitions {', '.join(map(str, parts))} resume where {source} "
        "stopped (the stages were arranged differently before)"
        for (source, topic), parts in by_source.items()
    ]
