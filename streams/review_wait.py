"""The worker's review-wait clock (复核时限), built once from the settings."""

from __future__ import annotations

from functools import cache

from config.sla import SlaSettings
from config.understand import REVIEW_ALERT_AFTER, REVIEW_ALERT_AFTER_EMERGENCY
from sla.clocks import Timebase
from sla.policies import Duration
from sla.working_time import WorkingHours, working_time_for
from triage.review_clock import ReviewClock


@cache
def review_clock() -> ReviewClock:
    """The allowed wait for a reviewer, on the SLA engine's working-day calendar.

    Raises ``ValueError`` naming the setting when ``HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER``
    or its ``_EMERGENCY`` twin is not a duration (the worker checks this before it starts).
    """
    sla = SlaSettings()
    return ReviewClock(
        limit=_duration("UNDERSTAND_REVIEW_ALERT_AFTER", REVIEW_ALERT_AFTER),
        timebase=Timebase(working_time_for(sla)),
        warn_fraction=sla.warn_second,
        day_seconds=WorkingHours.parse(sla.working_hours).day_seconds,
        emergency_limit=_duration(
            "UNDERSTAND_REVIEW_ALERT_AFTER_EMERGENCY", REVIEW_ALERT_AFTER_EMERGENCY
        ),
    )


def _duration(name: str, value: str) -> Duration:
    try:
        return Duration.parse(value)
    except ValueError as exc:
        raise ValueError(f"HOTLINE_{name}: {exc}") from None
