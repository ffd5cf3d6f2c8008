"""The appeal an assigned case is about, for the case's next hop (改派, 重办).

An assignment carries the appeal (masked text, address, channel, category, district …) so
a department's system needs only its own topic. A later hop is started by a case event,
which carries none of it: the SLA stage keeps each case's latest assignment that had the
appeal, and copies the appeal into the next hop's assignment. Keys:
``<prefix><appeal_id>`` → the assignment's JSON, kept ``ttl_s`` after its last hop (every
hop writes it again).
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as aioredis

from models.assignment import Assignment

#: What a later hop takes over from the assignment before it: the appeal and how it was
#: understood. Routing (lead, assisting, rule, confidence) and the reviewer's decision id
#: belong to the earlier hop and are not copied.
APPEAL_FIELDS = (
    "category", "subcategory", "category_confidence", "district", "topic", "appeal_type",
    "urgency", "tags", "channel", "received_at", "title", "content", "address",
    "attachments", "contact_ref",
)  # fmt: skip


def carries_appeal(a: Assignment) -> bool:
    """Whether the assignment holds the appeal's text (those before this store did not
    on a later hop)."""
    return a.content is not None or a.title is not None


def appeal_of(a: Assignment) -> dict:
    """The fields of :data:`APPEAL_FIELDS`, as keyword arguments for the next hop."""
    return {name: getattr(a, name) for name in APPEAL_FIELDS}


class CaseDossiers:
    """The latest appeal-carrying assignment of each case, with a retention period."""

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    async def remember(self, assignments: Iterable[Assignment]) -> int:
        """Keep those that carry the appeal (a later one of a case replaces an earlier
        one: hops come in order on the case's partition); returns how many."""
        latest = {a.appeal_id: a for a in assignments if carries_appeal(a)}
        if latest:
            async with self.client.pipeline(transaction=False) as pipe:
                for aid, a in latest.items():
                    pipe.set(self.prefix + aid, a.dumps(), ex=self.ttl_s)
                await pipe.execute()
        return len(latest)

    async def recall(self, appeal_id: str) -> Assignment | None:
        """The case's latest assignment that carried the appeal, or ``None`` (never kept,
        or expired)."""
        raw = await self.client.get(self.prefix + appeal_id)
        return None if raw is None else Assignment.loads(raw)
