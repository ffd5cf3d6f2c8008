"""Contact store in Redis: one hash per contact reference, under its own key prefix.

Only the contact service should read it. Personal data are kept no longer than the cases
need them: a reference expires ``ttl_s`` after the citizen's last appeal (each appeal
starts the period again), long enough for the case, its follow-up (回访) and a reopening;
details stored under an earlier setting are brought into it at the intake worker's start
(:meth:`ContactStore.apply_retention`). It shares the worker's Redis
(``HOTLINE_REDIS_URL``) under its own key prefix; a deployment wanting it apart would need
a setting of its own, which does not exist yet. Nothing read from here is ever published
to a topic.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import redis.asyncio as aioredis

from intake.contact import Contact
from stores.key_pattern import scan_batches

#: Give each key (KEYS) the period ARGV[1] if it has none or a longer one left; return how
#: many changed. Read and written at once: a save in between renews the period anyway.
_RETAIN = """
local changed = 0
for _, key in ipairs(KEYS) do
  local left = redis.call('TTL', key)
  if left == -1 or left > tonumber(ARGV[1]) then
    redis.call('EXPIRE', key, ARGV[1])
    changed = changed + 1
  end
end
return changed
"""


class ContactStore:
    """Writes and reads :class:`Contact` records by reference."""

    def __init__(self, client: aioredis.Redis, prefix: str = "contact:", ttl_s: int = 0) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s  # 0 or less: kept until deleted by hand

    async def save_many(self, contacts: Iterable[Contact]) -> None:
        """Upsert contacts in one round trip: the latest details, the details given with
        each appeal (``given:<appeal id>``) and the numbers found in its text
        (``text:<appeal id>``); each one's retention period starts again."""
        async with self.client.pipeline(transaction=False) as pipe:
            for contact in contacts:
                key = self.prefix + contact.ref
                pipe.hset(key, mapping=contact.fields())  # the latest, for the citizen
                given = contact.given()
                if contact.appeal_id and given:  # and as given with this appeal
                    pipe.hset(key, f"given:{contact.appeal_id}", orjson.dumps(given))
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

    @property
    def retention_key(self) -> str:
        """Marks the period last applied to every stored reference (outside the prefix)."""
        return self.prefix.rstrip(":") + "-retention"

    async def apply_retention(self, batch: int = 1000) -> int | None:
        """Bring references saved under another setting into the current period: those kept
        without a limit (saved before retention existed, or with a period of 0) or with
        more left than the period now get the period, from now. Returns how many changed,
        or ``None`` when nothing had to be done (already applied for this period, or no
        period). One SCAN of the keyspace, once per change of the setting."""
        if self.ttl_s <= 0:
            # saves keep no period now: the next period set must be applied again
            await self.client.delete(self.retention_key)
            return None
        if await self.client.get(self.retention_key) == str(self.ttl_s).encode():
            return None
        changed = 0
        async for keys in scan_batches(self.client, self.prefix, batch):
            changed += await self.client.eval(_RETAIN, len(keys), *keys, self.ttl_s)
        await self.client.set(self.retention_key, self.ttl_s)
        return changed
