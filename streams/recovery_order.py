"""Seek stream partitions to their committed offsets before any record is fetched again.

faust-streaming 0.15.3 (upstream issue #596), after a worker with a table (ours:
``wechat-sessions``) restores it from the changelog, resumes its stream partitions and only
then seeks them to the committed offsets. Records fetched in between never reach an agent;
faust takes the jump for a gap (as in a compacted topic) and the next commit steps over
it: records lost without a log line, after a graceful stop as after a crash
(``tests/integration/test_crash_consistency.py``). faust's path without tables seeks first.
Here the fetcher is stopped and its queues cleared before faust's own completion step,
which then seeks and resumes the flow. Relies on faust internals: pinned in pyproject.toml.
"""

from __future__ import annotations

import asyncio

from faust.tables.recovery import Recovery

_faust_completed = Recovery.on_recovery_completed


async def _seek_before_fetching(self: Recovery, generation_id: int = 0) -> None:
    consumer = self.app.consumer
    consumer.stop_flow()
    self.app.flow_control.suspend()
    await asyncio.sleep(0)
    await consumer.wait_for_stopped_flow()
    self.app.flow_control.clear()  # records fetched before the seek are dropped, not skipped
    await _faust_completed(self, generation_id)  # seeks, then resumes the flow


def install() -> None:
    """Patch faust's recovery once per process (idempotent)."""
    if Recovery.on_recovery_completed is not _seek_before_fetching:
        Recovery.on_recovery_completed = _seek_before_fetching  # type: ignore[method-assign]
