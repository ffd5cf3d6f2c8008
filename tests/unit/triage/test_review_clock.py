"""The review wait (复核时限): deadlines in wall or working time, thresholds, alerts."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sla.calendar import WorkdayCalendar, package_years
from sla.clocks import Timebase
from sla.policies import Duration
from sla.working_time import WorkingHours, WorkingTime
from triage.review_clock import ReviewClock, review_alert, threshold_due

TZ = ZoneInfo("Asia/Shanghai")
HOURS = WorkingHours.parse("09:00-12:00,13:30-17:30")
TIMEBASE = Timebase(WorkingTime(WorkdayCalendar(), HOURS, TZ))


def _clock(limit: str, emergency: str | None = None) -> ReviewClock:
    return ReviewClock(
        Duration.parse(limit), TIMEBASE, 0.8, HOURS.day_seconds,
        Duration.parse(emergency) if emergency else None,
    )  # fmt: skip


def _at(*args: int) -> int:
    return int(datetime(*args, tzinfo=TZ).timestamp())


def test_wall_time_runs_through_the_night():
    d = _clock("2h").deadline(_at(2026, 11, 20, 23, 0))  # a Friday night
    assert (d.warn_at, d.due_at) == (_at(2026, 11, 21, 0, 36), _at(2026, 11, 21, 1, 0))
    assert not d.wall_fallback


def test_working_time_stands_still_over_the_weekend():
    # Friday 17:00: 30 working minutes left that day, the rest on Monday from 09:00
    d = _clock("2wh").deadline(_at(2026, 11, 20, 17, 0))
    assert d.due_at == _at(2026, 11, 23, 10, 30)
    assert d.warn_at == _at(2026, 11, 23, 10, 6)  # 96 of the 120 minutes


def test_working_time_past_the_calendar_falls_back_to_wall_time():
    last = package_years()[1]
    d = _clock("2wh").deadline(_at(last, 12, 31, 17, 0))
    assert d.wall_fallback
    assert d.due_at == _at(last, 12, 31, 19, 0)


def test_a_zero_limit_turns_review_alerts_off():
    clock = _clock("0m")
    assert not clock.enabled and clock.deadline(_at(2026, 11, 20, 10, 0)) is None


def test_thresholds_come_in_order_yellow_then_red():
    due = _at(2026, 11, 23, 10, 30)
    assert threshold_due(_at(2026, 11, 23, 10, 6), due) == ("warn80", due)
    assert threshold_due(due, due) == ("overdue", None)


def test_the_alert_carries_a_deterministic_id_and_both_instants():
    raised = datetime(2026, 11, 23, 10, 31, tzinfo=TZ)
    a = review_alert(
        "HL-1", "overdue", _at(2026, 11, 23, 10, 30), _at(2026, 11, 23, 10, 30), raised
    )
    assert a.alert_id == "HL-1/review/overdue" and a.clock == "review"
    assert a.threshold_at == a.due_at == datetime(2026, 11, 23, 10, 30, tzinfo=TZ)
    assert a.department is None and a.district is None and a.raised_at == raised
    at = _at(2026, 11, 23, 10, 6)
    assert review_alert("HL-1", "warn80", at, at + 1440, raised, "A市A3区").district == "A市A3区"


def test_an_emergency_waits_its_own_shorter_time_in_wall_clock():
    clock = _clock("2wh", emergency="30m")
    friday_evening = _at(2026, 11, 20, 17, 20)
    assert clock.deadline(friday_evening, emergency=True).due_at == _at(2026, 11, 20, 17, 50)
    assert clock.deadline(friday_evening).due_at == _at(2026, 11, 23, 10, 50)  # Monday
    # off for routine appeals, still on for emergencies
    only_urgent = _clock("0m", emergency="30m")
    assert only_urgent.enabled and only_urgent.deadline(friday_evening) is None
    assert only_urgent.deadline(friday_evening, emergency=True) is not None
