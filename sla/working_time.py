"""Exact working-time arithmetic: "N working hours/days after T", "working time between T1 and T2".

Model: working time is a single axis. Every working period of every working day (by
default 09:00–12:00 and 13:30–17:30 Asia/Shanghai, 7 h a day) is laid end to end; a
position on the axis is the number of working seconds since the calendar's first day.
Lunch breaks, evenings, weekends and holidays take no room on the axis. Then

* ``elapsed(t1, t2) = W(t2) - W(t1)``: the working seconds between two instants;
* ``add(t, s)`` is the *earliest* instant whose position is ``W(t) + s``.

"Earliest" fixes the edge cases: 2 working hours after Friday 15:30 is Friday 17:30 (the
end of the period), not Monday 09:00; and a deadline never falls in a break.

Working days — the convention used here, as 12345 centres compute time limits in their
systems (时限按工作时间累计): **N working days = N × (length of a working day) of working
time, counted from T.** So 5 working days after Tuesday 10:00 (no holidays) is the
following Tuesday 10:00; after an instant outside working hours (evening, weekend,
holiday) counting starts at the next working period, so 5 working days after Saturday
14:00 is Friday 17:30, the end of the 5th working day. The day of T is counted when T
is before its first working period: 1 working day after Monday 08:00 is Monday 17:30.

Instants are integer epoch seconds in the fast path (what Redis stores); datetime
wrappers take and return tz-aware datetimes.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sla.calendar import CalendarRangeError, WorkdayCalendar


@dataclass(frozen=True)
class WorkingHours:
    """The working periods of a working day, in local wall-clock time."""

    periods: tuple[tuple[time, time], ...]

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """Parse ``"09:00-12:00,13:30-17:30"``; periods must be ordered and not overlap."""
        periods: list[tuple[time, time]] = []
        for part in text.split(","):
            try:
                a, b = (time.fromisoformat(x.strip()) for x in part.split("-"))
            except ValueError:
                raise ValueError(f"working hours: bad period {part!r}, want HH:MM-HH:MM") from None
            if not a < b:
                raise ValueError(f"working hours: period {part!r} ends before it starts")
            if periods and a < periods[-1][1]:
                raise ValueError(f"working hours: period {part!r} overlaps the previous one")
            periods.append((a, b))
        if not periods:
            raise ValueError("working hours: no period given")
        return cls(tuple(periods))

    @property
    def day_seconds(self) -> int:
        """Length of one working day in seconds (25,200 = 7 h by default)."""
        return sum(_secs(b) - _secs(a) for a, b in self.periods)

    def __str__(self) -> str:
        return ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.periods)


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _fingerprint(tz: ZoneInfo, starts: list[int], ends: list[int]) -> str:
    """A digest of every working period: equal digests, equal working-time axes.

    The SLA store keeps the digest its deadlines were computed on; a worker that finds
    another one (a year declared, a local day off announced, other working hours)
    recomputes the open deadlines.
    """
    h = hashlib.blake2b(str(tz).encode(), digest_size=16)
    h.update(array("q", starts).tobytes())
    h.update(array("q", ends).tobytes())
    return h.hexdigest()


class WorkingTime:
    """The working-time axis of a calendar, working hours and time zone."""

    def __init__(self, calendar: WorkdayCalendar, hours: WorkingHours, tz: str | ZoneInfo) -> None:
        self.calendar = calendar
        self.hours = hours
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.day_seconds = hours.day_seconds
        starts: list[int] = []
        ends: list[int] = []
        cum: list[int] = []  # working seconds before each period starts
        total = 0
        d = calendar.first_day
        one = timedelta(days=1)
        while d <= calendar.last_day:
            if calendar.is_workday(d):
                for a, b in hours.periods:
                    s = int(datetime.combine(d, a, self.tz).timestamp())
                    e = int(datetime.combine(d, b, self.tz).timestamp())
                    starts.append(s)
                    ends.append(e)
                    cum.append(total)
                    total += e - s
            d += one
        self._starts = starts
        self._ends = ends
        self._cum = cum
        self._cum_end = [c + (e - s) for c, s, e in zip(cum, starts, ends, strict=True)]
        self.range_start = int(datetime.combine(calendar.first_day, time(), self.tz).timestamp())
        self.range_end = int(datetime.combine(calendar.last_day + one, time(), self.tz).timestamp())
        self.fingerprint = _fingerprint(self.tz, starts, ends)

    # -- epoch-second core ---------------------------------------------------------------

    def position(self, t: int) -> int:
        """Working seconds from the calendar's start to instant ``t`` (epoch seconds)."""
        if not self.range_start <= t <= self.range_end:
            raise CalendarRangeError(
                f"{self._fmt(t)} is outside the working-day calendar "
                f"({self.calendar.first_year}–{self.calendar.last_year})"
            )
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0
        return self._cum[i] + min(t, self._ends[i]) - self._starts[i]

    def instant(self, pos: int) -> int:
        """Earliest instant whose working-time position is ``pos``."""
        i = bisect_left(self._cum_end, pos)
        if i >= len(self._cum_end):
            raise CalendarRangeError(
                f"deadline falls after the end of the working-day calendar "
                f"({self.calendar.last_year}-12-31); update chinese-calendar or declare the "
                f"next year in the calendar overrides file"
            )
        return self._starts[i] + max(0, pos - self._cum[i])

    def elapsed(self, t1: int, t2: int) -> int:
        """Working seconds between ``t1`` and ``t2`` (negative if ``t2`` is earlier)."""
        return self.position(t2) - self.position(t1)

    def add(self, t: int, seconds: int) -> int:
        """Earliest instant ``seconds`` of working time after ``t`` (``t`` itself for 0)."""
        if seconds < 0:
            raise ValueError("working time to add must not be negative")
        if seconds == 0:
            self.position(t)  # range check only
            return t
        return self.instant(self.position(t) + seconds)

    def is_working(self, t: int) -> bool:
        """True if ``t`` lies inside a working period (start inclusive, end exclusive)."""
        self.position(t)
        i = bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

    # -- datetime wrappers ---------------------------------------------------------------

    def after(
        self, start: datetime, *, days: float = 0, hours: float = 0, minutes: float = 0
    ) -> datetime:
        """The instant ``days`` working days + ``hours`` + ``minutes`` working time after ``start``."""
        seconds = round(days * self.day_seconds + hours * 3600 + minutes * 60)
        return self.to_datetime(self.add(self.epoch(start), seconds))

    def between(self, t1: datetime, t2: datetime) -> timedelta:
        """Working time elapsed between two tz-aware instants."""
        return timedelta(seconds=self.elapsed(self.epoch(t1), self.epoch(t2)))

    def epoch(self, dt: datetime) -> int:
        """Epoch seconds of a tz-aware datetime (naive ones are refused: ambiguous)."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"datetime {dt.isoformat()} has no time zone")
        return int(dt.timestamp())

    def to_datetime(self, t: int) -> datetime:
        """Epoch seconds → datetime in the calendar's time zone."""
        return datetime.fromtimestamp(t, self.tz)

    def local_date(self, t: int) -> date:
        """Calendar date of instant ``t`` in the calendar's time zone."""
        return self.to_datetime(t).date()

    def _fmt(self, t: int) -> str:
        try:
            return self.to_datetime(t).isoformat()
        except (OverflowError, OSError, ValueError):
            return str(t)


_CACHE: dict[tuple[str, str, str, int], WorkingTime] = {}


def working_time_for(settings: object | None = None) -> WorkingTime:
    """The working-time axis configured by ``settings`` (:class:`config.sla.SlaSettings`).

    Built once per (time zone, hours, overrides file): building lays out ~20 years of
    working periods, about 0.1 s.
    """
    from config.sla import DEFAULTS
    from sla.calendar import load_overrides

    s = settings or DEFAULTS
    key = (s.timezone, s.working_hours, str(s.overrides_file), s.provisional_years)
    wt = _CACHE.get(key)
    if wt is None:
        cal = WorkdayCalendar(load_overrides(s.overrides_file), s.provisional_years)
        wt = WorkingTime(cal, WorkingHours.parse(s.working_hours), s.timezone)
        _CACHE[key] = wt
    return wt


def calendar_runway(settings: object | None = None, today: date | None = None) -> str | None:
    """The working-day calendar's runway warning (:meth:`WorkdayCalendar.runway_warning`)
    for ``today`` (default: today in the calendar's time zone), configured by ``settings``."""
    wt = working_time_for(settings)
    return wt.calendar.runway_warning(today or datetime.now(wt.tz).date())
