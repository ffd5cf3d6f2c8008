"""``hotline deadletter replay`` through the real broker, worker and Redis.

The case the command exists for: an assignment whose time limits pass the end of the
working-day calendar (its provisional year included) is dead-lettered; once the year is
declared, replaying it gives the case its clocks, and a second replay sends nothing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from config.stack import PROJECT_ROOT
from models.dead_letter import DeadLetter
from sla.statutory_holidays import statutory_days_off
from stack.topic_admin import ensure_topics_sync
from tests.integration.raw_records import assignment_json
from tests.integration.worker_process import (
    WorkerProcess,
    publish,
    sla_store,
    wait_for,
    worker_calendar,
)
from tests.working_days import eve_crossing, nth_working_day, weekdays_except

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sla_worker(kafka_bootstrap, redis_url, tmp_path):
    proc = WorkerProcess(
        kafka_bootstrap, redis_url, tmp_path, extra_env={"HOTLINE_WORKER_STAGES": "sla"}
    )
    from streams.topics import SPECS

    ensure_topics_sync(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    proc.start()
    yield proc
    proc.stop()
    asyncio.run(proc.delete_topics_and_keys())


async def _wait_for_case(store, aid: str):
    deadline = asyncio.get_running_loop().time() + 40
    while (state := await store.load(aid)) is None:
        assert asyncio.get_running_loop().time() < deadline, f"no clocks for {aid}"
        await asyncio.sleep(0.3)
    return state


def _replay(worker: WorkerProcess, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "deadletter", "replay", "-q", *args],
        cwd=PROJECT_ROOT, env=worker.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


async def test_declaring_the_year_recomputes_provisional_deadlines_and_replays_the_rest(
    sla_worker, redis_url
):
    """The operator's December: one case's limits reach into the provisional year (its
    deadlines are counted on the statutory holidays alone), another's past it (dead-
    lettered). The year is declared, the worker restarted: the first case's deadlines
    move to the declared calendar, and a replay gives the second its clocks."""
    calendar_file = sla_worker.env["HOTLINE_SLA_CALENDAR_OVERRIDES"]
    cal = worker_calendar(sla_worker)
    declared, last = cal.declared_last_year, cal.last_day
    assert last.year == declared + 1  # one provisional year, the default
    aid = "SLA-replay-1"
    assignment = assignment_json(aid, "a3.zjj", datetime(last.year, 12, 30, 10, 0, tzinfo=TZ))
    # the test file makes every weekday of the declared year a working day: 5 working days
    # (general policy) from 10:00 on this day end in the provisional year
    start = eve_crossing(declared)
    early = "SLA-provisional-1"
    early_assignment = assignment_json(early, "a3.zjj", datetime.combine(start, time(10), TZ))
    broken_event = b'{"event_id": "E-1", "appeal_id": '  # BAD_JSON: never worth a replay
    await publish(
        sla_worker.bootstrap, sla_worker.topic("assignments.all"), [early_assignment, assignment]
    )
    await publish(sla_worker.bootstrap, sla_worker.topic("cases.events"), [broken_event])

    def letters(records) -> list[DeadLetter]:
        return [DeadLetter.loads(r.value) for r in records]

    def calendar_letters(records) -> list[DeadLetter]:
        return [d for d in letters(records) if base64.b64decode(d.payload_b64) == assignment]

    dead = await wait_for(
        sla_worker.bootstrap, sla_worker.topic("deadletter"),
        lambda rs: calendar_letters(rs) and any(d.error_code == "BAD_JSON" for d in letters(rs)),
    )  # fmt: skip
    assert [d.error_code for d in calendar_letters(dead)] == ["SLA_CALENDAR_RANGE"]

    def due_on(day) -> int:  # the case clock's deadline: 10:00 on its 5th working day
        return int(datetime.combine(day, time(10), TZ).timestamp())

    statutory = statutory_days_off(last.year)
    provisional_due = nth_working_day(start, 5, weekdays_except(statutory))
    # the arrangement declared below: the first two provisional working days of January off
    january = [date(last.year, 1, d) for d in range(1, 15)]
    declared_off = [d for d in january if weekdays_except(statutory)(d)][:2]
    declared_due = nth_working_day(start, 5, weekdays_except(declared_off))
    assert declared_due > provisional_due
    store = sla_store(sla_worker, redis_url)
    overdue = 2  # threshold slot of the case clock's deadline
    try:
        state = await _wait_for_case(store, early)
        assert state.times[overdue] == due_on(provisional_due)

        # the operator declares the provisional year, restarts the worker and replays
        sla_worker.stop()
        days = "".join(
            f'[[day]]\ndate = {d.isoformat()}\nworkday = false\nnote = "test"\n'
            for d in declared_off
        )
        with open(calendar_file, "w", encoding="utf-8") as fh:
            fh.write(f"known_years = [{declared}, {last.year}]\n{days}")
        sla_worker.start()
        # the worker moved the stored deadline when it started
        deadline = asyncio.get_running_loop().time() + 40
        while (await store.load(early)).times[overdue] != due_on(declared_due):
            assert asyncio.get_running_loop().time() < deadline, "deadline not recomputed"
            await asyncio.sleep(0.3)
    finally:
        await store.aclose()

    dry = _replay(sla_worker, "--stage", "sla", "--dry-run")
    assert (dry["selected"], dry["input_errors"], dry["sent"]) == (1, 1, 0)

    first = _replay(sla_worker, "--stage", "sla")
    assert (first["selected"], first["sent"], first["input_errors"]) == (1, 1, 1)
    store = sla_store(sla_worker, redis_url)
    try:
        state = await _wait_for_case(store, aid)
        assert (state.department, state.hop) == ("a3.zjj", 1)
    finally:
        await store.aclose()

    again = _replay(sla_worker, "--stage", "sla")
    assert (again["selected"], again["sent"], again["already_replayed"]) == (0, 0, 1)
    # the replayed assignment was not dead-lettered a second time
    after = await wait_for(sla_worker.bootstrap, sla_worker.topic("deadletter"), lambda rs: True)
    assert len(calendar_letters(after)) == 1
