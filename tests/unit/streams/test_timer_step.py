"""A timer's step: outages waited out, other errors logged (throttled), never raised."""

from __future__ import annotations

import inspect
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from streams import outages, timer_step
from streams.timers import (
    contact_retention,
    review_alerts,
    sla_alerts,
    sla_early_events,
    wechat_idle,
)


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch) -> None:
    monkeypatch.setattr(timer_step, "_failing", {})

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(outages.asyncio, "sleep", no_sleep)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _step(*outcomes):
    """A step that raises or returns each of ``outcomes`` in turn."""
    calls = []

    async def step():
        outcome = outcomes[len(calls)]
        calls.append(outcome)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return step, calls


async def test_an_outage_is_waited_out_and_the_result_returned() -> None:
    step, calls = _step(RedisConnectionError("refused"), "done")
    assert await timer_step.run_timer_step("scan", step) == "done"
    assert len(calls) == 2


async def test_an_error_is_logged_once_per_period_and_never_raised(caplog) -> None:
    clock = _Clock()
    step, _ = _step(*[KeyError("bad state")] * 4, "fine")
    caplog.set_level(logging.INFO, logger=timer_step.__name__)

    async def tick():
        return await timer_step.run_timer_step("SLA alert scan", step, every=300, clock=clock)

    assert await tick() is None
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "SLA alert scan failed; the worker goes on" in caplog.text
    assert caplog.records[0].exc_info is not None  # the traceback says where
    clock.now += 10
    assert await tick() is None
    clock.now += 10
    assert await tick() is None
    assert len(caplog.records) == 1  # repeats within the period are held back
    clock.now += 300
    assert await tick() is None
    assert "(2 more failure(s) held back in 300 s)" in caplog.records[-1].getMessage()
    assert await tick() == "fine"
    assert caplog.records[-1].getMessage() == "SLA alert scan works again"
    assert timer_step._failing == {}


@pytest.mark.parametrize(
    ("module", "timer", "step"),
    [
        (sla_early_events, "expire_early_case_events", "_expire"),
        (wechat_idle, "request_idle_flushes", "_request_idle_flushes"),
        (review_alerts, "raise_review_alerts", "_tick"),
        (contact_retention, "apply_contact_retention", "_apply"),
    ],
)
async def test_a_failing_timer_does_not_stop_the_worker(monkeypatch, caplog, module, timer, step):
    # faust runs timers as app tasks: one that raises crashes the worker, agents and all;
    # unwrapped, the timer is its one tick (faust's wrapper loops over the intervals)
    async def broken() -> None:
        raise ValueError("a state the step cannot read")

    monkeypatch.setattr(module, step, broken)
    with caplog.at_level(logging.ERROR, logger=timer_step.__name__):
        await inspect.unwrap(getattr(module, timer))()
    assert "a state the step cannot read" in caplog.text


async def test_a_failing_sla_alert_scan_does_not_stop_the_worker(monkeypatch, caplog) -> None:
    class Scanner:
        async def tick(self):
            raise ValueError("an alert record the scanner cannot read")

    monkeypatch.setattr(sla_alerts, "_scanner", Scanner())
    with caplog.at_level(logging.ERROR, logger=timer_step.__name__):
        await inspect.unwrap(sla_alerts.raise_sla_alerts)()
    assert "SLA alert scan failed" in caplog.text


async def test_dating_waiting_reviews_at_start_does_not_stop_the_worker(monkeypatch, caplog):
    class Store:
        async def undated(self):
            raise ValueError("a pending review the worker cannot read")

    monkeypatch.setattr(review_alerts, "pending_reviews", Store)
    with caplog.at_level(logging.ERROR, logger=timer_step.__name__):
        await inspect.unwrap(review_alerts.date_undated_reviews)()
    assert "review deadlines at start failed" in caplog.text


async def test_the_worker_start_applies_contact_retention_and_says_so(monkeypatch, caplog):
    class Store:
        ttl_s = 180 * 86400

        async def apply_retention(self):
            return 3

    monkeypatch.setattr(contact_retention, "contact_store", Store)
    with caplog.at_level(logging.INFO, logger=contact_retention.__name__):
        await inspect.unwrap(contact_retention.apply_contact_retention)()
    assert "3 stored reference(s) now expire within 180 day(s)" in caplog.text
