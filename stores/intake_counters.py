"""Running totals of intake outcomes per channel, for operators and the demo report."""

from __future__ import annotations

from collections import Counter

import redis.asyncio as aioredis

OUTCOMES = ("normalised", "published", "duplicate", "dead_lettered")


class IntakeCounters:
    """A Redis hash of ``<channel>.<outcome>`` → count."""

    def __init__(self, client: aioredis.Redis, key: str) -> None:
        self.client = client
        self.key = key

    async def add(self, counts: Counter[str]) -> None:
        """Add ``{"mailbox.published": 3, ...}`` in one round trip."""
        if not counts:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for field, n in counts.items():
                pipe.hincrby(self.key, field, n)
            await pipe.execute()

    async def read(self) -> dict[str, int]:
        """All counters (missing ones are zero)."""
        raw = await self.client.hgetall(self.key)
        return {k.decode(): int(v) for k, v in raw.items()}
