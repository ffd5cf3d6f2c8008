"""Learn every department topic's metadata once, at start.

The producer fetches metadata for a topic on its first send, and each fetch covers every
topic it already tracks: ~300 department topics discovered one by one cost seconds of
CPU while dispatch waits. One fetch for all of them at start avoids that.

The tracked list must also hold every topic the worker already sends to. Until its first
``add_topic``, aiokafka's client tracks no topic and fetches metadata for *all* topics, so
a send to a topic that exists finds its partitions without the topic being tracked. A
worker restarted with a backlog sends its first batch before this task runs; narrowing
the tracked list to the department topics then dropped ``appeals.classified`` and
``assignments.all`` from the metadata, their records waited for a leader the client no
longer asked about (about 400 metadata requests a second) and the agent waited for their
acknowledgements until the producer's request timeout (20 minutes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from streams.app import app
from streams.topics import ALL, department_topic_names

log = logging.getLogger(__name__)


def topics_to_track(tracked: Iterable[str], declared: Iterable[str] | None = None) -> set[str]:
    """What the producer's client should track: what it ``tracked`` already, the department
    topics, and every topic the worker may send to (``declared``; default: the app's
    topics and its tables' changelogs)."""
    if declared is None:
        declared = [t.get_topic_name() for t in ALL] + [
            table.changelog_topic.get_topic_name() for table in app.tables.values()
        ]
    return set(tracked) | set(department_topic_names()) | set(declared)


@app.task
async def track_department_topics() -> None:
    """Add all department topics to the producer's metadata in one request."""
    try:
        producer = app.producer._ensure_producer()  # the underlying aiokafka producer
        client = producer.client
        await client.set_topics(sorted(topics_to_track(client._topics)))
        log.info("tracking metadata of %d topics (department and the worker's own)",
                 len(client._topics))  # fmt: skip
    except Exception:  # an optimisation only: first sends still work without it
        log.exception("could not pre-fetch department topic metadata")
