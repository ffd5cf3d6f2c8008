"""Read the SLA's source of truth back from Kafka: every assignment and case event.

``hotline sla rebuild`` replays these into Redis when Redis is lost; the result equals
what live processing produced (the engine is deterministic and records carry their ids).
"""

from __future__ import annotations

import logging

import orjson

from intake.errors import IntakeError
from models.assignment import Assignment
from sla.events import record_time
from sla.rebuild import Record, merge_streams
from stack.topic_read import read_to_end
from streams.agents.sla_clocks import HOP_EVENTS, assignment_in, parse_case_event

log = logging.getLogger(__name__)


async def _read(bootstrap: str, topic: str) -> list[bytes]:
    """Every non-empty value of ``topic`` up to its end offsets at the time of the call."""
    return [r.value for r in await read_to_end(bootstrap, topic) if r.value]


async def read_sla_log(bootstrap: str, assignments_topic: str, events_topic: str) -> list[Record]:
    """All assignments and valid case events, merged in the order the engine applies them."""
    # an assignment published for a 改派 or 重办 is a consequence of that event, which the
    # engine replays itself (live, that assignment arrives as a duplicate)
    assignments = [
        assignment_in(a)
        for a in (Assignment.loads(v) for v in await _read(bootstrap, assignments_topic))
        if a.rule_id not in HOP_EVENTS
    ]
    events = []
    for value in await _read(bootstrap, events_topic):
        try:
            events.append(parse_case_event(value))
        except IntakeError:
            continue  # dead-lettered when it first arrived; never applied
    log.info("SLA log: %d assignments, %d case events", len(assignments), len(events))
    # partitions were read one after another: order each stream by time (stable, so one
    # appeal's records keep their partition order) before the engine's merge
    assignments.sort(key=record_time)
    events.sort(key=record_time)
    return merge_streams(assignments, events)


async def read_alert_ids(bootstrap: str, alerts_topic: str) -> set[str]:
    """Ids of every alert already published on ``sla.alerts`` (what the rebuild must not
    raise again, and the only thresholds it may count as fired)."""
    ids = set()
    for value in await _read(bootstrap, alerts_topic):
        try:
            ids.add(orjson.loads(value)["alert_id"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("unreadable record on %s skipped", alerts_topic)
    return ids
