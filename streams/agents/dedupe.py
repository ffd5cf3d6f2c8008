"""Publish each appeal once: the same raw record re-sent maps to the same appeal id.

A repeat of the *same* raw position (a redelivery after a crash) is forwarded again so
at-least-once holds; consumers dedupe by ``appeal_id``. A *different* raw record with an
already-seen appeal id is a re-send by the channel and is counted and logged, not published.
"""

from __future__ import annotations

import logging

from streams import topics
from streams.app import app
from streams.tables.appeals_seen import appeals_first_seen

log = logging.getLogger(__name__)


@app.agent(topics.normalised)
async def dedupe_appeals(stream):
    """intake.normalised → appeals.received, once per appeal id."""
    async for appeal in stream:
        position = appeal.raw.as_text()
        first = appeals_first_seen.get(appeal.appeal_id)
        if first is not None and first != position:
            log.info("duplicate appeal %s from %s (first seen at %s): not republished", appeal.appeal_id, position, first)
            continue
        appeals_first_seen[appeal.appeal_id] = position
        await topics.received.send(key=appeal.appeal_id, value=appeal)
