"""WeChat messages whose session was already closed (its appeal or dead letter is out).

A worker that crashes before the pieces' offsets are committed gets them again, while its
session table (restored from the changelog) may already hold the sender's next session or
none: a redelivered piece would then open a session of its own (the closed appeal's id
with other content, or a new appeal repeating published text). WeChat resending a message
after its session closed is the same case. Keys: ``<prefix><contact_ref>:<msg_id>``,
kept as long as appeal ids are.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as aioredis


class ClosedWeChatMessages:
    """Message ids of closed WeChat sessions, per sender, with a retention period."""

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    def _key(self, contact_ref: str, msg_id: str) -> str:
        return f"{self.prefix}{contact_ref}:{msg_id}"

    async def remember(self, messages: Iterable[tuple[str, str]]) -> None:
        """Mark ``(contact_ref, msg_id)`` pairs as closed."""
        async with self.client.pipeline(transaction=False) as pipe:
            for contact_ref, msg_id in messages:
                pipe.set(self._key(contact_ref, msg_id), 1, ex=self.ttl_s)
            await pipe.execute()

    async def closed(self, contact_ref: str, msg_id: str) -> bool:
        """Whether the message belongs to a session closed already."""
        return bool(await self.client.exists(self._key(contact_ref, msg_id)))
