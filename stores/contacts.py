"""Contact store in Redis: one hash per contact reference, under its own key prefix.

Only the contact service should read it. Personal data are kept no longer than the cases
need them: a reference expires ``ttl_s`` after the citizen's last appeal (each appeal
starts the period again), long enough for the case, its follow-up (回访) and a reopening.
It shares the worker's Redis
(``HOTLINE_REDIS_URL``) under its own key prefix; a deployment wanting it apart would
need a setting of its own, which does not exist yet. Nothing read from here is ever
published to a topic.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import redis.asyncio as aioredis

from intake.contact import Contact


class ContactStore:
    """Writes and reads :class:`Contact` records by reference."""

    def __init__(self, client: aioredis.Redis, prefix: str = "contact:", ttl_s: int = 0) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s  # 0 or less: kept until deleted by hand

    async def save_many(self, contacts: Iterable[Contact]) -> None:
        """Upsert contacts in one round trip, with the numbers found in each appeal's text;
        each one's retention period starts again."""
        async with self.client.pipeline(transaction=False) as pipe:
            for contact in contacts:
                key = self.prefix + contact.ref
                pipe.hset(key, mapping=contact.fields())
                for appeal_id, found in contact.found_in_text.items():
                    if found:
                        pipe.hset(key, f"text:{appeal_id}", orjson.dumps(found))
                if self.ttl_s > 0:
                    pipe.expire(key, self.ttl_s)
            await pipe.execute()

    async def load(self, ref: str) -> dict[str, str]:
        """All stored fields of a reference (empty dict if unknown)."""
        raw = await self.client.hgetall(self.prefix + ref)
        return {k.decode(): v.decode() for k, v in raw.items()}
