"""Which days are working days (工作日): China's official calendar plus local announcements.

Working days are Monday to Friday, minus statutory holidays (法定节假日), plus the weekend
make-up working days (调休上班) the State Council announces each year. That data comes
from the ``chinese_calendar`` package, which is updated once the yearly announcement is
out (usually in November for the next year). A city can announce more (a typhoon day off,
a local make-up day): those go in the overrides file (``sla/data/calendar_overrides.toml``),
which wins over the package. The overrides file can also declare a whole year the package
does not know yet (``known_years``) so deadlines can run into it before the package update.

The years after the last declared one are *provisional* (``provisional_years`` of them,
``$HOTLINE_SLA_PROVISIONAL_YEARS``): working days there are the weekdays that the law
itself does not give off (:mod:`sla.statutory_holidays`), without the 调休 the notice will
add. Deadlines counted into them can be a few days off around the long breaks, so they
are marked provisional wherever they are shown, the runway warning asks for the year to
be declared, and the SLA workers recompute open deadlines once it is (the calendar's
:attr:`~sla.working_time.WorkingTime.fingerprint` changes). The alternative, no clock at
all for every case whose limit reaches into the new year, leaves departments without
deadlines for weeks each December.

Asking about a day past the provisional years (or before the first known one) raises
:class:`CalendarRangeError`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
from chinese_calendar import constants as _cc_constants

from sla.statutory_holidays import statutory_days_off

#: The last days of December that the next year's holiday notice has arranged (元旦 from
#: 12-30, a make-up working day on 12-29): provisional while that year is not declared.
NEXT_NOTICE_DECEMBER_DAYS = 3


class CalendarRangeError(ValueError):
    """A date falls outside the years the working-day calendar knows."""


def package_years() -> tuple[int, int]:
    """First and last year the installed ``chinese_calendar`` has holiday data for."""
    years = {d.year for d in _cc_constants.holidays} | {d.year for d in _cc_constants.workdays}
    return min(years), max(years)


@dataclass(frozen=True)
class Overrides:
    """Local announcements: explicit working days / days off, and extra known years."""

    days: Mapping[date, bool] = field(default_factory=dict)
    notes: Mapping[date, str] = field(default_factory=dict)
    #: Years the file describes completely (weekdays are working days unless listed).
    known_years: frozenset[int] = frozenset()


def load_overrides(path: Path | str | None) -> Overrides:
    """Read an overrides TOML file; a missing path or file means no overrides.

    Format::

        known_years = [2027]          # optional
        [[day]]
        date = 2026-07-20
        workday = false
        note = "台风停工 (市政府通告 2026-18号)"
    """
    if path is None:
        return Overrides()
    p = Path(path)
    if not p.exists():
        return Overrides()
    with p.open("rb") as fh:
        data = tomllib.load(fh)
    problems: list[str] = []
    days: dict[date, bool] = {}
    notes: dict[date, str] = {}
    for i, entry in enumerate(data.get("day", [])):
        d, wd = entry.get("date"), entry.get("workday")
        if not isinstance(d, date) or not isinstance(wd, bool):
            problems.append(f"day[{i}]: needs a TOML date `date` and a boolean `workday`")
            continue
        if d in days and days[d] != wd:
            problems.append(f"day[{i}]: {d} declared both working day and day off")
        days[d] = wd
        if entry.get("note"):
            notes[d] = str(entry["note"])
    years = data.get("known_years", [])
    if not all(isinstance(y, int) for y in years):
        problems.append("known_years must be a list of integers")
        years = []
    if problems:
        raise ValueError(f"{p}: " + "; ".join(problems))
    return Overrides(days=days, notes=notes, known_years=frozenset(years))


_KNOWN_YEARS_LINE = re.compile(r"^known_years\s*=\s*\[[^\]\n]*\]\s*$", re.M)


def declare_year(path: Path | str, year: int, days: Iterable[tuple[date, bool, str]]) -> None:
    """Add ``year`` to an overrides file: in ``known_years``, with one ``[[day]]`` per
    ``(date, workday, note)`` (its days off and make-up working days).

    The file's comments and earlier entries are kept; the result is loaded (and the
    calendar built from it) before it replaces the file, so a day the file already
    declares the other way, or a gap between years, is an error and the file is left as
    it was. A year the file already declares is refused.
    """
    p = Path(path)
    text = p.read_text("utf-8") if p.exists() else ""
    known = load_overrides(p).known_years
    if year in known:
        raise ValueError(f"{p}: {year} is declared already")
    line = f"known_years = [{', '.join(str(y) for y in sorted(known | {year}))}]"
    if _KNOWN_YEARS_LINE.search(text):
        text = _KNOWN_YEARS_LINE.sub(line, text, count=1)
    elif "known_years" in text:
        raise ValueError(f"{p}: write its known_years on one line, then declare {year}")
    else:  # top-level keys must come before the first [[day]] table
        text = f"{line}\n{text}"
    entries = [f"\n# {year}, as declared by the State Council's holiday notice\n"]
    for d, workday, note in days:
        if d.year != year and not (d.year == year - 1 and d.month == 12):
            raise ValueError(f"{d} is not in {year}")
        flag = "true" if workday else "false"
        note_toml = json.dumps(note, ensure_ascii=False)  # a valid TOML basic string
        entries.append(f"[[day]]\ndate = {d.isoformat()}\nworkday = {flag}\nnote = {note_toml}\n")
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text.rstrip("\n") + "\n" + "\n".join(entries), encoding="utf-8")
    try:
        WorkdayCalendar(load_overrides(tmp))
    except Exception:
        tmp.unlink()
        raise
    tmp.replace(p)


class WorkdayCalendar:
    """Decides whether a date is a working day; raises outside the known years."""

    def __init__(self, overrides: Overrides | None = None, provisional_years: int = 0) -> None:
        """``provisional_years``: how many years after the last declared one to count on
        the statutory holidays alone (see the module docstring); 0 = none."""
        if provisional_years < 0:
            raise ValueError("provisional_years must be 0 or more")
        self.overrides = overrides or Overrides()
        first, last = package_years()
        self._package_years = range(first, last + 1)
        known = set(self._package_years) | set(self.overrides.known_years)
        # Years must be contiguous: a gap would make "N working days after T" jump a year
        # whose holidays nobody checked.
        self.first_year = min(known)
        #: Last year whose arrangement (调休 included) was declared.
        self.declared_last_year = max(known)
        missing = set(range(self.first_year, self.declared_last_year + 1)) - known
        if missing:
            raise ValueError(f"calendar years must be contiguous; missing {sorted(missing)}")
        self.provisional_years = range(
            self.declared_last_year + 1, self.declared_last_year + 1 + provisional_years
        )
        self.last_year = self.declared_last_year + provisional_years
        self._statutory: dict[date, str] = {}
        for year in self.provisional_years:
            self._statutory.update(statutory_days_off(year))

    @property
    def first_day(self) -> date:
        """First day the calendar knows."""
        return date(self.first_year, 1, 1)

    @property
    def last_day(self) -> date:
        """Last day the calendar knows (provisional years included)."""
        return date(self.last_year, 12, 31)

    @property
    def declared_last_day(self) -> date:
        """Last day of the last declared year: later days are provisional."""
        return date(self.declared_last_year, 12, 31)

    def is_provisional(self, d: date) -> bool:
        """True if ``d`` lies in a provisional year (counted on the statutory holidays), or
        is one of the last :data:`NEXT_NOTICE_DECEMBER_DAYS` of December before one: the
        next year's notice may arrange them (the 2019 notice made 2018-12-29 a working
        Saturday and 2018-12-30 and 31 days off)."""
        if d.year in self.provisional_years:
            return True
        tail = d.month == 12 and d.day > 31 - NEXT_NOTICE_DECEMBER_DAYS
        return tail and d.year + 1 in self.provisional_years

    def runway_warning(self, today: date, horizon_days: int = 60) -> str | None:
        """A warning when the declared calendar ends within ``horizon_days`` of ``today``,
        else None.

        The State Council announces each year's holidays and make-up days late in the
        year before. Until the year is declared, deadlines reaching into it are
        provisional; past the provisional years they cannot be computed at all, and
        assignments whose time limits reach there are rejected.
        """
        left = (self.declared_last_day - today).days
        if left >= horizon_days:
            return None
        when = f"in {left} days" if left >= 0 else f"{-left} days ago"
        nxt = self.declared_last_year + 1
        declare = (
            f"declare {nxt} from the State Council's holiday notice "
            f"(`hotline sla declare-year NOTICE.txt`), or upgrade chinese-calendar once it "
            f"ships the year"
        )
        if self.provisional_years:
            past = (self.last_day - today).days
            return (
                f"the working-day calendar's declared years end "
                f"{self.declared_last_day.isoformat()} ({when}): deadlines after it are "
                f"provisional until {self.last_day.isoformat()}, counted on the statutory "
                f"holidays without {nxt}'s 调休, and may be a few working days off around "
                f"the long breaks"
                + (
                    "; deadlines past that cannot be computed (the SLA stage dead-letters "
                    "their assignments)"
                    if past < horizon_days
                    else ""
                )
                + f"; {declare}; then restart the SLA workers (they recompute open "
                f"deadlines on the declared calendar)"
            )
        return (
            f"the working-day calendar ends {self.last_day.isoformat()} ({when}): time limits "
            f"reaching past it cannot be computed, so those cases reach their departments "
            f"without SLA clocks (the SLA stage dead-letters their assignments); {declare}; "
            f"then `hotline deadletter replay --code SLA_CALENDAR_RANGE`"
        )

    def check(self, d: date) -> None:
        """Raise :class:`CalendarRangeError` if ``d`` is outside the known years."""
        if not self.first_year <= d.year <= self.last_year:
            raise CalendarRangeError(
                f"{d.isoformat()} is outside the working-day calendar "
                f"({self.first_year}–{self.last_year}); update chinese-calendar or declare "
                f"the year in the calendar overrides file"
            )

    def is_workday(self, d: date) -> bool:
        """True if ``d`` is a working day (overrides first, then the official calendar,
        then, in a provisional year, the statutory holidays)."""
        self.check(d)
        if d in self.overrides.days:
            return self.overrides.days[d]
        if d.year in self._package_years:
            return chinese_calendar.is_workday(d)
        return d.weekday() < 5 and d not in self._statutory

    def describe(self, d: date) -> str:
        """Why ``d`` is or is not a working day, for operators (e.g. ``holiday: National Day``)."""
        self.check(d)
        if d in self.overrides.days:
            kind = "working day" if self.overrides.days[d] else "day off"
            return f"{kind} (local override: {self.overrides.notes.get(d, 'no note')})"
        if d.year in self._package_years:
            is_holiday, name = chinese_calendar.get_holiday_detail(d)
            weekend = d.weekday() >= 5
            if is_holiday:
                said = f"holiday: {name}" if name else "weekend"
            elif weekend:
                said = f"make-up working day (调休) for {name}" if name else "make-up working day"
            else:
                said = "working day"
            if self.is_provisional(d):  # the last days of December before an undeclared year
                said += f"; provisional: {d.year + 1}'s arrangement may move it"
            return said
        if self.is_provisional(d):
            pending = f"provisional: {d.year}'s arrangement is not declared yet"
            if d in self._statutory:
                return f"statutory holiday: {self._statutory[d]}; {pending}"
            return f"weekend; {pending}" if d.weekday() >= 5 else pending
        return "working day" if d.weekday() < 5 else "weekend"

    def workdays(self, start: date, end: date) -> Iterator[date]:
        """Working days from ``start`` to ``end`` inclusive."""
        d = start
        while d <= end:
            if self.is_workday(d):
                yield d
            d += timedelta(days=1)
