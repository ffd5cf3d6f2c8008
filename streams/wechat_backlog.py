"""Whether WeChat messages that were waiting when this worker got its partitions have been
taken in yet: the gate of the idle rule for WeChat sessions.

Why: a session is idle when no piece of its sender was *processed* for the idle period
(wall clock). While the worker runs, that is close enough to "the citizen stopped
writing". Across a stop it is not: a session restored from the changelog looks idle at
once after a downtime longer than the idle period, while the sender's later messages may
still wait in raw.wechat, not yet parsed into pieces. A flush request sent then went
through the pieces topic ahead of them, the session closed, and the later messages
became a second appeal (one citizen request, two cases).

The design, the simplest one that holds for any number of workers:

* On every partition assignment (a start, a rebalance) the gate closes. On the idle
  timer's next tick the end offsets of every raw.wechat partition are read: the backlog.
  The gate opens once the worker group's *committed* raw.wechat offsets reach them. The
  intake acknowledges a raw record only after its pieces were delivered, so by then each
  waiting message is a piece on the pieces topic, ahead of any flush request sent later
  for its sender (one key, one partition, in order). Every partition counts, not only
  this worker's: a sender's raw messages and its session's table partition may belong to
  different workers of the group.
* The timer sends no flush request while the gate is closed, and the session agent
  honours only requests stamped (``WeChatPiece.requested_at``) after the gate opened: a
  request left on the pieces topic by the previous worker sits ahead of the backlog's
  pieces and would close the session too early.
* While it is open, every tick reads the offsets again and closes the gate when the
  intake has fallen behind: when the broker cannot be reached (the senders' messages wait
  in their gateways and flush requests would wait in our producer, to overtake them once
  it is back: a 20 s outage with a 6 s idle period split all 30 open sessions), or when
  records written ``lag_allowance_s`` ago or earlier are still not committed (a stalled
  partition, a long spike). It opens again as after an assignment.
* Bounded: the gate opens anyway, with a warning, if the offsets cannot be read for
  another reason than an unreachable broker (the behaviour before this gate) or the
  backlog is not taken in within ``max_wait_s`` (an intake stalled for good would
  otherwise keep every session open forever).

Event time (the messages' ``CreateTime``) was not used instead: without new traffic it
never advances, so the wall clock would still be needed and with it the same race.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping

from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

#: (raw.wechat end offsets, the group's committed offsets), both by partition; a partition
#: the group never committed is missing from the second.
OffsetsReader = Callable[[], Awaitable[tuple[Mapping[int, int], Mapping[int, int]]]]


def taken_in(backlog: Mapping[int, int], committed: Mapping[int, int]) -> bool:
    """Whether the committed offsets reach the backlog's end offsets on every partition
    (a partition that was empty needs no commit)."""
    return all(end <= 0 or committed.get(p, -1) >= end for p, end in backlog.items())


def flush_allowed(requested_at: float | None, opened_at: float | None) -> bool:
    """Whether a flush request may close an idle session: the gate is open and the request
    was made after it opened (an older one, or one without a stamp, may have overtaken
    pieces of the backlog; the timer asks again)."""
    return opened_at is not None and requested_at is not None and requested_at >= opened_at


def unreachable(exc: BaseException) -> bool:
    """Whether reading the offsets failed because the broker cannot be reached now (the
    messages may be waiting), not for good (a missing topic, no permission)."""
    if isinstance(exc, KafkaError):
        return bool(exc.retriable)  # KafkaConnectionError, NodeNotReadyError, …
    return isinstance(exc, OSError | TimeoutError)


def waiting(ends: Mapping[int, int], committed: Mapping[int, int]) -> int:
    """How many records of ``ends`` the group has not committed yet."""
    return sum(max(0, e - committed.get(p, 0)) for p, e in ends.items())


class IntakeBacklog:
    """The gate: closed from each partition assignment until the raw.wechat backlog found
    after it has been committed, and again whenever the intake falls behind (see the
    module docstring)."""

    def __init__(
        self,
        read_offsets: OffsetsReader,
        max_wait_s: float,
        timeout_s: float = 10.0,
        lag_allowance_s: float = 90.0,
        recheck_s: float = 5.0,
    ):
        self._read = read_offsets
        self.max_wait_s = max_wait_s
        self.timeout_s = timeout_s
        self.lag_allowance_s = lag_allowance_s
        self.recheck_s = recheck_s  # an open gate reads the offsets at most this often
        self._read_at = -float("inf")
        self.opened_at: float | None = None  # None: closed
        self._closed_at: float | None = None  # None: closed since the process started
        self._backlog: Mapping[int, int] | None = None
        #: (when, end offsets) read while open, newest last: what the intake must have
        #: committed once ``lag_allowance_s`` has passed
        self._ends_seen: deque[tuple[float, Mapping[int, int]]] = deque()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def close(self, now: float) -> None:
        """Partitions were assigned (or the intake fell behind): messages may wait that
        this worker has not seen."""
        self.opened_at, self._closed_at, self._backlog = None, now, None
        self._ends_seen.clear()

    def allows(self, requested_at: float | None) -> bool:
        return flush_allowed(requested_at, self.opened_at)

    async def refresh(self, now: float) -> bool:
        """Open the gate if the backlog has been taken in (or cannot be waited for);
        whether it is open. Never raises."""
        if self.opened_at is not None:
            return await self._still_open(now)
        if self._closed_at is None:  # no assignment yet: the backlog is read after one
            self._closed_at = now
        try:
            ends, committed = await asyncio.wait_for(self._read(), self.timeout_s)
        except Exception as exc:  # noqa: BLE001 (any failure: the behaviour without the gate)
            if unreachable(exc) and now - self._closed_at < self.max_wait_s:
                return False  # the broker is away: messages may be waiting for it
            log.warning("raw.wechat backlog unknown (%s: %s): idle WeChat sessions close by "
                        "the wall clock alone", type(exc).__name__, exc)  # fmt: skip
            return self._open(now)
        if self._backlog is None:
            self._backlog = dict(ends)
            log.info("WeChat idle flushes wait for the raw.wechat backlog: %d records",
                     waiting(ends, committed))  # fmt: skip
        if taken_in(self._backlog, committed):
            log.info("raw.wechat backlog taken in after %.1f s: idle WeChat sessions close "
                     "again", now - self._closed_at)  # fmt: skip
            return self._open(now)
        if now - self._closed_at >= self.max_wait_s:
            log.warning("raw.wechat backlog not taken in after %.0f s: idle WeChat sessions "
                        "close by the wall clock again", now - self._closed_at)  # fmt: skip
            return self._open(now)
        return False

    def _open(self, now: float) -> bool:
        self.opened_at, self._backlog = now, None
        return True

    async def _still_open(self, now: float) -> bool:
        """An open gate's tick: closed again when the broker cannot be reached or records
        older than ``lag_allowance_s`` are not committed yet."""
        if now - self._read_at < self.recheck_s:
            return True
        self._read_at = now
        try:
            ends, committed = await asyncio.wait_for(self._read(), self.timeout_s)
        except Exception as exc:  # noqa: BLE001
            if not unreachable(exc):
                return True  # unreadable for good: the wall clock alone, as before
            log.warning("raw.wechat offsets unreadable (%s: %s): idle WeChat sessions wait "
                        "until the intake has caught up", type(exc).__name__, exc)  # fmt: skip
            self.close(now)
            return False
        self._ends_seen.append((now, dict(ends)))
        due = None  # the newest ends at least lag_allowance_s old
        while self._ends_seen and self._ends_seen[0][0] <= now - self.lag_allowance_s:
            due = self._ends_seen.popleft()
        if due is not None:
            self._ends_seen.appendleft(due)  # still the reference until a newer one is due
            if not taken_in(due[1], committed):
                log.warning("raw.wechat records written %.0f s ago are not taken in yet "
                            "(%d): idle WeChat sessions wait until they are",
                            now - due[0], waiting(due[1], committed))  # fmt: skip
                self.close(now)
                return False
        return True


def kafka_offsets(bootstrap: str, topic: str, group: str) -> OffsetsReader:
    """An :data:`OffsetsReader` asking the broker, with clients of its own (faust's consumer
    knows only this worker's partitions). A partition the group never committed counts
    from its first offset (what the group would start from)."""

    async def read() -> tuple[dict[int, int], dict[int, int]]:
        from aiokafka.admin import AIOKafkaAdminClient

        from stack.topic_stats import partition_bounds

        firsts, ends = await partition_bounds(bootstrap, [topic])
        if not ends:
            raise LookupError(f"no partitions known for {topic}")
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            await admin.start()
            done = await admin.list_consumer_group_offsets(group, partitions=list(ends))
        finally:
            await admin.close()
        committed = {tp.partition: firsts[tp] for tp in ends}
        committed.update({tp.partition: m.offset for tp, m in done.items() if m.offset >= 0})
        return {tp.partition: end for tp, end in ends.items()}, committed

    return read
