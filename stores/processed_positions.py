"""How far a stage got in each partition of a topic, so a record delivered again after a
crash or a rebalance is known as processed instead of being judged afresh.

The SLA engine knows a repeated case event by its id among the case's last four records
(``sla/events.py``); an older one is judged by its time and rejected as out of order. The
offsets a worker commits lag what it applied by up to faust's commit interval, so after a
crash every case event of that stretch came back, and those of busy cases went to the
dead-letter topic as ``SLA_OUT_OF_ORDER`` although they had been applied (845 letters
after three SIGKILLs in 8,500 records). This mark is raised after each batch's effects
(Redis writes, dead letters) are done, so only a crash inside a batch leaves records
behind it to be judged again.

One hash per topic: partition → the highest offset processed. A mark is only raised
(Lua), so a worker that lost the partition in a rebalance cannot lower it.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as aioredis

_RAISE = """
for i = 1, #ARGV, 2 do
  local old = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > old then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 0
"""


class ProcessedPositions:
    """The processed marks of the topics a stage reads, in Redis hashes ``<prefix><topic>``."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._raise = client.register_script(_RAISE)

    async def marks(self, topic: str) -> dict[int, int]:
        """``{partition: highest offset processed}`` of ``topic``."""
        raw = await self.client.hgetall(self.prefix + topic)
        return {int(p): int(o) for p, o in raw.items()}

    async def raise_to(self, topic: str, offsets: Mapping[int, int]) -> None:
        """Record ``{partition: offset}`` as processed, where beyond the current mark."""
        if offsets:
            args = [x for p, o in offsets.items() for x in (p, o)]
            await self._raise(keys=[self.prefix + topic], args=args)
