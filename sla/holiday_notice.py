"""Reading the State Council's yearly holiday notice (国务院办公厅关于…部分节假日安排的通知).

Each autumn the General Office announces next year's statutory holidays and the weekend
days worked in exchange (调休上班), in a fixed style::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。…
    五、端午节：6月10日放假，与周末连休。

and, in older notices, a weekday off in lieu (补休)::

    一、元旦：1月1日放假，1月2日（星期一）补休。

The working-day calendar needs that year before time limits can run into it, and
``chinese-calendar`` ships it only some weeks later. :func:`parse_notice` turns the
notice's text into the days to declare, checking what the notice itself states (``共N天``
against the range, make-up days on weekends) so a misread is an error, not a wrong
deadline. Sentences that declare neither days off nor working days (``鼓励各单位…安排职工在
除夕休息``) are not read: they are not statutory. A clause naming a date of the year without
放假, 补休 or 上班 is an error rather than skipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

_ITEM = re.compile(r"[一二三四五六七八九十]+、")
#: A date, and the weekday its remark gave (``@0`` … ``@6``, see :func:`_weekday_marks`).
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:@(\d))?")
#: A remark in parentheses (after NFKC, （…） is (…)). It stops at an opening one too: a
#: remark whose （ was never closed then loses only that bracket, not every word up to the
#: next remark's ）, and a text of many （ is read in linear time, not quadratic.
_NOTE = re.compile(r"\([^()]*\)")
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_TOTAL = re.compile(r"共(\d+)天")
_YEAR = re.compile(r"(\d{4})年(?:部分)?节假日")
#: 周一 … 周日 by ``date.weekday()``
WEEKDAY_NAMES = "一二三四五六日"


class NoticeError(ValueError):
    """The notice's text cannot be read as a holiday arrangement, or contradicts itself."""


@dataclass(frozen=True)
class NoticeDay:
    """One day the notice declares: a day off (``workday=False``) or a make-up working day."""

    day: date
    workday: bool
    holiday: str  # the notice's own name, e.g. 春节

    @property
    def note(self) -> str:
        """What the calendar overrides file keeps as this day's reason."""
        return f"{self.holiday}{'调休上班' if self.workday else '放假'}（国务院办公厅通知）"


def notice_year(text: str) -> int | None:
    """The year a notice arranges, from its title (``2027年部分节假日安排``), if present."""
    m = _YEAR.search(_normalise(text))
    return int(m.group(1)) if m else None


def parse_notice(text: str, year: int | None = None) -> list[NoticeDay]:
    """The days off and make-up working days of a holiday notice, in date order.

    ``year`` is the year arranged; by default it is read from the notice's title. Raises
    :class:`NoticeError` naming the item when an item cannot be read, when a range does
    not hold the number of days the notice says (``共N天``), when a make-up working day
    is not a Saturday or Sunday (a 补休 day not a weekday), when a clause names a date
    without saying what it is, or when a day is declared twice in contradiction.
    """
    # parenthesised remarks go first: （农历正月初七、周二） would read as item 七; the weekday
    # they give stays as a mark, checked against the date (a notice read as another year's)
    text = _NOTE.sub(_weekday_marks, _normalise(text))
    year = year or notice_year(text)
    if year is None:
        raise NoticeError("no year: the title (…2027年部分节假日安排…) is missing; give the year")
    parts = _ITEM.split(text)
    items = [p for p in parts[1:] if p.strip()]
    if not items:
        raise NoticeError("no numbered items (一、元旦：… 二、春节：…) found in the notice")
    days: dict[date, NoticeDay] = {}
    for item in items:
        name, sep, body = item.partition("：")
        if not sep:
            raise NoticeError(f"item {item[:20]!r}: expected 名称：安排")
        name = name.strip()
        found = _item_days(name, body, year)
        if not any(not d.workday for d in found):
            raise NoticeError(f"{name}: no days off (…放假) found in {body[:40]!r}")
        for d in found:
            seen = days.get(d.day)
            if seen is not None and seen.workday != d.workday:
                raise NoticeError(f"{d.day} is declared both a day off and a working day")
            days.setdefault(d.day, d)
    return sorted(days.values(), key=lambda d: d.day)


