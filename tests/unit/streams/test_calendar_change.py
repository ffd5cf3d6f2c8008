"""The SLA worker's start task that recomputes deadlines after a calendar change."""

from __future__ import annotations

import logging

import pytest

from sla.redis_store import Recomputed
from streams import timer_step
from streams.timers import calendar_change


class _Store:
    """Stands in for SlaStore: says whether the calendar changed, then recomputes or fails."""

    def __init__(self, changed: bool, failure: Exception | None = None) -> None:
        self.changed = changed
        self.failure = failure
        self.recomputed = 0

    async def calendar_changed(self) -> bool:
        return self.changed

    async def recompute_deadlines(self) -> Recomputed:
        self.recomputed += 1
        if self.failure is not None:
            raise self.failure
        return Recomputed(examined=3, moved=2, out_of_range=["a1"])


@pytest.fixture(autouse=True)
def no_failures_yet(monkeypatch) -> None:
    # run_timer_step holds back a repeated failure's log line: each test is a fresh start
    monkeypatch.setattr(timer_step, "_failing", {})


@pytest.fixture
def store(monkeypatch, request) -> _Store:
    s = _Store(*request.param)
    monkeypatch.setattr(calendar_change, "sla_store", lambda: s)
    return s


@pytest.mark.parametrize("store", [(False,)], indirect=True)
async def test_an_unchanged_calendar_recomputes_nothing(store: _Store) -> None:
    await calendar_change.recompute_deadlines_if_the_calendar_changed()
    assert store.recomputed == 0


@pytest.mark.parametrize("store", [(True,)], indirect=True)
async def test_a_changed_calendar_recomputes_and_names_cases_past_it(
    store: _Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=calendar_change.__name__):
        await calendar_change.recompute_deadlines_if_the_calendar_changed()
    assert store.recomputed == 1
    assert "3 open case(s), 2 moved" in caplog.text
    assert "1 case(s) kept their old deadlines" in caplog.text


# (a ConcurrencyError is waited out like an outage: streams.outages retries it)
@pytest.mark.parametrize(
    "store", [(True, KeyError("policy")), (True, ValueError("bad state"))], indirect=True
)
async def test_a_failed_recompute_is_logged_and_does_not_stop_the_worker(
    store: _Store, caplog: pytest.LogCaptureFixture
) -> None:
    # a task that raises crashes faust's worker (mode's Service.crash): on every start,
    # if the cause persists; the agents and alert scans must go on
    with caplog.at_level(logging.ERROR, logger=calendar_change.__name__):
        await calendar_change.recompute_deadlines_if_the_calendar_changed()
    assert store.recomputed == 1
    assert "recomputing the open deadlines failed" in caplog.text
    assert "hotline sla recompute" in caplog.text
