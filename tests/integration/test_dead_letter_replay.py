"""``hotline deadletter replay`` through the real broker, worker and Redis.

The case the command exists for: an assignment whose time limits pass the end of the
working-day calendar (its provisional year included) is dead-lettered; once the year is
declared, replaying it gives the case its clocks, and a second replay sends nothing. And
one case's events, dead-lettered onto different dead-letter partitions, go back in the
order they came.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from config.stack import PROJECT_ROOT
from models.case_event import CaseEvent
from models.dead_letter import DeadLetter
from sla.clocks import CaseStatus
from sla.statutory_holidays import statutory_days_off
from stack.topic_admin import ensure_topics_sync
from tests.integration.raw_records import assignment_json
from tests.integration.worker_process import (
    WorkerProcess,
    publish,
    read_all,
    sla_store,
    wait_for,
    worker_calendar,
)
from tests.working_days import eve_crossing, nth_working_day, weekdays_except

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sla_worker(kafka_bootstrap, redis_url, tmp_path):
    # case events wait 3 s (not 10 min) for their case before they are dead-lettered
    env = {"HOTLINE_WORKER_STAGES": "sla", "HOTLINE_SLA_EARLY_EVENT_WAIT": "3",
           "HOTLINE_SLA_TIMER_INTERVAL": "1"}  # fmt: skip
    proc = WorkerProcess(kafka_bootstrap, redis_url, tmp_path, extra_env=env)
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


def _dead_letter_partition(key: str) -> int:
    """The partition of the (4-partition) dead-letter topic a letter keyed ``key`` goes to."""
    everyone = [0, 1, 2, 3]
    return DefaultPartitioner()(key.encode(), everyone, everyone)


async def test_one_cases_events_go_back_in_their_order_and_close_the_case(sla_worker, redis_url):
    """accept, reply and close of a case not assigned yet wait for it, then are dead-
    lettered, each keyed by its source position: on different dead-letter partitions, read
    one after the other. Sent back in that order (close first), the SLA stage rejected
    close and reply as not signed for and the case stayed open after the replay."""
    aid = "SLA-replay-order-1"
    events_topic = sla_worker.topic("cases.events")

    # a partition of cases.events, and how many BAD_JSON records go first on it, that put
    # the close's letter on a dead-letter partition read before the accept's
    def misordered(partition: int, offset: int) -> bool:
        parts = [
            _dead_letter_partition(f"{events_topic}/{partition}/{offset + i}") for i in range(3)
        ]
        return parts != sorted(parts) and parts[2] < parts[0]

    partition, filler = next(
        (p, n) for n in range(20) for p in range(4) if misordered(p, n)
    )  # fmt: skip
    now = datetime.now(TZ)
    events = [
        orjson.dumps({"event_id": f"{aid}/{i}", "appeal_id": aid, "kind": kind,
                      "occurred_at": (now - timedelta(minutes=50 - 10 * i)).isoformat(), **more})
        for i, (kind, more) in enumerate([
            ("accept", {"department": "a3.zjj"}), ("reply", {"department": "a3.zjj"}),
            ("close", {"actor": "中心"}),
        ])
    ]  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=sla_worker.bootstrap, acks="all")
    await producer.start()
    try:
        for value in [b"not json"] * filler + events:
            await producer.send_and_wait(events_topic, value, key=aid.encode(), partition=partition)
    finally:
        await producer.stop()

    def case_letters(records) -> list:
        return [
            r for r in records
            if DeadLetter.loads(r.value).error_code == "SLA_UNKNOWN_CASE"
            and CaseEvent.loads(base64.b64decode(DeadLetter.loads(r.value).payload_b64)).appeal_id == aid
        ]  # fmt: skip

    dead = await wait_for(
        sla_worker.bootstrap, sla_worker.topic("deadletter"), lambda rs: len(case_letters(rs)) == 3
    )
    as_read = sorted(case_letters(dead), key=lambda r: (r.partition, r.offset))
    kinds = [CaseEvent.loads(base64.b64decode(DeadLetter.loads(r.value).payload_b64)).kind
             for r in as_read]  # fmt: skip
    assert kinds != ["accept", "reply", "close"] and kinds.index("close") < kinds.index("accept")

    # the case's assignment comes; the operator replays the events
    start = now - timedelta(hours=1)
    await publish(sla_worker.bootstrap, sla_worker.topic("assignments.all"),
                  [assignment_json(aid, "a3.zjj", start)])  # fmt: skip
    store = sla_store(sla_worker, redis_url)
    try:
        await _wait_for_case(store, aid)
        sent = _replay(sla_worker, "--code", "SLA_UNKNOWN_CASE")
        assert (sent["selected"], sent["sent"]) == (3, 3)

        def replayed(records) -> list[str]:  # the events sent back, as they arrived
            back = [r for r in records if not (r.partition == partition and r.offset < filler + 3)]
            return [CaseEvent.loads(r.value).kind
                    for r in sorted(back, key=lambda r: (r.partition, r.offset))]  # fmt: skip

        arrived = await wait_for(
            sla_worker.bootstrap, events_topic, lambda rs: len(replayed(rs)) == 3
        )
        assert replayed(arrived) == ["accept", "reply", "close"]
        deadline = asyncio.get_running_loop().time() + 30
        while (state := await store.load(aid)).status != CaseStatus.CLOSED:
            rejected = [DeadLetter.loads(r.value).error_code
                        for r in await read_all(sla_worker.bootstrap, sla_worker.topic("deadletter"), 500)
                        if DeadLetter.loads(r.value).error_code.startswith("SLA_NOT")]  # fmt: skip
            assert asyncio.get_running_loop().time() < deadline, (state.status, rejected)
            await asyncio.sleep(0.3)
    finally:
        await store.aclose()
