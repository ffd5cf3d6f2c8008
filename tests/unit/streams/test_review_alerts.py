"""Dating, at a worker's start, the appeals left waiting without a review deadline
(``streams/timers/review_alerts.py``, with fakes for Redis and the broker)."""

from __future__ import annotations

import logging
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from models.review import ReviewRequest
from sla.calendar import WorkdayCalendar
from sla.clocks import Timebase
from sla.policies import Duration
from sla.working_time import WorkingHours, WorkingTime
from streams import review_requests
from streams.timers import review_alerts
from streams.topics import reviews
from triage.review_clock import ReviewClock

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
HOURS = WorkingHours.parse("09:00-12:00,13:30-17:30")
#: The review wait: 2 h, 30 min for an emergency (wall time); the yellow card at 80 %.
CLOCK = ReviewClock(
    Duration.parse("2h"), Timebase(WorkingTime(WorkdayCalendar(), HOURS, TZ)), 0.8,
    HOURS.day_seconds, Duration.parse("30m"),
)  # fmt: skip


def _request(aid: str, reason: str = "low_confidence", emergency: str | None = None):
    return ReviewRequest(
        appeal_id=aid, title="求助", content="家里煤气漏气了", suggested_category="城乡建设",
        confidence=0.3, reason=reason, requested_at=AT, emergency=emergency,
    )  # fmt: skip


class Queue:
    """Waiting appeals without deadlines; review requests kept for some of them."""

    def __init__(self, undated, stored):
        self._undated, self.stored, self.scheduled = undated, stored, {}

    async def undated(self):
        return self._undated

    async def requests(self, appeal_ids):
        return {aid: r for aid, r in self.stored.items() if aid in appeal_ids}

    async def schedule(self, deadlines):
        self.scheduled.update(deadlines)


@pytest.fixture
def world(monkeypatch):
    """The review wait of ``CLOCK``; the appeals.review topic holding ``world.topic``."""

    async def read_records(bootstrap, topic, record_type):
        state.reads.append(topic)
        return [(None, r) for r in state.topic], 0

    state = SimpleNamespace(topic=[], reads=[])
    monkeypatch.setattr(review_alerts, "review_clock", lambda: CLOCK)
    monkeypatch.setattr(review_requests, "read_records", read_records)
    return state


async def test_undated_emergencies_get_the_emergency_wait(world, monkeypatch, caplog):
    # GAS's request is kept in Redis; HAMMER was parked by a version that kept none: its
    # request is on the topic; LOST's left the topic with its retention
    queue = Queue(["GAS", "HAMMER", "ROUTINE", "LOST"], {
        "GAS": _request("GAS", emergency="119 燃气泄漏"), "ROUTINE": _request("ROUTINE"),
    })  # fmt: skip
    world.topic = [_request("HAMMER", "possible_emergency"), _request("OTHER", emergency="110")]
    monkeypatch.setattr(review_alerts, "pending_reviews", lambda: queue)
    with caplog.at_level(logging.WARNING, logger=review_alerts.__name__):
        await review_alerts._date_undated()
    waits = {aid: d.due_at - d.warn_at for aid, d in queue.scheduled.items()}
    # the wait's last fifth: 6 min of 30, 24 of 120 (before: all 24)
    assert waits == {"GAS": 360, "HAMMER": 360, "ROUTINE": 1440, "LOST": 1440}
    assert world.reads == [reviews.get_topic_name()]
    assert "4 appeal(s) waiting for review had no deadline (2 flagged as emergencies)" in (
        caplog.text
    )


async def test_the_topic_is_not_read_when_every_request_is_kept(world, monkeypatch):
    queue = Queue(["GAS"], {"GAS": _request("GAS", emergency="119 燃气泄漏")})
    monkeypatch.setattr(review_alerts, "pending_reviews", lambda: queue)
    await review_alerts._date_undated()
    assert world.reads == [] and list(queue.scheduled) == ["GAS"]
    queue = Queue([], {})  # nothing undated: nothing read, nothing scheduled
    monkeypatch.setattr(review_alerts, "pending_reviews", lambda: queue)
    await review_alerts._date_undated()
    assert world.reads == [] and queue.scheduled == {}
