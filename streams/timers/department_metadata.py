"""Learn every department topic's metadata once, at start.

The producer fetches metadata for a topic on its first send, and each fetch covers every
topic it already tracks: ~300 department topics discovered one by one cost seconds of
CPU while dispatch waits. One fetch for all of them at start avoids that.
"""

from __future__ import annotations

import logging

from streams.app import app
from streams.topics import department_topic_names

log = logging.getLogger(__name__)


@app.task
async def track_department_topics() -> None:
    """Add all department topics to the producer's metadata in one request."""
    try:
        producer = app.producer._ensure_producer()  # the underlying aiokafka producer
        names = set(department_topic_names())
        client = producer.client
        await client.set_topics(list(set(client._topics) | names))
        log.info("tracking metadata of %d department topics", len(names))
    except Exception:  # an optimisation only: first sends still work without it
        log.exception("could not pre-fetch department topic metadata")
