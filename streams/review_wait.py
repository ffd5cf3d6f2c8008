"""The worker's review-wait clock (复核时限), built once from the settings."""

from __future__ import annotations

from functools import cache

from config.sla import SlaSettings
from config.understand import REVIEW_ALERT_AFTER
from sla.clocks import Timebase
from sla.policies import Duration
from sla.working_time import WorkingHours, working_time_for
from triage.review_clock import ReviewClock


@cache
def review_clock() -> ReviewClock:
    """The allowed wait for a reviewer, on the SLA engine's working-day calendar.

    Raises ``ValueError`` naming the setting when ``HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER``
    is not a duration (the worker checks this before it starts).
    """
    try:
        limit = Duration.parse(REVIEW_ALERT_AFTER)
    except ValueError as exc:
        raise ValueError(f"HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER: {exc}") from None
    sla = SlaSettings()
    return ReviewClock(
        limit=limit,
        timebase=Timebase(working_time_for(sla)),
        warn_fraction=sla.warn_second,
        day_seconds=WorkingHours.parse(sla.working_hours).day_seconds,
    )
