"""Reviewers' corrections the corrections file could not take, kept in Redis until it can.

The corrections file (``understand/corrections.py``) is training data: a full disk, a file
someone saved into a shape the writer refuses or a permission taken away must not hold up
dispatch, least of all an emergency a reviewer confirmed. The decision agent applies the
decision, keeps its correction here and writes it (first, in order) before the next
decision's; nothing is lost, and the worker log says what happened.

One Redis list, oldest first; each entry is the decision's JSON with the appeal's title
and content. Writing a correction twice adds no second row (the file's appends are
idempotent by appeal and decision id), so two workers draining the list at once is safe.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis

from models.review import ReviewDecision


@dataclass(frozen=True, slots=True)
class UnsavedCorrection:
    """A decision whose correction is not in the file yet, with the appeal's text."""

    decision: ReviewDecision
    title: str
    content: str
    entry: bytes  # as stored: what :meth:`UnsavedCorrections.drop` removes


class UnsavedCorrections:
    """The list ``<prefix>corrections-unsaved``."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}corrections-unsaved"

    async def keep(self, decision: ReviewDecision, title: str, content: str) -> None:
        """Keep a correction for later (after those kept before it)."""
        entry = {"decision": orjson.loads(decision.dumps()), "title": title, "content": content}
        await self.client.rpush(self.key, orjson.dumps(entry))

    async def all(self) -> list[UnsavedCorrection]:
        """Every kept correction, oldest first."""
        out = []
        for entry in await self.client.lrange(self.key, 0, -1):
            data = orjson.loads(entry)
            decision = ReviewDecision.from_data(data["decision"])
            out.append(UnsavedCorrection(decision, data["title"], data["content"], entry))
        return out

    async def drop(self, correction: UnsavedCorrection) -> None:
        """Forget a correction now in the file (one copy: another worker may hold it too)."""
        await self.client.lrem(self.key, 1, correction.entry)

    async def count(self) -> int:
        """How many are waiting for the file."""
        return await self.client.llen(self.key)
