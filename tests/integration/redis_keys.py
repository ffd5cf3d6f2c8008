"""Removing what a test wrote to the shared Redis: every key under its prefix."""

from __future__ import annotations

import redis.asyncio as aioredis

from stores.key_pattern import scan_batches


async def delete_keys(client: aioredis.Redis, prefix: str) -> None:
    """Delete every key that starts with ``prefix`` (SCAN, UNLINK a thousand at a time)."""
    async for keys in scan_batches(client, prefix):
        await client.unlink(*keys)
