"""Deadlines counted provisionally, then recomputed once the year is declared (real Redis).

Years are taken from the installed chinese-calendar: a test overrides file declares the
year after its last (every weekday working), so the year after that is provisional.
Expected deadlines come from a plain day-by-day count (``tests/working_days.py``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from cli.sla import app as sla_cli
from config.sla import SlaSettings
from sla.alerts import scan_due
from sla.calendar import (
    NEXT_NOTICE_DECEMBER_DAYS,
    WorkdayCalendar,
    load_overrides,
    package_years,
)
from sla.events import SlaEngine
from sla.policies import load_policies
from sla.redis_store import SlaStore
from sla.statutory_holidays import statutory_days_off
from sla.working_time import WorkingHours, WorkingTime
from tests.working_days import eve_crossing, nth_working_day, weekdays_except

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

TZ = ZoneInfo("Asia/Shanghai")
SETTINGS = SlaSettings(scan_batch=500)
DECLARED = package_years()[1] + 1  # declared by the test file: every weekday working
PROVISIONAL = DECLARED + 1
CASE_OVERDUE = 2  # threshold slot of the case clock's deadline


def engine_for(overrides: Path) -> SlaEngine:
    cal = WorkdayCalendar(load_overrides(overrides), provisional_years=1)
    wt = WorkingTime(cal, WorkingHours.parse(SETTINGS.working_hours), TZ)
    return SlaEngine(wt, load_policies(SETTINGS.policy_file), SETTINGS.fractions)


def ten_am(day: date) -> int:
    return int(datetime.combine(day, time(10), TZ).timestamp())


@pytest_asyncio.fixture(loop_scope="session")
async def stores(redis_url: str, unique_prefix: str, tmp_path: Path):
    """Two stores on the same keys: one on the provisional calendar, one after the year
    was declared with its first two provisional working days of January off."""
    before = tmp_path / "before.toml"
    before.write_text(f"known_years = [{DECLARED}]\n")
    statutory = statutory_days_off(PROVISIONAL)
    january = [date(PROVISIONAL, 1, d) for d in range(1, 15)]
    off = [d for d in january if weekdays_except(statutory)(d)][:2]
    after = tmp_path / "after.toml"
    after.write_text(
        f"known_years = [{DECLARED}, {PROVISIONAL}]\n"
        + "".join(f"[[day]]\ndate = {d}\nworkday = false\n" for d in off)
    )
    prefix = unique_prefix + ":"
    old = SlaStore.from_url(redis_url, engine=engine_for(before), settings=SETTINGS, prefix=prefix)
    new = SlaStore.from_url(redis_url, engine=engine_for(after), settings=SETTINGS, prefix=prefix)
    yield old, new, statutory, off
    await old.wipe()
    await old.aclose()
    await new.aclose()


async def assign(store: SlaStore, aid: str, at: datetime) -> None:
    out = await store.apply_assignment(
        appeal_id=aid, assignment_id=f"{aid}-1", hop=1, department="zjj", assigned_at=at,
        district="A市A3区", category="城乡建设/物业管理/物业服务",
    )  # fmt: skip
    assert out.applied, out


async def test_declaring_the_year_moves_provisional_deadlines_and_keeps_raised_warnings(
    stores,
) -> None:
    old, new, statutory, off = stores
    # before the last days of December, which the next year's notice may arrange (they
    # are provisional too): the sign-for deadline, that day, is on the declared calendar
    start = eve_crossing(DECLARED)
    while start.day > 31 - NEXT_NOTICE_DECEMBER_DAYS or start.weekday() >= 5:
        start -= timedelta(days=1)
    await assign(old, "A1", datetime.combine(start, time(10), TZ))
    provisional_due = nth_working_day(start, 5, weekdays_except(statutory))
    declared_due = nth_working_day(start, 5, weekdays_except(off))
    assert declared_due > provisional_due and provisional_due.year == PROVISIONAL
    a1 = await old.load("A1")
    assert a1.times[CASE_OVERDUE] == ten_am(provisional_due)

    # the sign-for clock (2 working hours) is long past by the next working day's noon;
    # its alerts say their deadline was not counted provisionally, the case clock's say it was
    noon = int(
        datetime.combine(nth_working_day(start, 1, lambda d: True), time(12), TZ).timestamp()
    )
    raised = {a.alert_id: a for a in await scan_due(old, max(noon, a1.times[0]))}
    assert {"A1/s1/overdue", "A1/c1/warn50"} <= set(raised)
    assert not raised["A1/s1/overdue"].provisional
    assert raised["A1/c1/warn50"].provisional
    assert raised["A1/c1/warn50"].due_at == datetime.combine(provisional_due, time(10), TZ)
    await old.ack(raised)
    fired = (await old.load("A1")).fired
    await assign(old, "A2", datetime(DECLARED, 6, 1, 10, tzinfo=TZ))  # all in the declared year

    # nothing recorded which calendar the deadlines are on: recomputing on the same one
    # moves nothing, and records it
    assert await old.calendar_changed()
    report = await old.recompute_deadlines()
    assert (report.examined, report.moved) == (2, 0)
    assert not await old.calendar_changed()

    # the year is declared: only A1's deadlines move; the warnings raised stay raised
    assert await new.calendar_changed()
    report = await new.recompute_deadlines()
    assert (report.examined, report.moved, report.out_of_range) == (2, 1, [])
    moved = await new.load("A1")
    assert moved.times[CASE_OVERDUE] == ten_am(declared_due)
    assert moved.fired == fired and moved.version == a1.version + 1
    assert (await new.load("A2")).times == (await old.load("A2")).times
    pending = min(t for slot, t in enumerate(moved.times) if t and not fired & (1 << slot))
    assert await new.r.zscore(new.due_key, "A1") == pending
    assert not await new.calendar_changed()
    assert (await new.recompute_deadlines()).moved == 0

    # the old deadline passes without a red card; the declared one raises it
    before = await scan_due(new, ten_am(provisional_due) + 60)
    assert "A1/c1/overdue" not in {a.alert_id for a in before}
    assert not {"A1/s1/overdue", "A1/c1/warn50"} & {a.alert_id for a in before}
    await new.ack(a.alert_id for a in before)
    (red,) = [a for a in await scan_due(new, ten_am(declared_due)) if a.threshold == "overdue"]
    assert red.alert_id == "A1/c1/overdue"
    assert red.due_at == datetime.combine(declared_due, time(10), TZ)
    assert not red.provisional


async def test_recompute_command(redis_url: str, unique_prefix: str) -> None:
    store = SlaStore.from_url(redis_url, settings=SETTINGS, prefix=unique_prefix + ":")
    try:
        await assign(store, "B1", datetime(package_years()[1], 6, 1, 10, tzinfo=TZ))
        args = ["recompute", "--redis-url", redis_url, "--prefix", store.prefix, "-q"]
        res = await asyncio.to_thread(CliRunner().invoke, sla_cli, [*args, "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout) == {"examined": 1, "moved": 0, "out_of_range": []}
        assert not await store.calendar_changed()
        res = await asyncio.to_thread(CliRunner().invoke, sla_cli, args)
        assert res.exit_code == 0 and res.stdout.startswith("1 open case(s)"), res.output
    finally:
        await store.wipe()
        await store.aclose()
