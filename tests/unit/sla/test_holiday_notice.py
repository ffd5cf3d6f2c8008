"""Reading the State Council's holiday notice, and declaring its year in the overrides file.

The notices of 2015, 2017 and 2024–2026 (``notices/``: their arrangement items in the
published wording; 2026 and 2017 whole, as published; elsewhere the remarks in parentheses,
of which the parser reads only the weekday, may differ from the originals) must give
exactly the days the
chinese-calendar package holds for those years. 2015 and 2017 are in the older style
(星期一, 补休: a weekday off in lieu of a holiday on a weekend).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from chinese_calendar import constants as package_data
from typer.testing import CliRunner

from cli.sla import app as sla_cli
from sla.calendar import WorkdayCalendar, declare_year, load_overrides, package_years
from sla.holiday_notice import NoticeError, notice_year, parse_notice

NOTICES = Path(__file__).parent / "notices"
SHIPPED_OVERRIDES = Path(__file__).parents[3] / "sla" / "data" / "calendar_overrides.toml"


#: Days of a year that a separate notice arranged, not the yearly one: 2015's 70th
#: anniversary of the victory in the War of Resistance (9月3日至5日放假调休, 9月6日上班).
SEPARATE_NOTICES = {date(2015, 9, 3), date(2015, 9, 4), date(2015, 9, 6)}


@pytest.mark.parametrize("year", [2015, 2017, 2024, 2025, 2026])
def test_published_notices_give_the_packages_days(year: int) -> None:
    text = (NOTICES / f"{year}.txt").read_text(encoding="utf-8")
    assert notice_year(text) == year
    got = {d.day: d.workday for d in parse_notice(text)}
    want = {d: False for d in package_data.holidays if d.year == year}
    want |= {d: True for d in package_data.workdays if d.year == year}
    assert got == {d: w for d, w in want.items() if d not in SEPARATE_NOTICES}


@pytest.mark.parametrize("year", [2017, 2024, 2025, 2026])
def test_a_notice_read_as_another_year_is_refused_by_its_weekdays(year: int) -> None:
    """Every range's dates still exist a year on, and 共N天 still holds: only the weekdays
    the remarks give (周四, 星期一) show that the year is wrong."""
    text = (NOTICES / f"{year}.txt").read_text(encoding="utf-8")
    for wrong in (year - 1, year + 1):
        with pytest.raises(NoticeError, match=rf"but the notice says 周.: is {wrong} the year"):
            parse_notice(text, wrong)


@pytest.mark.parametrize("remark", ["（周四）", "（星期四）", "（农历冬月十三、周四）", "(礼拜四)"])
def test_a_remark_naming_the_wrong_weekday_is_refused(remark: str) -> None:
    ok = "2026年部分节假日安排 一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。"
    assert len(parse_notice(ok)) == 3
    typo = ok.replace("至3日（周六）", f"至3日{remark}")  # 1月3日 2026 is a Saturday
    with pytest.raises(NoticeError, match="元旦: 2026-01-03 is a 周六, but the notice says 周四"):
        parse_notice(typo)


def test_remarks_without_a_weekday_and_周日_as_星期天_are_read() -> None:
    text = "2026年部分节假日安排 一、元旦：1月1日（农历冬月十三）至3日（星期六）放假，共3天。1月4日（星期天）上班。"
    days = parse_notice(text)
    assert [(d.day.day, d.workday) for d in days] == [(1, False), (2, False), (3, False), (4, True)]


def test_a_day_off_in_lieu_is_a_day_off() -> None:
    days = {d.day: d for d in parse_notice((NOTICES / "2017.txt").read_text(encoding="utf-8"))}
    assert not days[date(2017, 1, 2)].workday and days[date(2017, 1, 2)].holiday == "元旦"
    with pytest.raises(NoticeError, match="2027-01-02 is a 周六, already a weekend day"):
        parse_notice("2027年部分节假日安排 一、元旦：1月1日放假，1月2日（星期六）补休。")


def test_a_date_the_notice_does_not_explain_is_refused() -> None:
    with pytest.raises(NoticeError, match="'1月2日照常' names a date"):
        parse_notice("2027年部分节假日安排 一、元旦：1月1日放假，1月2日照常。")
    # the notice's own date, in the year before, is no arrangement
    days = parse_notice("2027年部分节假日安排 一、元旦：1月1日放假。国务院办公厅2026年11月4日")
    assert [d.day for d in days] == [date(2027, 1, 1)]


def test_days_carry_the_holiday_name() -> None:
    days = {d.day: d for d in parse_notice((NOTICES / "2024.txt").read_text(encoding="utf-8"))}
    assert days[date(2024, 2, 18)].holiday == "春节" and days[date(2024, 2, 18)].workday
    assert days[date(2024, 6, 10)].note == "端午节放假（国务院办公厅通知）"
    # 鼓励…安排职工在除夕（2月9日）休息 is no statutory day off
    assert date(2024, 2, 9) not in days


def test_a_range_that_contradicts_its_count_is_refused() -> None:
    with pytest.raises(NoticeError, match="春节: 8 days .* 共7天"):
        parse_notice("2027年部分节假日安排 一、春节：2月5日至12日放假调休，共7天。")


def test_a_make_up_day_on_a_weekday_is_refused() -> None:
    # 2027-02-03 is a Wednesday
    with pytest.raises(NoticeError, match="2027-02-03 is a 周三"):
        parse_notice("2027年部分节假日安排 一、春节：2月5日至11日放假调休，共7天。2月3日上班。")


def test_year_from_the_option_and_ranges_across_new_year() -> None:
    text = "一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。"
    with pytest.raises(NoticeError, match="no year"):
        parse_notice(text)
    days = parse_notice(text, year=2023)
    assert [d.day for d in days] == [date(2022, 12, 31), date(2023, 1, 1), date(2023, 1, 2)]


def _next_year_notice(year: int) -> str:
    """A made-up notice for the year after the package's (a fixture, not an announcement):
    the Monday and Tuesday after the first Saturday of March off, that Saturday worked."""
    saturday = date(year, 3, 1) + timedelta(days=(5 - date(year, 3, 1).weekday()) % 7)
    monday = saturday + timedelta(days=2)
    return (
        f"国务院办公厅关于{year}年部分节假日安排的通知\n"
        f"一、测试节：{monday.month}月{monday.day}日至{monday.day + 1}日放假调休，共2天。"
        f"{saturday.month}月{saturday.day}日（周六）上班。\n"
    )


def test_declare_year_adds_the_year_to_a_copy_of_the_shipped_file(tmp_path: Path) -> None:
    year = package_years()[1] + 1
    notice = tmp_path / "notice.txt"
    notice.write_text(_next_year_notice(year), encoding="utf-8")
    overrides = tmp_path / "overrides.toml"
    shutil.copy(SHIPPED_OVERRIDES, overrides)
    runner = CliRunner()
    args = ["declare-year", str(notice), "--overrides", str(overrides)]
    dry = runner.invoke(sla_cli, [*args, "--dry-run"])
    assert dry.exit_code == 0 and f"{year}: 2 days off, 1 make-up working days" in dry.stdout
    assert overrides.read_bytes() == SHIPPED_OVERRIDES.read_bytes()
    res = runner.invoke(sla_cli, args)
    assert res.exit_code == 0, res.output
    assert "hotline deadletter replay --code SLA_CALENDAR_RANGE" in res.stdout
    cal = WorkdayCalendar(load_overrides(overrides))
    assert cal.last_year == year
    days = parse_notice(_next_year_notice(year))
    for d in days:
        assert cal.is_workday(d.day) is d.workday
        assert "测试节" in cal.describe(d.day)
    assert cal.is_workday(date(year, 7, 1)) is (date(year, 7, 1).weekday() < 5)
    assert "# Local working-day announcements" in overrides.read_text(encoding="utf-8")
    again = runner.invoke(sla_cli, args)
    assert again.exit_code == 2 and "declared already" in again.stderr


def test_a_year_the_package_holds_is_not_declared(tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.toml"
    res = CliRunner().invoke(
        sla_cli, ["declare-year", str(NOTICES / "2026.txt"), "--overrides", str(overrides)]
    )
    assert res.exit_code == 2 and "in chinese-calendar already" in res.stderr
    assert not overrides.exists()


def test_a_conflicting_local_day_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    year = package_years()[1] + 1
    off = parse_notice(_next_year_notice(year))[-1].day  # a day off in the notice
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(
        f'[[day]]\ndate = {off.isoformat()}\nworkday = true\nnote = "本地调整"\n', encoding="utf-8"
    )
    before = overrides.read_bytes()
    days = [(d.day, d.workday, d.note) for d in parse_notice(_next_year_notice(year))]
    with pytest.raises(ValueError, match="both working day and day off"):
        declare_year(overrides, year, days)
    assert overrides.read_bytes() == before
    assert not overrides.with_name("overrides.toml.tmp").exists()


def test_a_remark_left_unclosed_loses_only_its_bracket() -> None:
    # pasted with one ） lost: the remark used to run on to the next ）, taking 春节's item
    # with it ("元旦: 20 days … but the notice says 共9天")
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    damaged = text.replace("1月4日（周日）上班", "1月4日（周日上班", 1)
    assert damaged != text
    assert parse_notice(damaged) == parse_notice(text)
