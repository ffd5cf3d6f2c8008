"""Working-time arithmetic to the minute across real holiday periods of 2025 and 2026."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from sla.calendar import CalendarRangeError, WorkdayCalendar
from sla.working_time import WorkingHours, WorkingTime

from .conftest import TZ, at


@pytest.mark.parametrize(
    ("start", "kwargs", "expected"),
    [
        # 2025 Spring Festival: off Jan 28 – Feb 4; make-up Sun Jan 26 and Sat Feb 8
        (at(2025, 1, 27, 16), {"hours": 2}, at(2025, 2, 5, 9, 30)),
        (at(2025, 1, 24, 16, 30), {"hours": 2}, at(2025, 1, 26, 10)),  # Sun Jan 26 works
        (at(2025, 2, 7, 17), {"hours": 1}, at(2025, 2, 8, 9, 30)),  # Sat Feb 8 works
        (at(2025, 1, 27, 16), {"days": 5}, at(2025, 2, 10, 16)),
        # 2025 National Day: off Oct 1–8; make-up Sun Sep 28 and Sat Oct 11
        (at(2025, 9, 30, 10), {"days": 5}, at(2025, 10, 14, 10)),
        (at(2025, 9, 26, 15), {"days": 5}, at(2025, 10, 10, 15)),
        (at(2025, 9, 27, 11), {"hours": 2}, at(2025, 9, 28, 11)),  # Sat off, Sun works
        # 2026 Spring Festival: off Feb 15–23; make-up Sat Feb 14 and Sat Feb 28
        (at(2026, 2, 13, 14), {"days": 1}, at(2026, 2, 14, 14)),
        (at(2026, 2, 14, 16, 30), {"hours": 2}, at(2026, 2, 24, 10)),
        (at(2026, 2, 13, 9), {"days": 10}, at(2026, 3, 4, 17, 30)),  # end of 10th day
        (at(2026, 2, 27, 16), {"days": 1}, at(2026, 2, 28, 16)),
        # 2026 National Day: off Oct 1–7; make-up Sun Sep 20 and Sat Oct 10; Sep 25 off
        (at(2026, 9, 30, 11), {"days": 5}, at(2026, 10, 13, 11)),
        (at(2026, 9, 19, 10), {"hours": 3}, at(2026, 9, 20, 12)),  # Sun Sep 20 works
        (at(2026, 9, 24, 17), {"hours": 1}, at(2026, 9, 28, 9, 30)),  # Fri Sep 25 off
    ],
)
def test_deadlines_across_holidays(wt: WorkingTime, start, kwargs, expected) -> None:
    assert wt.after(start, **kwargs) == expected


@pytest.mark.parametrize(
    ("start", "kwargs", "expected"),
    [
        (at(2025, 3, 3, 9), {"hours": 3}, at(2025, 3, 3, 12)),  # ends at 12:00, not 13:30
        (at(2025, 3, 3, 11, 30), {"hours": 1}, at(2025, 3, 3, 14)),  # lunch skipped
        (at(2025, 3, 3, 12, 45), {"hours": 1}, at(2025, 3, 3, 14, 30)),  # start in lunch
        (at(2025, 3, 3, 20), {"hours": 1}, at(2025, 3, 4, 10)),  # evening → next morning
        (at(2025, 3, 3, 8), {"days": 1}, at(2025, 3, 3, 17, 30)),  # day of T counts
        (at(2025, 3, 8, 14), {"days": 5}, at(2025, 3, 14, 17, 30)),  # Saturday start
        (at(2025, 3, 4, 10), {"days": 5}, at(2025, 3, 11, 10)),  # same time, 5 days on
        (at(2025, 3, 3, 16, 59), {"minutes": 1}, at(2025, 3, 3, 17)),
        (at(2025, 3, 3, 17, 29), {"minutes": 2}, at(2025, 3, 4, 9, 1)),
    ],
)
def test_convention_edges(wt: WorkingTime, start, kwargs, expected) -> None:
    assert wt.after(start, **kwargs) == expected


@pytest.mark.parametrize(
    ("t1", "t2", "hours"),
    [
        (at(2025, 1, 24, 17), at(2025, 2, 5, 9, 30), 15),  # Fri .5 + Sun 7 + Mon 7 + .5
        (at(2026, 2, 13, 17), at(2026, 2, 24, 9, 30), 8),  # .5 + Sat Feb 14 7 + .5
        (at(2025, 9, 30, 17), at(2025, 10, 9, 9), 0.5),  # the whole National Day break
        (at(2026, 9, 30, 17, 30), at(2026, 10, 8, 9), 0),
        (at(2025, 3, 3, 12), at(2025, 3, 3, 13, 30), 0),  # lunch
        (at(2025, 3, 3, 10), at(2025, 3, 3, 9), -1),
    ],
)
def test_elapsed_between(wt: WorkingTime, t1, t2, hours) -> None:
    assert wt.between(t1, t2) == timedelta(hours=hours)


def test_add_and_elapsed_are_inverse(wt: WorkingTime) -> None:
    rng = random.Random(12345)
    base = int(at(2025, 1, 1).timestamp())
    for _ in range(2000):
        t = base + rng.randrange(0, 600 * 86400)
        s = rng.randrange(1, 20 * 25200)
        due = wt.add(t, s)
        assert wt.elapsed(t, due) == s
        assert wt.elapsed(t, due - 1) < s  # earliest such instant
        assert wt.is_working(due - 1)


def test_zero_and_negative(wt: WorkingTime) -> None:
    t = int(at(2025, 3, 3, 12, 30).timestamp())
    assert wt.add(t, 0) == t
    with pytest.raises(ValueError):
        wt.add(t, -1)


def test_beyond_the_calendar_is_a_clear_error(wt: WorkingTime) -> None:
    last = wt.calendar.last_year
    with pytest.raises(CalendarRangeError, match="after the end of the working-day calendar"):
        wt.after(datetime(last, 12, 28, 10, tzinfo=TZ), days=5)
    with pytest.raises(CalendarRangeError):
        wt.between(at(2025, 1, 2), datetime(last + 1, 1, 5, tzinfo=TZ))


def test_naive_datetime_refused(wt: WorkingTime) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        wt.after(datetime(2025, 3, 3, 10), hours=1)


def test_other_time_zone_input(wt: WorkingTime) -> None:
    from zoneinfo import ZoneInfo

    utc = datetime(2025, 3, 3, 2, 0, tzinfo=ZoneInfo("UTC"))  # 10:00 in Beijing
    assert wt.after(utc, hours=1) == at(2025, 3, 3, 11)


def test_custom_working_hours() -> None:
    hours = WorkingHours.parse("08:30-12:00, 14:00-18:00")
    assert hours.day_seconds == 7.5 * 3600
    wt = WorkingTime(WorkdayCalendar(), hours, "Asia/Shanghai")
    assert wt.after(at(2025, 3, 3, 11), hours=2) == at(2025, 3, 3, 15)


@pytest.mark.parametrize("text", ["", "9-12", "12:00-09:00", "09:00-12:00,11:00-13:00"])
def test_bad_working_hours(text: str) -> None:
    with pytest.raises(ValueError):
        WorkingHours.parse(text)
