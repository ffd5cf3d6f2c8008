"""Walking the keys under a prefix with SCAN."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as aioredis


def under(prefix: str) -> str:
    """A ``SCAN MATCH`` pattern for every key starting with ``prefix``: its glob characters
    (``* ? [ ] \\``) escaped, so a prefix such as ``centre[1]:`` matches only its own keys."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"


async def scan_batches(
    client: aioredis.Redis, prefix: str, size: int = 1000
) -> AsyncIterator[list[bytes]]:
    """The keys starting with ``prefix``, in lists of at most ``size`` (none empty), so a
    caller acts on them one round trip per list and never holds the whole keyspace."""
    batch: list[bytes] = []
    async for key in client.scan_iter(match=under(prefix), count=size):
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
