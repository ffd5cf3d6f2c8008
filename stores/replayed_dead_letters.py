"""Which dead letters were already sent back to their source topic (``hotline deadletter
replay``), so that running a replay again does not send them twice, and the lock that
keeps two replays of one topic from running at once.

One Redis sorted set. A member names a letter by its position on the dead-letter topic
and the broker's timestamp of its record (``<partition>/<offset>@<ms>``), scored by that
timestamp. The position alone is not enough: a dead-letter topic deleted and created
again starts at offset 0, and its new letters would be taken for the old ones, replayed
long ago, and never sent. The score lets a replay forget the marks of letters the topic
no longer holds (its retention dropped them), so the set does not grow for ever.

Before, the set was a plain Redis set of ``<partition>/<offset>``; the first call of
:meth:`ReplayedDeadLetters.replayed` converts it, keeping the marks of the letters still
on the topic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress

import redis.asyncio as aioredis
from redis.exceptions import LockError

#: How long a replay's lock outlives a replay that died without releasing it (seconds).
#: A running replay renews it with every chunk it marks.
LOCK_TTL_S = 300


class ReplayRunning(Exception):
    """Another replay of the same dead-letter topic holds the lock."""


def mark_of(letter_id: str, stamp: int) -> str:
    """The member that marks the letter at ``letter_id`` whose record has this timestamp."""
    return f"{letter_id}@{stamp}"


class ReplayedDeadLetters:
    """Marks of replayed dead letters, and the replay lock, in Redis."""

    def __init__(self, client: aioredis.Redis, key: str) -> None:
        self.client = client
        self.key = key
        self._lock = None

    async def replayed(self, letters: Iterable[tuple[str, int]]) -> set[str]:
        """The ids of those ``(letter_id, stamp)`` letters that were replayed."""
        letters = list(letters)
        await self._upgrade(letters)
        if not letters:
            return set()
        scores = await self.client.zmscore(self.key, [mark_of(*letter) for letter in letters])
        return {lid for (lid, _), score in zip(letters, scores, strict=True) if score is not None}

    async def mark(self, letters: Iterable[tuple[str, int]]) -> None:
        """Remember these ``(letter_id, stamp)`` letters as replayed (idempotent). Under
        :meth:`exclusive`, first renew the lock: a replay that lost it (it stalled past
        :data:`LOCK_TTL_S` and another started) stops here with :class:`LockError`."""
        if self._lock is not None:
            await self._lock.reacquire()
        mapping = {mark_of(lid, stamp): stamp for lid, stamp in letters}
        if mapping:
            await self.client.zadd(self.key, mapping)

    async def forget_before(self, stamp: int) -> int:
        """Drop the marks of letters older than ``stamp`` (ms), the oldest letter the topic
        still holds: the others are gone. Returns how many were dropped."""
        return await self.client.zremrangebyscore(self.key, "-inf", f"({stamp}")

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the replay lock of this topic for the block, or raise :class:`ReplayRunning`.

        Two replays reading the topic at once would both find a letter unmarked and both
        send it. The lock expires :data:`LOCK_TTL_S` after the last renewal, so a replay
        killed mid-way does not block the next one for longer than that."""
        lock = self.client.lock(f"{self.key}:lock", timeout=LOCK_TTL_S, blocking=False)
        if not await lock.acquire():
            raise ReplayRunning(
                f"another replay of these dead letters is running (lock {self.key}:lock, "
                f"held for at most {LOCK_TTL_S} s after its last step); try again when it ends"
            )
        self._lock = lock
        try:
            yield
        finally:
            self._lock = None
            with suppress(LockError):  # expired meanwhile: nothing to release
                await lock.release()

    async def _upgrade(self, letters: list[tuple[str, int]]) -> None:
        """Convert the plain set of positions that earlier versions kept: the positions of
        letters still on the topic become marks with their timestamps, the rest go."""
        if await self.client.type(self.key) not in (b"set", "set"):
            return
        positions = {m.decode() for m in await self.client.smembers(self.key)}
        mapping = {mark_of(lid, stamp): stamp for lid, stamp in letters if lid in positions}
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.key)
            if mapping:
                pipe.zadd(self.key, mapping)
            await pipe.execute()
