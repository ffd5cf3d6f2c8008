"""Appeals waiting for a reviewer's decision, and which decisions were already applied."""

from __future__ import annotations

import redis.asyncio as aioredis

from models.appeal import Appeal


class PendingReviews:
    """``<prefix>review:<appeal_id>`` holds the appeal until a decision is applied;
    ``<prefix>review-applied:<decision_id>`` marks a decision whose assignment went out."""

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int = 90 * 86400) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    async def put_records(self, records: list[tuple[str, bytes]]) -> None:
        """Keep appeals, as their JSON records ``(appeal_id, json)``, until someone decides
        (idempotent)."""
        if not records:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for appeal_id, record in records:
                pipe.set(f"{self.prefix}review:{appeal_id}", record, ex=self.ttl_s)
            await pipe.execute()

    async def get(self, appeal_id: str) -> Appeal | None:
        raw = await self.client.get(f"{self.prefix}review:{appeal_id}")
        return Appeal.loads(raw) if raw else None

    async def waiting(self, limit: int = 10_000) -> dict[str, Appeal]:
        """Appeals waiting for a decision, by id (at most ``limit``; SCAN, so a large queue
        does not block Redis)."""
        keys = []
        async for key in self.client.scan_iter(match=f"{self.prefix}review:*", count=500):
            keys.append(key)
            if len(keys) >= limit:
                break
        if not keys:
            return {}
        values = await self.client.mget(keys)
        return {a.appeal_id: a for a in (Appeal.loads(v) for v in values if v is not None)}

    async def applied(self, decision_id: str) -> bool:
        """Whether this decision was applied (its assignment published) already."""
        return bool(await self.client.exists(f"{self.prefix}review-applied:{decision_id}"))

    async def settle(self, decision_id: str, appeal_id: str) -> None:
        """Record the decision as applied and take its appeal off the queue, atomically.

        Called only after the decision's assignment is acknowledged by the broker: a worker
        that dies before this finds the appeal still waiting and the decision not applied,
        and applies it again on redelivery (same assignment id, deduplicated downstream).
        """
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(f"{self.prefix}review-applied:{decision_id}", 1, ex=self.ttl_s)
            pipe.delete(f"{self.prefix}review:{appeal_id}")
            await pipe.execute()
