"""Create topics up front, so consumers never subscribe to a topic that does not exist yet.

A faust worker that starts before its input topic exists ignores that topic until the
next metadata refresh (minutes): records published meanwhile would wait unseen.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(
    bootstrap: str, names: list[str], partitions: int, replication: int = 1
) -> list[str]:
    """Create the missing topics among ``names``; return the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker won the race
                await admin.create_topics([NewTopic(n, partitions, replication) for n in missing])
        return missing
    finally:
        await admin.close()


def ensure_topics_sync(bootstrap: str, names: list[str], partitions: int) -> list[str]:
    """Blocking wrapper for command-line use."""
    return asyncio.run(ensure_topics(bootstrap, names, partitions))
