"""The days off the law itself fixes, for years the State Council has not arranged yet.

《全国年节及纪念日放假办法》 (as revised in November 2024, in force from 2025-01-01) gives
every citizen 13 days off a year:

* 元旦 1 January;
* 春节 four days: 除夕 (the last day of the lunar year) and 正月初一 to 初三;
* 清明节 the day of the 清明 solar term;
* 劳动节 1 and 2 May;
* 端午节 the fifth day of the fifth lunar month;
* 中秋节 the fifteenth day of the eighth lunar month;
* 国庆节 1 to 3 October.

and says that such a day falling on a Saturday or Sunday is made up on a working day
(补假). We take the first weekday after it that is not already off. Two holidays on one
day (中秋 on 1–3 October, as in 2020, 2028 and 2031) are made up the same way: the notices
of 2009 and 2020 kept four weekdays off for the two, not three.

That is the floor of every yearly arrangement: each notice keeps these days off and then
moves some weekend days around them (调休) to make longer breaks. Working days counted on
the floor alone can differ from the announced ones by a few days around the long breaks,
which is why :mod:`sla.calendar` uses them only provisionally, and says so.

Lunar dates and solar terms come from ``lunar_python`` (astronomical tables we should
not maintain ourselves).
"""

from __future__ import annotations

from datetime import date, timedelta

#: First year of the rules above (the 2024 revision: 除夕 and 2 May became days off).
FIRST_YEAR = 2025


def _lunar(year: int, month: int, day: int) -> date:
    from lunar_python import Lunar  # imported when a provisional year is built: 40 ms

    s = Lunar.fromYmd(year, month, day).getSolar()
    return date(s.getYear(), s.getMonth(), s.getDay())


def _qingming(year: int) -> date:
    from lunar_python import Solar

    # the table of a lunar year that covers early April of ``year``
    s = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()["清明"]
    return date(s.getYear(), s.getMonth(), s.getDay())


def statutory_days_off(year: int) -> dict[date, str]:
    """Every day of ``year`` off by law, with the holiday's name (补假 days included).

    Raises ``ValueError`` for a year before :data:`FIRST_YEAR` (other rules applied).
    """
    if year < FIRST_YEAR:
        raise ValueError(f"the statutory holiday rules used here start in {FIRST_YEAR}")
    new_year = _lunar(year, 1, 1)
    holidays: list[tuple[date, str]] = [
        (date(year, 1, 1), "元旦"),
        *((new_year + timedelta(days=i), "春节") for i in range(-1, 3)),
        (_qingming(year), "清明节"),
        (date(year, 5, 1), "劳动节"),
        (date(year, 5, 2), "劳动节"),
        (_lunar(year, 5, 5), "端午节"),
        (_lunar(year, 8, 15), "中秋节"),
        *((date(year, 10, day), "国庆节") for day in (1, 2, 3)),
    ]
    off: dict[date, str] = {}
    to_make_up = []
    for day, name in holidays:
        if day in off or day.weekday() >= 5:  # on another holiday, or on a weekend
            to_make_up.append((day, name))
        off.setdefault(day, name)
    for day, name in sorted(to_make_up):
        make_up = day + timedelta(days=1)
        while make_up.weekday() >= 5 or make_up in off:
            make_up += timedelta(days=1)
        off[make_up] = f"{name}补假"
    return {d: n for d, n in off.items() if d.year == year}
