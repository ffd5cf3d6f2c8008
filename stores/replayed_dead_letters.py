"""Which dead letters were already sent back to their source topic (``hotline deadletter
replay``), so that running a replay again does not send them twice.

One Redis set of dead-letter ids (``<partition>/<offset>`` on the dead-letter topic). It
grows by one short member per replayed letter; dead letters are rare, and the topic's
own retention bounds how many there can be.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as aioredis


class ReplayedDeadLetters:
    """A Redis set of replayed dead-letter ids."""

    def __init__(self, client: aioredis.Redis, key: str) -> None:
        self.client = client
        self.key = key

    async def all(self) -> set[str]:
        """Every id marked so far."""
        return {m.decode() for m in await self.client.smembers(self.key)}

    async def mark(self, ids: Iterable[str]) -> None:
        """Remember these ids as replayed (idempotent)."""
        ids = list(ids)
        if ids:
            await self.client.sadd(self.key, *ids)
