"""Which raw record first produced each appeal id, so a re-sent record is published once.

``SET key position NX GET`` answers in one command whether the id is new, and if not,
which raw position claimed it. A redelivery of the *same* position (after a crash before
the offset commit, or a retry after an outage) is published again, keeping at-least-once;
a *different* position with a known id is a channel re-send and is suppressed.

The intake counters (``stores/intake_counters.py``) are raised in the same script as the
claims, so each raw record is counted once however often it is delivered: counted apart
from its claim, a record published again after a crash was counted again (the operators'
"new appeals" then exceeded the distinct appeals), or, counted before the send, not at all
when a retry found it claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import redis.asyncio as aioredis

# KEYS: counters hash, then one seen key per item; ARGV: ttl, then position and channel
# per item. Returns one letter per item: n(ew), r(edelivered), d(uplicate re-send).
_CLAIM = """
local ttl = ARGV[1]
local out = {}
for i = 2, #KEYS do
  local position, channel = ARGV[2 * i - 2], ARGV[2 * i - 1]
  local old = redis.call('SET', KEYS[i], position, 'NX', 'GET', 'EX', ttl)
  if not old then
    out[#out + 1] = 'n'
    redis.call('HINCRBY', KEYS[1], channel .. '.normalised', 1)
    redis.call('HINCRBY', KEYS[1], channel .. '.published', 1)
  elseif old == position then
    out[#out + 1] = 'r'
  else
    out[#out + 1] = 'd'
    redis.call('HINCRBY', KEYS[1], channel .. '.normalised', 1)
    redis.call('HINCRBY', KEYS[1], channel .. '.duplicate', 1)
  end
end
return out
"""


class Claim(Enum):
    """What the index says about one appeal and the raw position that produced it."""

    NEW = "n"  # first seen: publish and count
    REDELIVERED = "r"  # the position that claimed it, again: publish again, count nothing
    RESENT = "d"  # another position with a known id: a channel re-send, suppressed

    @property
    def publish(self) -> bool:
        """Whether the appeal goes (again) to appeals.received."""
        return self is not Claim.RESENT


class SeenAppeals:
    """The seen-appeals index in Redis, with a retention period."""

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s
        self._claim = client.register_script(_CLAIM)

    async def claim_many(
        self, items: Sequence[tuple[str, str, str]], counters_key: str
    ) -> list[Claim]:
        """Claim each ``(appeal_id, raw_position, channel)`` and count it in the hash
        ``counters_key`` (``<channel>.normalised`` and ``.published`` or ``.duplicate``)
        once, atomically with its claim: a redelivered position is not counted again."""
        if not items:
            return []
        keys = [counters_key, *(self.prefix + appeal_id for appeal_id, _, _ in items)]
        args: list[str | int] = [self.ttl_s]
        for _, position, channel in items:
            args += [position, channel]
        letters = await self._claim(keys=keys, args=args)
        return [Claim(x.decode() if isinstance(x, bytes) else x) for x in letters]
