"""``hotline deadletter replay`` through the real broker, worker and Redis.

The case the command exists for: an assignment whose time limits pass the end of the
working-day calendar is dead-lettered; once the next year is declared, replaying it gives
the case its clocks, and a second replay sends nothing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from config.stack import PROJECT_ROOT
from models.dead_letter import DeadLetter
from sla.calendar import WorkdayCalendar, load_overrides
from stack.topic_admin import ensure_topics_sync
from tests.integration.raw_records import assignment_json
from tests.integration.worker_process import WorkerProcess, publish, sla_store, wait_for

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
    asyncio.run(proc.delete_topics())


def _replay(worker: WorkerProcess, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "deadletter", "replay", "-q", *args],
        cwd=PROJECT_ROOT, env=worker.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


async def test_replaying_calendar_range_letters_after_declaring_the_year_starts_their_clocks(
    sla_worker, redis_url
):
    calendar_file = sla_worker.env["HOTLINE_SLA_CALENDAR_OVERRIDES"]
    last = WorkdayCalendar(load_overrides(calendar_file)).last_day
    aid = "SLA-replay-1"
    assignment = assignment_json(aid, "a3.zjj", datetime(last.year, 12, 30, 10, 0, tzinfo=TZ))
    broken_event = b'{"event_id": "E-1", "appeal_id": '  # BAD_JSON: never worth a replay
    await publish(sla_worker.bootstrap, sla_worker.topic("assignments.all"), [assignment])
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

    # the operator declares the next year, restarts the worker and replays
    sla_worker.stop()
    with open(calendar_file, "w", encoding="utf-8") as fh:
        fh.write(f"known_years = [{last.year}, {last.year + 1}]\n")
    sla_worker.start()
    dry = _replay(sla_worker, "--stage", "sla", "--dry-run")
    assert (dry["selected"], dry["input_errors"], dry["sent"]) == (1, 1, 0)

    first = _replay(sla_worker, "--stage", "sla")
    assert (first["selected"], first["sent"], first["input_errors"]) == (1, 1, 1)
    store = sla_store(sla_worker, redis_url)
    try:
        deadline = asyncio.get_running_loop().time() + 40
        while (state := await store.load(aid)) is None:
            assert asyncio.get_running_loop().time() < deadline, "no clocks after the replay"
            await asyncio.sleep(0.3)
        assert (state.department, state.hop) == ("a3.zjj", 1)
    finally:
        await store.aclose()

    again = _replay(sla_worker, "--stage", "sla")
    assert (again["selected"], again["sent"], again["already_replayed"]) == (0, 0, 1)
    # the replayed assignment was not dead-lettered a second time
    after = await wait_for(sla_worker.bootstrap, sla_worker.topic("deadletter"), lambda rs: True)
    assert len(calendar_letters(after)) == 1
