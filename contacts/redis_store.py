"""Contact store in Redis: one hash per contact reference, in its own key space.

Keep it on a Redis (or database) that only the contact service may read; by default it
shares the project's Redis under the ``contact:`` prefix.
"""

from __future__ import annotations

import orjson
import redis.asyncio as aioredis

from contacts.record import Contact


class ContactStore:
    """Writes and reads :class:`Contact` records by reference."""

    def __init__(self, client: aioredis.Redis, prefix: str = "contact:") -> None:
        self.client = client
        self.prefix = prefix

    async def save(self, contact: Contact) -> None:
        """Upsert the contact's fields and record the numbers found in each appeal's text."""
        key = self.prefix + contact.ref
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=contact.fields())
            for appeal_id, found in contact.found_in_text.items():
                if found:
                    pipe.hset(key, f"text:{appeal_id}", orjson.dumps(found))
            await pipe.execute()

    async def load(self, ref: str) -> dict[str, str]:
        """All stored fields of a reference (empty dict if unknown)."""
        raw = await self.client.hgetall(self.prefix + ref)
        return {k.decode(): v.decode() for k, v in raw.items()}
