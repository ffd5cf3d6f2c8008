"""Provisional years: the statutory holidays alone, until the State Council's arrangement.

Years come from the installed chinese-calendar (its last year, then a provisional one),
so these tests hold whichever version is installed. The statutory days themselves are
checked against the arrangements chinese-calendar knows (2025 and 2026).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from sla.calendar import CalendarRangeError, Overrides, WorkdayCalendar, package_years
from sla.clocks import CaseState, Clock
from sla.events import SlaEngine
from sla.policies import ClockMode
from sla.queries import case_view
from sla.statutory_holidays import FIRST_YEAR, statutory_days_off
from sla.working_time import WorkingHours, WorkingTime
from tests.unit.sla.conftest import FRACTIONS, POLICIES, TZ
from tests.working_days import eve_crossing, nth_working_day, weekdays_except

LAST = package_years()[1]
HOURS = WorkingHours.parse("09:00-12:00,13:30-17:30")


def year_days(year: int) -> list[date]:
    d, out = date(year, 1, 1), []
    while d.year == year:
        out.append(d)
        d += timedelta(days=1)
    return out


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_off_was_a_day_off_in_the_real_arrangement(year: int) -> None:
    """The law's days (and its 补假 for those on a weekend) are the floor of each year's
    notice: chinese-calendar, which carries the notices, has every one of them off."""
    off = statutory_days_off(year)
    assert [d for d in off if chinese_calendar.is_workday(d)] == []
    # the law: 13 days, by holiday
    named = Counter(n for n in off.values() if not n.endswith("补假"))
    assert named == {"元旦": 1, "春节": 4, "清明节": 1, "劳动节": 2, "端午节": 1, "中秋节": 1,
                     "国庆节": 3}  # fmt: skip
    # each holiday on a weekend is made up on a weekday of its own
    make_up = [d for d, n in off.items() if n.endswith("补假")]
    assert all(d.weekday() < 5 for d in make_up)
    assert len(make_up) == sum(d.weekday() >= 5 for d, n in off.items() if n in named)


@pytest.mark.parametrize("year", [2025, 2026])
def test_a_year_counted_provisionally_has_as_many_working_days_as_its_arrangement(
    year: int,
) -> None:
    """调休 swaps weekend days for weekdays, so the law's floor gives the same number of
    working days as the notice did; only where they fall differs."""
    provisional = weekdays_except(statutory_days_off(year))
    days = year_days(year)
    assert sum(map(provisional, days)) == sum(map(chinese_calendar.is_workday, days))


def test_the_2027_spring_festival_and_national_day() -> None:
    off = statutory_days_off(2027)
    # 除夕 Friday 5 Feb, 初一–初三 6–8 Feb; the weekend two made up on 9 and 10 Feb
    assert [d for d in off if d.month == 2] == [date(2027, 2, d) for d in range(5, 11)]
    assert off[date(2027, 2, 9)] == "春节补假"
    assert [d.day for d in off if d.month == 10] == [1, 2, 3, 4, 5]  # 2 and 3 Oct: a weekend


def test_years_before_the_2024_rules_are_refused() -> None:
    with pytest.raises(ValueError, match=str(FIRST_YEAR)):
        statutory_days_off(FIRST_YEAR - 1)


@pytest.fixture(scope="module")
def cal() -> WorkdayCalendar:
    return WorkdayCalendar(provisional_years=1)


def test_the_year_after_the_declared_ones_is_provisional(cal: WorkdayCalendar) -> None:
    nxt = LAST + 1
    assert (cal.declared_last_year, cal.last_year) == (LAST, nxt)
    assert cal.is_provisional(date(nxt, 3, 1)) and not cal.is_provisional(date(LAST, 12, 28))
    # the next year's notice may arrange the last days of December (2018-12-29 to 31 by
    # the 2019 notice): their deadlines are provisional too, days off or not
    assert all(cal.is_provisional(date(LAST, 12, day)) for day in (29, 30, 31))
    assert "provisional" in cal.describe(date(LAST, 12, 31))
    assert "provisional" not in cal.describe(date(LAST, 12, 28))
    assert not WorkdayCalendar().is_provisional(date(LAST, 12, 31))  # no year after it
    for d in year_days(nxt):
        assert cal.is_workday(d) == (d.weekday() < 5 and d not in statutory_days_off(nxt)), d
    assert "provisional" in cal.describe(date(nxt, 1, 1))
    assert "statutory holiday: 元旦" in cal.describe(date(nxt, 1, 1))
    with pytest.raises(CalendarRangeError):
        cal.is_workday(date(nxt + 1, 1, 4))
    # without provisional years the calendar ends with the declared ones
    with pytest.raises(CalendarRangeError):
        WorkdayCalendar().is_workday(date(nxt, 3, 1))


def test_local_announcements_win_in_a_provisional_year() -> None:
    nxt = LAST + 1
    typhoon, new_year = date(nxt, 7, 20), date(nxt, 1, 1)
    cal = WorkdayCalendar(Overrides(days={typhoon: False, new_year: True}), provisional_years=1)
    assert not cal.is_workday(typhoon) and "local override" in cal.describe(typhoon)
    assert cal.is_workday(new_year) == (new_year.weekday() < 5)


def test_runway_warning_while_the_next_year_is_provisional(cal: WorkdayCalendar) -> None:
    end = cal.declared_last_day
    assert cal.runway_warning(end - timedelta(days=60)) is None
    warning = cal.runway_warning(end - timedelta(days=20))
    assert f"declared years end {end} (in 20 days)" in warning
    assert f"provisional until {cal.last_day}" in warning and f"declare {LAST + 1}" in warning
    assert "cannot be computed" not in warning  # the provisional year is still far off
    late = cal.runway_warning(cal.last_day - timedelta(days=20))
    assert "cannot be computed" in late and "days ago" in late


def test_deadlines_cross_into_the_provisional_year_on_the_statutory_holidays() -> None:
    wt = WorkingTime(WorkdayCalendar(provisional_years=1), HOURS, TZ)
    start = eve_crossing(LAST)
    # every day of the declared year is the package's: count those with chinese-calendar
    is_working = lambda d: (  # noqa: E731
        chinese_calendar.is_workday(d) if d.year == LAST
        else weekdays_except(statutory_days_off(LAST + 1))(d)
    )  # fmt: skip
    for n in (1, 5, 15):
        due = wt.after(datetime.combine(start, datetime.min.time(), TZ).replace(hour=10), days=n)
        assert due == datetime.combine(nth_working_day(start, n, is_working), due.timetz())
        assert due.hour == 10


def test_the_fingerprint_tells_calendars_apart() -> None:
    a = WorkingTime(WorkdayCalendar(provisional_years=1), HOURS, TZ)
    b = WorkingTime(WorkdayCalendar(provisional_years=1), HOURS, TZ)
    typhoon = Overrides(days={date(LAST, 7, 20): False})
    c = WorkingTime(WorkdayCalendar(typhoon, provisional_years=1), HOURS, TZ)
    d = WorkingTime(WorkdayCalendar(provisional_years=1), WorkingHours.parse("09:00-17:00"), TZ)
    assert a.fingerprint == b.fingerprint
    assert len({a.fingerprint, c.fingerprint, d.fingerprint}) == 3


def _across_year_end(provisional_years: int, since: datetime):
    """An engine, and a case whose 5 working days run from ``since`` into the next year
    (its sign-for clock: 8 wall-clock hours)."""
    from sla.policies import load_policies

    wt = WorkingTime(WorkdayCalendar(provisional_years=provisional_years), HOURS, TZ)
    engine = SlaEngine(wt, load_policies(POLICIES), FRACTIONS)
    at = int(since.timestamp())
    state = CaseState(
        "A1", "general", "zjj", "", "",
        Clock(ClockMode.WORKING, 5 * wt.day_seconds, since=at),
        hop_clock=Clock(ClockMode.WALL, 8 * 3600, since=at),
    )  # fmt: skip
    return wt, engine, state, at


def test_case_view_marks_working_deadlines_in_the_provisional_year() -> None:
    wt, engine, state, since = _across_year_end(1, datetime(LAST, 12, 31, 16, tzinfo=TZ))
    view = case_view(state, engine, since)  # sign-for due 1 January, in wall time
    flags = {c.kind: (c.provisional, wt.local_date(c.due_at).year) for c in view.clocks}
    assert flags == {"case": (True, LAST + 1), "sign_for": (False, LAST + 1)}
    assert view.as_dict()["clocks"][0]["provisional"] is True


def test_case_view_of_a_deadline_beyond_the_calendar_marks_it_instead_of_failing() -> None:
    # a case a recompute kept on its old deadline after the calendar shrank
    # (HOTLINE_SLA_PROVISIONAL_YEARS=0 in December): one such case broke `sla overdue`
    _, engine, state, since = _across_year_end(0, datetime(LAST, 12, 28, 10, tzinfo=TZ))
    with pytest.raises(CalendarRangeError):
        state.case_clock.due_at(engine.tb)
    view = case_view(state, engine, since + 3600)
    clocks = {c.kind: c for c in view.clocks}
    assert clocks["case"].due_at is None and clocks["case"].beyond_calendar
    assert clocks["case"].consumed == 3600 and clocks["case"].level == "ok"
    assert clocks["sign_for"].due_at == since + 8 * 3600  # wall time: still known
    assert not clocks["sign_for"].beyond_calendar


@pytest.mark.parametrize("year", [2028, 2031, *range(FIRST_YEAR, 2061, 5)])
def test_every_year_has_the_law_s_thirteen_weekdays_off(year: int) -> None:
    # 中秋 on 1-3 October (2028, 2031) is a second holiday on one day: made up, as the
    # 2009 and 2020 notices did, not lost
    off = statutory_days_off(year)
    assert sum(d.weekday() < 5 for d in off) == 13


def test_mid_autumn_on_national_day_is_made_up_after_the_national_day_break() -> None:
    off = statutory_days_off(2031)  # 中秋 on Wednesday 1 October
    october = {d.day: name for d, name in off.items() if d.month == 10}
    # 1 October is both; the first named keeps it, the other is made up on Monday 6th
    assert october == {1: "中秋节", 2: "国庆节", 3: "国庆节", 6: "国庆节补假"}
