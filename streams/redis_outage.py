"""Riding out a Redis outage without losing records.

An agent whose batch fails on Redis would crash, and faust moves past the events it was
handling: they would be lost. Instead the batch waits here and is tried again until
Redis answers; meanwhile its offsets stay unacknowledged, so a worker stopped during the
outage leaves the batch to its successor. Every batch step is idempotent (appeal ids,
event ids, record positions), so a retried step repeats nothing visible except, at
worst, a dead letter sent twice (keyed by its source position).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Redis unreachable (refused, reset, timed out); other Redis errors are bugs, not outages.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


async def until_redis_answers(
    what: str, step: Callable[..., Awaitable[T]], *args: object, longest_wait: float = 30.0
) -> T:
    """Run ``step(*args)``; while Redis is unreachable, log and run it again after a
    growing wait (0.5 s doubling up to ``longest_wait``)."""
    wait = 0.5
    while True:
        try:
            return await step(*args)
        except REDIS_DOWN as exc:
            log.warning(
                "Redis unreachable during %s (%s); retrying in %.1f s, nothing acknowledged",
                what, exc, wait,
            )  # fmt: skip
            await asyncio.sleep(wait)
            wait = min(wait * 2, longest_wait)
