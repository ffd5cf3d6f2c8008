"""The waiting area for case events that overtake their assignment, on the real Redis."""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from models.case_event import CaseEvent
from models.dead_letter import DeadLetter
from sla.events import Outcome, OutcomeKind, Reason
from stores.early_case_events import EarlyCaseEvents
from tests.integration.redis_keys import delete_keys

pytestmark = pytest.mark.integration


async def test_park_peek_drop_keeps_order_and_what_came_meanwhile(redis_url, unique_prefix):
    client = aioredis.Redis.from_url(redis_url)
    early = EarlyCaseEvents(client, prefix=unique_prefix, wait_s=60)
    try:
        await early.park("A1", b"e1", now=1000.0)
        await early.park("A1", b"e2", now=1005.0)
        await early.park("A2", b"f1", now=1010.0)
        assert await early.waiting(["A1", "A2", "A3"]) == {"A1", "A2"}
        parked = await early.peek(["A1", "A3"])
        assert parked == {"A1": [b"e1", b"e2"]}  # arrival order; A3 has nothing
        await early.park("A1", b"e3", now=1020.0)  # arrives while e1, e2 are being applied
        assert await early.drop({"A1": [b"e1", b"e2"]}) == {"A1": 1}  # e3 is left, behind them
        assert await early.peek(["A1"]) == {"A1": [b"e3"]}
        # a second applier that had read e1, e2 too must not drop e3 in their place
        assert await early.drop({"A1": [b"e1", b"e2"]}) == {"A1": 1}
        assert await early.peek(["A1"]) == {"A1": [b"e3"]}
        assert await early.drop({"A1": [b"e3"]}) == {"A1": 0}
        assert await early.waiting(["A1"]) == set()
        # A1's wait was forgotten when its queue emptied; A2's started at 1010
        assert await early.expired(now=1060.0) == []
        assert await early.expired(now=1071.0) == ["A2"]
    finally:
        await delete_keys(client, unique_prefix)
        await client.aclose()


class _AssignmentLandsMeanwhile:
    """An SLA store whose case appears right after it rejected an event as unknown: the
    assignment was applied, and found nothing waiting, before the event was parked."""

    def __init__(self) -> None:
        self.exists = False
        self.applied: list[str] = []

    async def apply_batch(self, events):
        outcomes = []
        for e in events:
            if self.exists:
                self.applied.append(e.event_id)
                outcomes.append(Outcome(OutcomeKind.APPLIED))
            else:
                outcomes.append(Outcome(OutcomeKind.REJECTED, Reason.UNKNOWN_CASE))
                self.exists = True  # the assignment lands now
        return outcomes

    async def load_many(self, appeal_ids):
        return {aid: object() for aid in appeal_ids} if self.exists else {}


async def test_event_parked_after_its_assignment_came_is_applied_at_once(
    redis_url, unique_prefix, monkeypatch
):
    from streams.agents import sla_clocks

    client = aioredis.Redis.from_url(redis_url)
    early = EarlyCaseEvents(client, prefix=unique_prefix, wait_s=600)
    store = _AssignmentLandsMeanwhile()
    monkeypatch.setattr(sla_clocks, "early_case_events", lambda: early)
    monkeypatch.setattr(sla_clocks, "sla_store", lambda: store)
    event = CaseEvent(event_id="ev-1", appeal_id="A9", kind="accept", department="D1",
                      occurred_at=datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai")))  # fmt: skip
    letter = DeadLetter(error_code="SLA_UNKNOWN_CASE", reason="", source_topic="cases.events",
                        source_partition=0, source_offset=7, failed_at=event.occurred_at,
                        payload_b64=base64.b64encode(event.dumps()).decode())  # fmt: skip
    try:
        await sla_clocks._apply([(letter, event)], park_unknown=True)
        # applied now, not after HOTLINE_SLA_EARLY_EVENT_WAIT, and nothing left waiting
        assert store.applied == ["ev-1"]
        assert await early.waiting(["A9"]) == set()
    finally:
        await delete_keys(client, unique_prefix)
        await client.aclose()
