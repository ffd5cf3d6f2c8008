"""The waiting area for case events that overtake their assignment, on the real Redis."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from stores.early_case_events import EarlyCaseEvents

pytestmark = pytest.mark.integration


async def test_park_peek_drop_keeps_order_and_what_came_meanwhile(redis_url, unique_prefix):
    client = aioredis.Redis.from_url(redis_url)
    early = EarlyCaseEvents(client, prefix=unique_prefix, wait_s=60)
    try:
        await early.park("A1", b"e1", now=1000.0)
        await early.park("A1", b"e2", now=1005.0)
        await early.park("A2", b"f1", now=1010.0)
        assert await early.waiting(["A1", "A2", "A3"]) == {"A1", "A2"}
        parked = await early.peek(["A1", "A3"])
        assert parked == {"A1": [b"e1", b"e2"]}  # arrival order; A3 has nothing
        await early.park("A1", b"e3", now=1020.0)  # arrives while e1, e2 are being applied
        assert await early.drop({"A1": 2}) == {"A1": 1}  # e3 is left, behind them
        assert await early.peek(["A1"]) == {"A1": [b"e3"]}
        assert await early.drop({"A1": 1}) == {"A1": 0}
        assert await early.waiting(["A1"]) == set()
        # A1's wait was forgotten when its queue emptied; A2's started at 1010
        assert await early.expired(now=1060.0) == []
        assert await early.expired(now=1071.0) == ["A2"]
    finally:
        keys = [k async for k in client.scan_iter(f"{unique_prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
