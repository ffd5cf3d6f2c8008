"""Seek stream partitions to their committed offsets before any record is fetched again.

faust-streaming 0.15.3 (upstream issue #596), after a worker with a table (ours:
``wechat-sessions``) restores it from the changelog, resumes its stream partitions and only
then seeks them to the committed offsets. Records fetched in between never reach an agent;
faust takes the jump for a gap (as in a compacted topic) and the next commit steps over
it: records lost without a log line, after a graceful stop as after a crash
(``tests/integration/test_crash_consistency.py``). faust's path without tables seeks first.
Here the fetcher is stopped and its queues cleared before faust's own completion step,
which then seeks and resumes the flow.

faust's seek to the committed offsets leaves alone a partition with nothing committed
(aiokafka seeks only offsets > 0): it reads on from wherever the fetcher got to. Records
fetched before a rebalance and dropped (the queues cleared above, or a record abandoned
when the flow stops) are then never read again, and the offsets committed after the next
record step over them: a whole partition's start lost, committed, no lag. So every
stream partition with nothing committed is sought to its first offset too, which is
where a group reading it for the first time starts (``auto_offset_reset`` earliest).

Relies on faust internals: pinned in pyproject.toml.
"""

from __future__ import annotations

import asyncio

from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer

_faust_completed = Recovery.on_recovery_completed
_faust_perform_seek = Consumer.perform_seek


async def _seek_before_fetching(self: Recovery, generation_id: int = 0) -> None:
    consumer = self.app.consumer
    consumer.stop_flow()
    self.app.flow_control.suspend()
    await asyncio.sleep(0)
    await consumer.wait_for_stopped_flow()
    self.app.flow_control.clear()  # records fetched before the seek are dropped, not skipped
    await _faust_completed(self, generation_id)  # seeks, then resumes the flow


async def _seek_uncommitted_to_start(self: Consumer) -> None:
    await _faust_perform_seek(self)  # committed offsets; read offsets follow them
    changelogs = self.app.tables.changelog_topics
    fresh = [
        tp
        for tp in self.assignment()
        if tp.topic not in changelogs and self._committed_offset.get(tp) is None
    ]
    if fresh:
        await self.seek_wait(await self.earliest_offsets(*fresh))


def install() -> None:
    """Patch faust's recovery and seek once per process (idempotent)."""
    if Recovery.on_recovery_completed is not _seek_before_fetching:
        Recovery.on_recovery_completed = _seek_before_fetching  # type: ignore[method-assign]
    if Consumer.perform_seek is not _seek_uncommitted_to_start:
        Consumer.perform_seek = _seek_uncommitted_to_start  # type: ignore[method-assign]
