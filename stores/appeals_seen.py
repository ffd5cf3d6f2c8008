"""Which raw record first produced each appeal id, so a re-sent record is published once.

``SET key position NX GET`` answers in one command whether the id is new, and if not,
which raw position claimed it. A redelivery of the *same* position (after a crash before
the offset commit) is published again, keeping at-least-once; a *different* position
with a known id is a channel re-send and is suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis


class SeenAppeals:
    """The seen-appeals index in Redis, with a retention period."""

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    async def claim_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """For each ``(appeal_id, raw_position)``: True if it should be published."""
        if not items:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for appeal_id, position in items:
                pipe.set(self.prefix + appeal_id, position, nx=True, get=True, ex=self.ttl_s)
            previous = await pipe.execute()
        return [
            old is None or old.decode() == position
            for old, (_, position) in zip(previous, items, strict=True)
        ]