def _weekday_marks(remark: re.Match) -> str:
    """A remark as the weekday it names, ``@0`` (周一) … ``@6`` (周日, 星期天), or nothing."""
    m = _WEEKDAY.search(remark.group(0))
    return f"@{(WEEKDAY_NAMES + '日').index(m.group(1).replace('天', '日'))}" if m else ""


def _normalise(text: str) -> str:
    """Full-width digits and colons to ASCII forms the patterns read; no whitespace."""
    text = unicodedata.normalize("NFKC", text).replace(":", "：")
    return re.sub(r"\s+", "", text)


def _item_days(name: str, body: str, year: int) -> list[NoticeDay]:
    out: list[NoticeDay] = []
    for sentence in re.split(r"[。；;]", body):
        for clause in re.split(r"[，,]", sentence):
            if "放假" in clause:
                off = _dates(clause.split("放假", 1)[0], year, name)
                total = _TOTAL.search(sentence)
                if total and int(total.group(1)) != len(off):
                    raise NoticeError(
                        f"{name}: {len(off)} days from {off[0]} to {off[-1]}, but the notice "
                        f"says 共{total.group(1)}天"
                    )
                out += [NoticeDay(d, False, name) for d in off]
            elif "上班" in clause:
                for d in _dates(clause, year, name, ranges=False):
                    if d.weekday() < 5:
                        raise NoticeError(
                            f"{name}: make-up working day {d} is a 周{WEEKDAY_NAMES[d.weekday()]}, "
                            "not a weekend day"
                        )
                    out.append(NoticeDay(d, True, name))
            elif "补休" in clause:  # older notices: 1月2日（星期一）补休, a weekday off
                for d in _dates(clause, year, name, ranges=False):
                    if d.weekday() >= 5:
                        raise NoticeError(
                            f"{name}: day off in lieu {d} is a 周{WEEKDAY_NAMES[d.weekday()]}, "
                            "already a weekend day"
                        )
                    out.append(NoticeDay(d, False, name))
            elif _unread_date(clause, year):
                raise NoticeError(
                    f"{name}: {clause!r} names a date but neither 放假, 补休 nor 上班"
                )
    return out


def _unread_date(clause: str, year: int) -> bool:
    """Whether ``clause`` names a date of the arranged year (the notice's own date, in the
    year before, is no arrangement: 国务院办公厅 2026年11月…日)."""
    return any(not (m.group(1) and int(m.group(1)) < year) for m in _DATE.finditer(clause))


def _dates(text: str, year: int, name: str, ranges: bool = True) -> list[date]:
    """Dates in ``text``: ``A至B`` as every day from A to B, else each date listed. A date
    without a month takes the previous one's (``4月4日至6日``); without a year, the
    arranged one, or the next if the month goes back (``12月31日至1月2日``)."""
    found: list[date] = []
    month: int | None = None
    y = year
    for m in _DATE.finditer(text):
        if m.group(1):
            y = int(m.group(1))
        elif found and m.group(2) and int(m.group(2)) < found[-1].month:
            y = found[-1].year + 1
        month = int(m.group(2)) if m.group(2) else month
        if month is None:
            raise NoticeError(f"{name}: a date without a month in {text!r}")
        try:
            found.append(date(y, month, int(m.group(3))))
        except ValueError:
            raise NoticeError(f"{name}: no such date {y}-{month}-{m.group(3)}") from None
        said = m.group(4)
        if said is not None and found[-1].weekday() != int(said):
            raise NoticeError(
                f"{name}: {found[-1]} is a 周{WEEKDAY_NAMES[found[-1].weekday()]}, but the "
                f"notice says 周{WEEKDAY_NAMES[int(said)]}: is {year} the year it arranges?"
            )
    if not found:
        raise NoticeError(f"{name}: no date in {text!r}")
    if ranges and "至" in text:
        if len(found) != 2 or found[1] < found[0]:
            raise NoticeError(f"{name}: cannot read the range {text!r}")
        start, end = found
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return found
