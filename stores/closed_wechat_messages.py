"""WeChat messages whose session was already closed (its appeal or dead letter is out).

A worker that crashes before the pieces' offsets are committed gets them again, while its
session table (restored from the changelog) may already hold the sender's next session or
none: a redelivered piece would then open a session of its own (the closed appeal's id
with other content, or a new appeal repeating published text). WeChat resending a message
after its session closed is the same case. Keys: ``<prefix><contact_ref>:<msg_id>``,
kept as long as appeal ids are.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

#: Stored for the message a closed session's appeal is named after (its first): a whole
#: session sent again is then counted once, as one appeal re-sent, not once per message.
FIRST = "first"
#: Stored for the session's other messages.
JOINED = "1"


class ClosedWeChatMessages:
    """Message ids of closed WeChat sessions, per sender, with a retention period."""

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    def _key(self, contact_ref: str, msg_id: str) -> str:
        return f"{self.prefix}{contact_ref}:{msg_id}"

    async def remember(self, contact_ref: str, msg_ids: Sequence[str]) -> None:
        """Mark a closed session's messages, its first (the appeal's id) first."""
        async with self.client.pipeline(transaction=False) as pipe:
            for i, msg_id in enumerate(msg_ids):
                pipe.set(self._key(contact_ref, msg_id), FIRST if i == 0 else JOINED, ex=self.ttl_s)
            await pipe.execute()

    async def closed(self, contact_ref: str, msg_id: str) -> str | None:
        """:data:`FIRST` or :data:`JOINED` if the message belongs to a session closed
        already, else ``None``."""
        value = await self.client.get(self._key(contact_ref, msg_id))
        return None if value is None else value.decode()
