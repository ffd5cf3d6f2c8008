"""Working days across the real 2025 and 2026 holiday periods, checked against chinese_calendar."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from config.sla import SlaSettings
from sla.calendar import CalendarRangeError, Overrides, WorkdayCalendar, load_overrides
from sla.working_time import calendar_runway, working_time_for


def days(first: str, last: str) -> list[date]:
    d, end = date.fromisoformat(first), date.fromisoformat(last)
    out = []
    while d <= end:
        out.append(d)
        d += timedelta(days=1)
    return out


# (holiday name in chinese_calendar, days off, make-up working days on a weekend)
PERIODS = [
    ("Spring Festival", days("2025-01-28", "2025-02-04"), ["2025-01-26", "2025-02-08"]),
    ("National Day", days("2025-10-01", "2025-10-08"), ["2025-09-28", "2025-10-11"]),
    ("Spring Festival", days("2026-02-15", "2026-02-23"), ["2026-02-14", "2026-02-28"]),
    ("National Day", days("2026-10-01", "2026-10-07"), ["2026-09-20", "2026-10-10"]),
]


@pytest.fixture(scope="module")
def cal() -> WorkdayCalendar:
    return WorkdayCalendar()


@pytest.mark.parametrize(
    ("name", "off", "makeup"), PERIODS, ids=[p[1][0].isoformat() for p in PERIODS]
)
def test_holiday_periods(
    cal: WorkdayCalendar, name: str, off: list[date], makeup: list[str]
) -> None:
    for d in off:
        assert not cal.is_workday(d), d
    for text in makeup:
        d = date.fromisoformat(text)
        assert d.weekday() >= 5, f"{d} is a weekend make-up day"
        assert cal.is_workday(d), d
        assert "make-up" in cal.describe(d)
    # the working days right before and after the period are ordinary working days
    before, after = off[0] - timedelta(days=1), off[-1] + timedelta(days=1)
    while not cal.is_workday(before):
        before -= timedelta(days=1)
    assert cal.is_workday(before) and cal.is_workday(after)


def test_periods_match_the_package_data() -> None:
    """The dates above are not trusted: each is what chinese_calendar itself says."""
    for name, off, makeup in PERIODS:
        for d in off:
            is_holiday, holiday = chinese_calendar.get_holiday_detail(d)
            # 2025: Mid-Autumn (Oct 6) falls inside the National Day break
            assert is_holiday and holiday in (name, "Mid-autumn Festival"), d
        for text in makeup:
            assert chinese_calendar.get_holiday_detail(date.fromisoformat(text)) == (False, name)


def test_2026_mid_autumn_is_a_day_off(cal: WorkdayCalendar) -> None:
    assert not cal.is_workday(date(2026, 9, 25))  # Friday, 中秋节
    assert cal.describe(date(2026, 9, 25)) == "holiday: Mid-autumn Festival"


def test_plain_weekdays_and_weekends(cal: WorkdayCalendar) -> None:
    assert cal.is_workday(date(2025, 3, 3))  # Monday
    assert not cal.is_workday(date(2025, 3, 8))  # Saturday
    assert cal.describe(date(2025, 3, 8)) == "weekend"


def test_outside_known_years_is_a_clear_error(cal: WorkdayCalendar) -> None:
    assert cal.last_year >= 2026
    with pytest.raises(CalendarRangeError, match="outside the working-day calendar"):
        cal.is_workday(date(cal.last_year + 1, 3, 2))
    with pytest.raises(CalendarRangeError):
        cal.is_workday(date(cal.first_year - 1, 3, 3))


def test_workdays_iterates_the_2025_spring_festival_week(cal: WorkdayCalendar) -> None:
    assert list(cal.workdays(date(2025, 1, 25), date(2025, 2, 9))) == [
        date(2025, 1, 26),
        date(2025, 1, 27),
        date(2025, 2, 5),
        date(2025, 2, 6),
        date(2025, 2, 7),
        date(2025, 2, 8),
    ]


def test_local_overrides_win(tmp_path) -> None:
    f = tmp_path / "o.toml"
    f.write_text(
        "known_years = [2027]\n"
        '[[day]]\ndate = 2025-07-21\nworkday = false\nnote = "台风停工"\n'
        "[[day]]\ndate = 2027-01-01\nworkday = false\n"
    )
    cal = WorkdayCalendar(load_overrides(f))
    assert not cal.is_workday(date(2025, 7, 21))
    assert "台风停工" in cal.describe(date(2025, 7, 21))
    assert cal.last_year == 2027
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 4))  # weekday of a declared year
    with pytest.raises(CalendarRangeError):
        cal.is_workday(date(2028, 1, 3))


def test_overrides_file_errors(tmp_path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[[day]]\ndate = "2025-07-21"\nworkday = false\n')
    with pytest.raises(ValueError, match="TOML date"):
        load_overrides(f)
    assert load_overrides(tmp_path / "missing.toml") == Overrides()


def test_non_contiguous_years_refused() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        WorkdayCalendar(Overrides(known_years=frozenset({2030})))


def test_runway_warning_names_the_end_and_the_year_to_declare(cal: WorkdayCalendar) -> None:
    end = cal.last_day
    assert cal.runway_warning(end - timedelta(days=60)) is None
    warning = cal.runway_warning(end - timedelta(days=29))
    assert warning is not None
    assert f"ends {end.isoformat()} (in 29 days)" in warning
    assert f"declare {cal.last_year + 1}" in warning
    assert "(3 days ago)" in (cal.runway_warning(end + timedelta(days=3)) or "")


def test_declaring_the_next_year_silences_the_runway_warning(tmp_path) -> None:
    f = tmp_path / "o.toml"
    f.write_text(f"known_years = [{WorkdayCalendar().last_year + 1}]\n")
    cal = WorkdayCalendar(load_overrides(f))
    assert cal.runway_warning(WorkdayCalendar().last_day - timedelta(days=10)) is None


def test_the_runway_warning_for_the_configured_calendar(monkeypatch) -> None:
    # what the worker logs and hotline demo / sla overdue print; SlaSettings at call time
    end = working_time_for(SlaSettings()).calendar.declared_last_day
    assert calendar_runway(SlaSettings(), end - timedelta(days=100)) is None
    warning = calendar_runway(SlaSettings(), end - timedelta(days=10))
    assert f"declared years end {end} (in 10 days)" in warning
    assert "provisional" in warning and f"declare {end.year + 1}" in warning
    # without provisional years, cases whose limits pass the end get no clocks
    monkeypatch.setenv("HOTLINE_SLA_PROVISIONAL_YEARS", "0")
    warning = calendar_runway(SlaSettings(), end - timedelta(days=10))
    assert f"ends {end} (in 10 days)" in warning
    assert "without SLA clocks" in warning and f"declare {end.year + 1}" in warning
