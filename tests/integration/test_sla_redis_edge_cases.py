"""The SLA store against a real Redis at its edges: names, lost data, long ticks, odd ids.

Each test keeps its keys under its own prefix and deletes them afterwards; "Redis lost
its data" is played by deleting every key under that prefix (the shared Redis is never
flushed). "Now" is passed explicitly, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import pytest
import pytest_asyncio

import sla.alerts
from models.case_event import CaseEvent
from sla.alerts import AlertScanner, scan_due
from sla.events import AssignmentIn, OutcomeKind, Reason
from sla.queries import late_cases, remaining
from sla.redis_store import SlaStore
from tests.integration import test_sla_redis as base
from tests.integration.test_sla_redis import SETTINGS, at, dt

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

DISTRICT, CATEGORY = "A市A3区", "城乡建设/物业管理/物业服务"
engine, store = base.engine, base.store  # the same fixtures: settings, engine, own prefix


@pytest_asyncio.fixture(loop_scope="session")
async def twin(store: SlaStore, redis_url: str):
    """Another process's store (own connection, own name caches) on the same keys."""
    st = SlaStore.from_url(redis_url, engine=store.engine, settings=SETTINGS, prefix=store.prefix)
    yield st
    await st.aclose()


_n = itertools.count(1)


def ev(kind: str, t: int, aid: str = "A1", dept: str | None = "zjj", **kw) -> CaseEvent:
    return CaseEvent(
        event_id=f"x{next(_n)}", appeal_id=aid, kind=kind, occurred_at=dt(t), department=dept, **kw
    )


def assignment(t: int, aid: str = "A1", dept: str = "zjj", hop: int = 1, **kw) -> AssignmentIn:
    return AssignmentIn(
        appeal_id=aid,
        assignment_id=f"{aid}-{hop}",
        hop=hop,
        department=dept,
        assigned_at=dt(t),
        district=kw.pop("district", DISTRICT),
        category=kw.pop("category", CATEGORY),
        **kw,
    )


async def lose_everything(store: SlaStore) -> None:
    """Redis restarted without its data (no persistence, or the AOF's last second lost):
    every key is gone, while the workers keep running with what they cached."""
    keys = await store.keys()
    assert keys
    await store.r.delete(*keys)


# -- bugs -------------------------------------------------------------------------------


async def test_names_ending_with_a_colon_are_interned_like_any_other(store: SlaStore) -> None:
    """A name ending in ':' was taken for an empty one ('di:' …) and left out of the
    interning: KeyError out of apply_batch, which crashed the agent and lost its batch.
    A reassign's target department is whatever the department system sent."""
    t0 = at(2025, 3, 3, 9)
    out = await store.apply_batch([assignment(t0, district="A市:", category="其他:")])
    assert out[0].applied
    out = await store.apply_event(ev("reassign", t0 + 600, dept=None, target_department="a3.gxj:"))
    assert out.applied
    s = await store.load("A1")
    assert (s.department, s.district, s.category) == ("a3.gxj:", "A市:", "其他:")
    assert await store.department_cases("a3.gxj:") == ["A1"]
    assert await store.department_cases("zjj") == []


