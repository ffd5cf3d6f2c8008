"""Create topics up front, so consumers never subscribe to a topic that does not exist yet.

A faust worker that starts before its input topic exists ignores that topic until the
next metadata refresh (minutes): records published meanwhile would wait unseen.

Creating is not enough: CreateTopics returns once the controller has the topic, but a
broker still busy with earlier creations (hundreds of department topics on a fresh
broker) may answer metadata requests without it for seconds. A consumer that joins its
group in that window (aiokafka) leaves the topic out until its next metadata refresh, and
a producer's first sends fail and retry. So :func:`ensure_topics` returns only once the
broker lists every topic it was given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

log = logging.getLogger(__name__)

#: DescribeConfigs' source of a value set on the topic itself (not a broker or default).
_TOPIC_SET = 1

#: Longest wait for created topics to appear in the broker's metadata (seconds).
VISIBLE_TIMEOUT_S = 60.0


async def ensure_topics(
    bootstrap: str,
    names: list[str],
    partitions: int,
    replication: int = 1,
    configs: dict[str, str] | None = None,
) -> list[str]:
    """Create the missing topics among ``names`` (with topic ``configs``, if given), wait
    until the broker's metadata lists all of ``names``, and return the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker won the race
                new = [NewTopic(n, partitions, replication, topic_configs=configs) for n in missing]
                await admin.create_topics(new)
        await _await_visible(admin, names)
        return missing
    finally:
        await admin.close()


def ensure_topics_sync(
    bootstrap: str, names: list[str], partitions: int, configs: dict[str, str] | None = None
) -> list[str]:
    """Blocking wrapper for command-line use."""
    return asyncio.run(ensure_topics(bootstrap, names, partitions, configs=configs))


async def align_topic_configs(
    bootstrap: str, names: list[str], wanted: dict[str, str]
) -> list[str]:
    """Give existing topics ``names`` the ``wanted`` configs where they differ; return the
    topics changed.

    For topics created before a setting existed (or under another value): creating only
    applies configs to new topics. Kafka's AlterConfigs replaces a topic's whole set, so
    the configs set on the topic by hand (``kafka-configs --alter``) are sent back with
    ours and kept. A topic holding a sensitive config (which the broker does not reveal,
    so it could not be sent back) is left alone, with a warning.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        changes = []
        for response in await admin.describe_configs(resources):
            for error, message, _, topic, entries in response.resources:
                if error:
                    raise for_code(error)(f"describing {topic}'s configs: {message}")
                current = {e[0]: e[1] for e in entries}
                if all(current.get(k) == v for k, v in wanted.items()):
                    continue
                if any(e[4] and e[3] == _TOPIC_SET for e in entries):
                    log.warning("%s has a sensitive config; not changing %s", topic, wanted)
                    continue
                own = {e[0]: e[1] for e in entries if e[3] == _TOPIC_SET}
                changes.append(ConfigResource(ConfigResourceType.TOPIC, topic, {**own, **wanted}))
        if changes:
            for response in await admin.alter_configs(changes):
                for error, message, _, topic in response.resources:
                    if error:
                        raise for_code(error)(f"altering {topic}'s configs: {message}")
        return [c.name for c in changes]
    finally:
        await admin.close()


async def _await_visible(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Wait until the broker's metadata lists every topic of ``names`` with a leader for each
    partition; raise ``TimeoutError`` naming the missing ones otherwise."""
    deadline = asyncio.get_running_loop().time() + VISIBLE_TIMEOUT_S
    while names:
        described = await admin.describe_topics(names)
        missing = [
            t["topic"]
            for t in described
            if t["error_code"] != 0
            or not t["partitions"]
            or any(p["leader"] < 0 for p in t["partitions"])
        ]
        if not missing:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(
                f"topics not in the broker's metadata after {VISIBLE_TIMEOUT_S}s: {missing}"
            )
        await asyncio.sleep(0.2)
