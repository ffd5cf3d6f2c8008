"""The appeal an assigned case is about, for the case's next hop (改派, 重办).

An assignment carries the appeal (masked text, address, channel, category, district …) so
a department's system needs only its own topic. A later hop is started by a case event,
which carries none of it: the SLA stage keeps each case's appeal as its latest
assignment carried it, and copies it into the next hop's assignment. Keys:
``<prefix><appeal_id>`` → the fields of :data:`APPEAL_FIELDS` as zlib-compressed JSON
(about 1 KB a case, measured on the shared appeals, against 2.2 KB for the whole
assignment's JSON), kept ``ttl_s`` after its last hop (every hop writes it again), and
once the case is closed only as long as the SLA stage remembers closed cases.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import orjson
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
    """Each case's appeal, as its latest assignment carried it, with a retention period."""

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    async def remember(self, assignments: Iterable[Assignment]) -> int:
        """Keep the appeal of those that carry it (a later one of a case replaces an
        earlier one: hops come in order on the case's partition); returns how many."""
        latest = {a.appeal_id: a for a in assignments if carries_appeal(a)}
        if latest:
            async with self.client.pipeline(transaction=False) as pipe:
                for aid, a in latest.items():
                    packed = zlib.compress(orjson.dumps(appeal_of(a)), 1)
                    pipe.set(self.prefix + aid, packed, ex=self.ttl_s)
                await pipe.execute()
        return len(latest)

    async def closed(self, appeal_ids: Iterable[str], keep_s: int) -> None:
        """Cases closed (办结): keep their appeals at most ``keep_s`` more seconds, as long
        as the SLA stage remembers a closed case (``HOTLINE_SLA_CLOSED_TTL``): a 重办 after
        that is refused as an unknown case, so the appeal would never be used. A later hop
        keeps the appeal again for the full ``ttl_s``. ``keep_s`` 0: closed cases are
        remembered for ever, and so are their appeals for ``ttl_s``."""
        keys = {self.prefix + aid for aid in appeal_ids}
        if keys and keep_s > 0:
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.expire(key, keep_s, lt=True)  # only ever shortens
                await pipe.execute()

    async def recall(self, appeal_id: str) -> dict | None:
        """The case's appeal as keyword arguments of :class:`Assignment`, or ``None``
        (never kept, or expired)."""
        packed = await self.client.get(self.prefix + appeal_id)
        return None if packed is None else orjson.loads(zlib.decompress(packed))
