"""Case events that arrived before their case's assignment, parked until it comes.

Assignments and case events travel on different topics, so a department's 签收 can reach
the SLA agent before the assignment it answers (the agent reading ``assignments.all``
may simply lag). Such an event is parked here, as the dead letter it would otherwise
become, and applied when the assignment arrives; after ``wait_s`` it is dead-lettered.

Keys: ``<prefix>early:<appeal_id>`` a list of parked records in arrival order, and
``<prefix>early:due`` a sorted set of appeal ids by the time their first event was parked.
An appeal id spelt ``due`` (or ``_due``, ``__due``, ...) gets one more ``_`` in its list's
key, so no event's appeal id, however odd, names the sorted set.
"""

from __future__ import annotations

import re
import time

import redis.asyncio as aioredis

#: Drop the first ARGV[1] records of a queue if the last of them is still ARGV[3] (another
#: applier that read the same records may have dropped them already: then records parked
#: since would be lost); forget the queue's wait when it is empty.
_DROP = """
local n = tonumber(ARGV[1])
if redis.call('LINDEX', KEYS[1], n - 1) == ARGV[3] then
  redis.call('LTRIM', KEYS[1], n, -1)
end
local left = redis.call('LLEN', KEYS[1])
if left == 0 then redis.call('ZREM', KEYS[2], ARGV[2]) end
return left
"""


#: Appeal ids given one more ``_`` in their list's key: ``due`` would name the wait index
#: itself (WRONGTYPE on every later park and scan), the others keep the keys one per id.
_ESCAPED = re.compile(r"_*due")


class EarlyCaseEvents:
    """Park, read back in order, drop, and expire case events waiting for their assignment."""

    def __init__(self, client: aioredis.Redis, prefix: str, wait_s: int) -> None:
        self.client = client
        self.prefix = prefix
        self.wait_s = wait_s
        self._due = f"{prefix}early:due"

    def _key(self, appeal_id: str) -> str:
        if _ESCAPED.fullmatch(appeal_id):
            appeal_id = "_" + appeal_id  # not `early:due`; distinct from every other id's
        return f"{self.prefix}early:{appeal_id}"

    async def park(self, appeal_id: str, record: bytes, now: float | None = None) -> None:
        """Append one record to the appeal's queue (its wait starts with the first)."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(self._key(appeal_id), record)
            pipe.zadd(self._due, {appeal_id: now if now is not None else time.time()}, nx=True)
            await pipe.execute()

    async def waiting(self, appeal_ids: list[str]) -> set[str]:
        """Which of these appeals have parked events (later events must queue behind them)."""
        if not appeal_ids:
            return set()
        async with self.client.pipeline(transaction=False) as pipe:
            for aid in appeal_ids:
                pipe.exists(self._key(aid))
            found = await pipe.execute()
        return {aid for aid, n in zip(appeal_ids, found, strict=True) if n}

    async def peek(self, appeal_ids: list[str]) -> dict[str, list[bytes]]:
        """The parked records of these appeals, in arrival order, left in place."""
        if not appeal_ids:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for aid in appeal_ids:
                pipe.lrange(self._key(aid), 0, -1)
            replies = await pipe.execute()
        return {aid: r for aid, r in zip(appeal_ids, replies, strict=True) if r}

    async def drop(self, applied: dict[str, list[bytes]]) -> dict[str, int]:
        """Remove the records just applied (as :meth:`peek` returned them) from the head of
        each appeal's queue; returns how many are left (events parked meanwhile, behind
        them). Records another applier removed first are left alone, not miscounted."""
        async with self.client.pipeline(transaction=False) as pipe:
            for aid, records in applied.items():
                pipe.eval(_DROP, 2, self._key(aid), self._due, len(records), aid, records[-1])
            left = await pipe.execute()
        return dict(zip(applied, left, strict=True))

    async def expired(self, now: float | None = None) -> list[str]:
        """Appeals whose first parked event has waited ``wait_s`` or more."""
        now = now if now is not None else time.time()
        ids = await self.client.zrangebyscore(self._due, "-inf", now - self.wait_s)
        return [i.decode() if isinstance(i, bytes) else i for i in ids]
