"""The worker's connection to the restricted contact store (one per process)."""

from __future__ import annotations

import redis.asyncio as aioredis

from contacts.redis_store import ContactStore
from streams.app import settings

_store: ContactStore | None = None


def contact_store() -> ContactStore:
    """The process-wide :class:`ContactStore`, created on first use."""
    global _store
    if _store is None:
        _store = ContactStore(aioredis.Redis.from_url(settings.redis_url))
    return _store
