"""A plain day-by-day count of working days: the tests' oracle for deadlines that cross
into another year (independent of sla.working_time's axis and bisection)."""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import date, timedelta


def nth_working_day(start: date, n: int, is_working: Callable[[date], bool]) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
    d = start
    while n:
        d += timedelta(days=1)
        n -= is_working(d)
    return d


def weekdays_except(off: Container[date]) -> Callable[[date], bool]:
    """Working days: Monday to Friday, except ``off``."""
    return lambda d: d.weekday() < 5 and d not in off


def eve_crossing(year: int, n: int = 5) -> date:
    """A weekday late in December of ``year`` from which ``n`` weekdays reach into the
    next year (at most two weekdays of ``year`` follow it)."""
    d = date(year, 12, 29)
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    assert sum((d + timedelta(days=i)).weekday() < 5 for i in range(1, 32 - d.day)) < n
    return d