async def test_workers_running_through_a_redis_data_loss_keep_names_straight(
    store: SlaStore, twin: SlaStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Two workers interned names (and cached the codes); Redis comes back empty. The
    second one interns new names first, from code 1 again. The first one wrote its next
    case with its cached codes, which now meant the second one's names, or none: the case
    read back with another name as department, district, category or policy (its events
    then rejected: WRONG_DEPARTMENT, UNKNOWN_POLICY), was missing from zjj's open cases,
    and a worker with names cached before the loss sent its alerts with a wrong
    department. Those alert ids then count as sent: a rebuild does not send them again."""
    t0 = at(2025, 3, 3, 9)
    assert (await store.apply_batch([assignment(t0, aid="X0")]))[0].applied
    assert (await twin.apply_batch([assignment(t0, aid="Y0", dept="gxj")]))[0].applied
    scanner = SlaStore(store.r, engine=store.engine, settings=SETTINGS, prefix=store.prefix)
    assert len(await scanner.load_many(["X0", "Y0"])) == 2  # a third worker, names cached
    await lose_everything(store)

    gxj = assignment(t0, aid="Y1", dept="gxj", district="A市A1区", category="交通/道路")
    assert (await twin.apply_batch([gxj]))[0].applied
    assert (await store.apply_batch([assignment(t0, aid="X1")]))[0].applied
    assert "Redis lost data?" in caplog.text  # the operator learns it: time to rebuild

    fresh = SlaStore(store.r, engine=store.engine, settings=SETTINGS, prefix=store.prefix)
    for st in (fresh, store, twin):  # a new process, and both workers
        x1, y1 = (await st.load_many(["X1", "Y1"])).values()
        assert (x1.department, x1.district, x1.category, x1.policy) == (
            "zjj", DISTRICT, CATEGORY, "general"
        )  # fmt: skip
        assert (y1.department, y1.district, y1.category) == ("gxj", "A市A1区", "交通/道路")
    assert await fresh.department_cases("zjj") == ["X1"]
    assert await fresh.department_cases("gxj") == ["Y1"]
    # the first worker acts on the second one's case as it is: no WRONG_DEPARTMENT
    assert (await store.apply_event(ev("accept", t0 + 60, aid="Y1", dept="gxj"))).applied
    assert (await twin.apply_event(ev("accept", t0 + 60, aid="X1", dept="zjj"))).applied
    # the third worker, which only scans meanwhile, names the right departments
    alerts = await scan_due(scanner, at(2025, 3, 5, 15))  # Wed: half of the 5 working days
    assert {(a.alert_id, a.department) for a in alerts} == {
        (f"{aid}/{clock}/warn50", dept)
        for aid, dept in (("X1", "zjj"), ("Y1", "gxj"))
        for clock in ("c1", "h1")
    }


async def test_a_long_tick_leases_each_batch_when_it_is_claimed(
    store: SlaStore, twin: SlaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick claims batch after batch with one ``now``, and each batch's alerts were
    leased from that instant, however long the earlier batches took to publish. After a
    backlog (an outage, or the thousands of thresholds that fall due at 09:00) another
    worker's tick found them past the lease while they were still being published, and
    published them again: duplicates from healthy workers, not only after a crash."""
    t0 = at(2025, 3, 3, 9)
    await store.apply_batch([assignment(t0 + i, aid=f"L{i}") for i in range(3)])
    now = at(2025, 3, 3, 17)  # the four sign-for thresholds of each case are due
    clock = [1000.0]
    monkeypatch.setattr(sla.alerts, "_monotonic", lambda: clock[0], raising=False)
    published: list[str] = []

    async def fast_publish(alert) -> None:
        published.append(alert.alert_id)

    other = AlertScanner(twin, fast_publish, lease=60)

    async def slow_publish(alert) -> None:
        published.append(alert.alert_id)
        clock[0] += 10  # 10 s per alert: 40 s per case, within the 60 s lease
        if len(published) == 7:  # the second case is half published, 70 s into the tick
            await other.tick(now + 70)

    await AlertScanner(store, slow_publish, batch=1, lease=60).tick(now)
    assert len(published) == 12
    assert Counter(published).most_common(1)[0][1] == 1  # nothing published twice
    assert await store.r.zcard(store.inflight_key) == 0


async def test_ids_the_store_cannot_hold_read_as_unknown(store: SlaStore) -> None:
    """Reads framed the ids with newlines: an empty id raised struct.error (``hotline sla
    remaining ''`` crashed), and 'A1\\nB1' read as case A1 under that name."""
    t0 = at(2025, 3, 3, 9)
    await store.apply_batch([assignment(t0, aid="A1"), assignment(t0, aid="B1")])
    assert await store.load("") is None
    assert await store.load("A1\nB1") is None
    assert await remaining(store, "A1\nB1", t0) is None
    got = await store.load_many(["A1", "", "A1\nB1", "B1"])
    assert sorted(got) == ["A1", "B1"]


# -- probed and found right -------------------------------------------------------------


async def test_unusual_appeal_ids_round_trip(store: SlaStore) -> None:
    t0 = at(2025, 3, 3, 9)
    ids = ["案件/2025-001", "x\x00y", "a*b?[c]\\", " sp ace\r", "😀" * 50, "a" * 200]
    assert all(o.applied for o in await store.apply_batch([assignment(t0, aid=a) for a in ids]))
    too_long = await store.apply_batch([assignment(t0, aid="a" * 201)])
    assert too_long[0].reason is Reason.INVALID
    assert sorted(await store.load_many(ids)) == sorted(ids)
    alerts = await scan_due(store, at(2025, 3, 3, 10))
    assert sorted(a.alert_id for a in alerts) == sorted(f"{a}/s1/warn50" for a in ids)
    assert sorted(await store.department_cases("zjj")) == sorted(ids)
    dump = await store.dump()
    assert sorted(dump["cases"]) == sorted(ids)


async def test_many_writers_on_one_case_keep_one_consistent_state(
    store: SlaStore, redis_url: str
) -> None:
    """Compare-and-set: whatever interleaving, each applied reassign counts once and the
    department index holds the case under the last department only. A writer that keeps
    losing gives up with ConcurrencyError (its records are not applied), never half-writes.
    """
    await store.apply_batch([assignment(at(2025, 3, 3, 9))])
    writers = [
        SlaStore.from_url(redis_url, engine=store.engine, settings=SETTINGS, prefix=store.prefix)
        for _ in range(6)
    ]
    try:
        t = at(2025, 3, 3, 10)
        outs = await asyncio.gather(
            *(
                w.apply_event(ev("reassign", t, dept=None, target_department=f"d{i}"))
                for i, w in enumerate(writers)
            ),
            return_exceptions=True,
        )
    finally:
        for w in writers:
            await w.aclose()
    applied = [o for o in outs if not isinstance(o, BaseException)]
    assert all(o.applied for o in applied)
    s = await store.load("A1")
    assert s.version == 1 + len(applied) and s.hop == 1 + len(applied)
    holders = {f"d{i}": await store.department_cases(f"d{i}") for i in range(6)}
    assert {d: v for d, v in holders.items() if v} == {s.department: ["A1"]}


async def test_asking_about_a_later_time_finds_cases_the_timer_has_not_marked(
    store: SlaStore,
) -> None:
    # bug: `hotline sla overdue --now LATER` without --department answered 0 cases: it
    # only looked at cases the timer had already marked late
    t0 = at(2025, 3, 3, 9)
    await store.apply_batch([assignment(t0)])
    later = at(2025, 3, 4, 12)  # past every threshold; no scan has run
    for kw in ({"district": DISTRICT}, {"category": CATEGORY}, {}, {"department": "zjj"}):
        assert [v.appeal_id for v in await late_cases(store, later, **kw)] == ["A1"], kw
    assert await late_cases(store, t0 + 60, include_near=True) == []  # nothing due yet
    assert await late_cases(store, later, district="A市A9区") == []


async def test_reassigned_closed_and_expired_cases_in_the_queries(store: SlaStore) -> None:
    t0 = at(2025, 3, 3, 9)
    await store.apply_batch([assignment(t0)])
    claimed = await scan_due(store, at(2025, 3, 3, 11))  # the worker dies before publishing
    assert [a.alert_id for a in claimed] == ["A1/s1/warn50", "A1/s1/warn80", "A1/s1/overdue"]
    out = await store.apply_event(ev("reassign", t0 + 7300, dept=None, target_department="gxj"))
    assert out.applied
    later = at(2025, 3, 4, 12)
    for kw in ({"department": "gxj"}, {"district": DISTRICT}, {"category": CATEGORY}, {}):
        assert [v.appeal_id for v in await late_cases(store, later, **kw)] == ["A1"], kw
    assert await late_cases(store, later, department="zjj") == []
    assert (await store.apply_event(ev("accept", t0 + 7400, dept="gxj"))).applied
    assert (await store.apply_event(ev("close", t0 + 7500, dept=None))).applied
    # the claim made before the close is still sent, under its own id and department
    again = await store.redeliver(at(2025, 3, 3, 11) + 60, lease=60)
    assert sorted((a.alert_id, a.department) for a in again) == sorted(
        (a.alert_id, "zjj") for a in claimed
    )
    for kw in ({"department": "gxj"}, {"district": DISTRICT}, {}):
        assert await late_cases(store, later, include_near=True, **kw) == []
    assert 0 < await store.r.ttl(store.case_key("A1")) <= SETTINGS.closed_ttl
    await store.r.delete(store.case_key("A1"))  # the closed case expires
    assert await remaining(store, "A1", later) is None
    dump = await store.dump()
    assert (dump["cases"], dump["due"], dump["departments"], dump["late"]) == ({}, {}, {}, {})
    out = await store.apply_event(ev("reopen", later, dept="zjj"))
    assert (out.kind, out.reason) == (OutcomeKind.REJECTED, Reason.UNKNOWN_CASE)


async def test_small_batches_claim_every_due_threshold_once(
    store: SlaStore, twin: SlaStore
) -> None:
    """Scans in batches far smaller than the backlog, by two scanners at once: every
    threshold claimed exactly once, none skipped, and the loop ends."""
    t0 = at(2025, 3, 3, 9)
    await store.apply_batch([assignment(t0 + i, aid=f"M{i:04d}") for i in range(1200)])
    got = await asyncio.gather(
        scan_due(store, at(2025, 3, 3, 17), limit=7), scan_due(twin, at(2025, 3, 3, 17), limit=7)
    )
    ids = [a.alert_id for alerts in got for a in alerts]
    assert len(ids) == len(set(ids)) == 4 * 1200
    assert await store.r.zcount(store.due_key, "-inf", at(2025, 3, 3, 17)) == 0


async def test_only_working_time_alerts_are_provisional_in_an_undeclared_year(
    store: SlaStore,
) -> None:
    # declaring the year moves working-time deadlines; a 2-hour emergency deadline stays
    year = store.engine.wt.calendar.declared_last_day.year + 1
    start = at(year, 1, 5, 10)  # in the provisional year
    assert store.engine.wt.calendar.is_provisional(dt(start).date())
    applied = await store.apply_batch(
        [
            assignment(start, aid="P-emergency", urgency="emergency"),
            assignment(start, aid="P-general"),
        ]
    )
    assert all(o.applied for o in applied)
    _, alerts = await store.claim_due(at(year, 3, 1, 10))
    by_case: dict[str, set[bool]] = {}
    for a in alerts:
        by_case.setdefault(a.appeal_id, set()).add(a.provisional)
    assert by_case == {"P-emergency": {False}, "P-general": {True}}
    await store.ack([a.alert_id for a in alerts])
