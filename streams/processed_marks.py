"""Leaving out records a stage processed before (a redelivery after a crash or a
rebalance), by the marks of ``stores/processed_positions.py``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from faust.types import EventT

from stores.processed_positions import ProcessedPositions

log = logging.getLogger(__name__)


def _log_end(event: EventT) -> int | None:
    """The partition's end offset as the consumer last saw it, if known."""
    from streams.app import app

    try:
        return app.consumer.highwater(event.message.tp)
    except Exception:  # noqa: BLE001 - no consumer (a test) or no fetch yet: unknown
        return None


async def unprocessed(events: list[EventT], marks: ProcessedPositions, what: str) -> list[EventT]:
    """``events`` without those at or below their partition's processed mark.

    A mark at or beyond the partition's end cannot be this log's (the topic was deleted
    and created again, its offsets starting at 0 again): it is not trusted. A re-created
    topic that has grown past the old mark before the worker reads it is the one case
    this misses: delete the marks with the topic (``<sla prefix>processed:<topic>``).
    """
    if not events:
        return events
    by_topic: dict[str, dict[int, int]] = {}
    kept = []
    for event in events:
        msg = event.message
        if msg.topic not in by_topic:
            by_topic[msg.topic] = await marks.marks(msg.topic)
        mark = by_topic[msg.topic].get(msg.partition)
        if mark is not None and msg.offset <= mark:
            end = _log_end(event)
            if end is None or mark < end:
                continue
        kept.append(event)
    if len(kept) < len(events):
        log.info("%s: %d record(s) processed before (delivered again after a restart or a "
                 "rebalance) left out", what, len(events) - len(kept))  # fmt: skip
    return kept


async def mark_processed(events: list[EventT], marks: ProcessedPositions) -> None:
    """Raise the marks to the highest offset of each partition in ``events``."""
    highest: dict[str, dict[int, int]] = {}
    for event in events:
        msg = event.message
        top = highest.setdefault(msg.topic, {})
        top[msg.partition] = max(top.get(msg.partition, -1), msg.offset)
    for topic, offsets in highest.items():
        await marks.raise_to(topic, offsets)


async def once_each(
    step: Callable[[list[EventT]], Awaitable[object]],
    events: list[EventT],
    marks: ProcessedPositions,
    what: str,
) -> None:
    """Run ``step`` on the events not processed before, then raise the marks over all of
    them (after ``step``'s effects: a crash in between only redoes this batch)."""
    fresh = await unprocessed(events, marks, what)
    if fresh:
        await step(fresh)
    await mark_processed(events, marks)
