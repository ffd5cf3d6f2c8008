"""Removing what a test wrote to the shared Redis: every key under its prefix."""

from __future__ import annotations

import redis.asyncio as aioredis


async def delete_keys(client: aioredis.Redis, prefix: str) -> None:
    """Delete every key that starts with ``prefix`` (SCAN, then UNLINK a thousand at a time)."""
    keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
    for i in range(0, len(keys), 1000):
        await client.unlink(*keys[i : i + 1000])
