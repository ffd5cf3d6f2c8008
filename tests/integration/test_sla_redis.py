"""The SLA engine against a real Redis: alerts exactly once, hops, pauses, extensions, rebuild.

"Now" is always passed explicitly, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from cli.sla import app as sla_cli
from config.sla import DEFAULTS, SlaSettings
from models.case_event import CaseEvent
from sla.alerts import AlertScanner, scan_due
from sla.events import AssignmentIn, OutcomeKind, Reason, SlaEngine
from sla.queries import late_cases, remaining
from sla.rebuild import rebuild
from sla.redis_store import SlaStore
from sla.working_time import working_time_for

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

TZ = ZoneInfo("Asia/Shanghai")
SETTINGS = SlaSettings(
    warn_first=0.5, warn_second=0.8, escalate_overrun=0.25, scan_batch=500, alert_lease=60
)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=TZ).timestamp())


def dt(t: int) -> datetime:
    return datetime.fromtimestamp(t, TZ)


@pytest.fixture(scope="session")
def engine() -> SlaEngine:
    return SlaEngine.from_settings(SETTINGS)


@pytest_asyncio.fixture(loop_scope="session")
async def store(redis_url: str, unique_prefix: str, engine: SlaEngine):
    st = SlaStore.from_url(redis_url, engine=engine, settings=SETTINGS, prefix=unique_prefix + ":")
    yield st
    await st.wipe()
    await st.aclose()


_n = iter(range(1, 10**9))


def ev(kind: str, t: int, aid: str = "A1", dept: str | None = "zjj", **kw) -> CaseEvent:
    return CaseEvent(
        event_id=kw.pop("event_id", f"e{next(_n)}"),
        appeal_id=aid,
        kind=kind,
        occurred_at=dt(t),
        department=dept,
        **kw,
    )


def assignment(t: int, aid: str = "A1", dept: str = "zjj", hop: int = 1, **kw) -> AssignmentIn:
    return AssignmentIn(
        appeal_id=aid,
        assignment_id=kw.pop("assignment_id", f"{aid}-{hop}"),
        hop=hop,
        department=dept,
        assigned_at=dt(t),
        district=kw.pop("district", "A市A3区"),
        category=kw.pop("category", "城乡建设/物业管理/物业服务"),
        **kw,
    )


async def assign(store: SlaStore, t: int, aid: str = "A1", dept: str = "zjj", hop: int = 1):
    return await store.apply_assignment(
        appeal_id=aid,
        assignment_id=f"{aid}-{hop}",
        hop=hop,
        department=dept,
        assigned_at=dt(t),
        district="A市A3区",
        category="城乡建设/物业管理/物业服务",
    )


async def test_no_sign_for_warns_then_overdue_exactly_once(
    store: SlaStore, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = at(2025, 3, 3, 16)  # Monday 16:00; sign-for 2 working hours → Tue 09:30
    assert (await assign(store, t0)).applied
    assert await store.r.object("encoding", store.case_key("A1")) == b"listpack"
    assert await scan_due(store, at(2025, 3, 3, 16, 59)) == []
    steps = [
        (at(2025, 3, 3, 17), ["A1/s1/warn50"]),
        (at(2025, 3, 3, 17), []),  # same instant again: nothing new
        (at(2025, 3, 4, 9, 5), []),
        (at(2025, 3, 4, 9, 6), ["A1/s1/warn80"]),  # 1.6 h: 1.5 h Mon + 6 min Tue
        (at(2025, 3, 4, 9, 29), []),
        (at(2025, 3, 4, 9, 30), ["A1/s1/overdue"]),
        (at(2025, 3, 4, 9, 35), []),
    ]
    for now, expected in steps:
        alerts = await scan_due(store, now)
        assert [a.alert_id for a in alerts] == expected, dt(now)
        for a in alerts:
            assert (a.appeal_id, a.clock, a.department) == ("A1", "sign_for", "zjj")
            assert a.due_at == dt(at(2025, 3, 4, 9, 30))
            assert a.raised_at == dt(now)
        await store.ack(a.alert_id for a in alerts)
    assert await store.r.zcard(store.inflight_key) == 0
    # a restarted worker scanning the past again finds nothing more to raise
    assert await scan_due(store, at(2025, 3, 4, 9, 40)) == []
    escalate = await scan_due(store, at(2025, 3, 4, 10))  # 125 % = 2.5 h
    assert [a.alert_id for a in escalate] == ["A1/s1/escalate"]
    # overdue cases show up by department, district and category
    now = at(2025, 3, 4, 10)
    for kw in (
        {"department": "zjj"},
        {"district": "A市A3区"},
        {"category": "城乡建设/物业管理/物业服务"},
        {},
    ):
        views = await late_cases(store, now, **kw)
        assert [v.appeal_id for v in views] == ["A1"], kw
        assert views[0].level == "escalated"
    assert await late_cases(store, now, department="sjj") == []
    assert await late_cases(store, now, district="A市A9区") == []
    # and through the operators' CLI (in a thread: the CLI starts its own event loop)
    common = ["--redis-url", redis_url, "--prefix", store.prefix, "--now", "2025-03-04T10:00"]
    common.append("--json")
    invoke = CliRunner().invoke
    res = await asyncio.to_thread(invoke, sla_cli, ["overdue", "--district", "A市A3区", *common])
    assert res.exit_code == 0, res.output
    assert [c["appeal_id"] for c in json.loads(res.stdout)["cases"]] == ["A1"]
    res = await asyncio.to_thread(invoke, sla_cli, ["remaining", "A1", *common])
    clocks = {c["kind"]: c for c in json.loads(res.stdout)["clocks"]}
    assert clocks["sign_for"]["remaining"] == -1800
    assert clocks["sign_for"]["level"] == "escalated"
    assert clocks["case"]["level"] == "ok"
    # without --prefix: the worker's keys, its run prefix ($HOTLINE_TOPIC_PREFIX) first
    monkeypatch.setenv("HOTLINE_TOPIC_PREFIX", store.prefix[:-1])
    monkeypatch.setenv("HOTLINE_SLA_REDIS_PREFIX", store.prefix[-1:])
    args = ["overdue", "--redis-url", redis_url, "--now", "2025-03-04T10:00", "--json"]
    res = await asyncio.to_thread(invoke, sla_cli, args)
    assert res.exit_code == 0, res.output
    assert [c["appeal_id"] for c in json.loads(res.stdout)["cases"]] == ["A1"]
    assert "calendar" not in res.stderr
    # near the declared calendar's end the supervisor is told that deadlines after it are
    # provisional
    end = working_time_for(DEFAULTS).calendar.declared_last_day
    args[args.index("--now") + 1] = f"{end - timedelta(days=20)}T10:00"
    res = await asyncio.to_thread(invoke, sla_cli, args)
    assert res.exit_code == 0, res.output
    assert f"warning: the working-day calendar's declared years end {end} (in 20" in res.stderr
    assert "provisional" in res.stderr
    assert json.loads(res.stdout)["count"] >= 1  # stdout stays the JSON alone


async def test_return_and_reassign_move_the_hop_clock(store: SlaStore) -> None:
    t0 = at(2025, 3, 3, 9)
    await assign(store, t0, dept="zjj")
    out = await store.apply_event(ev("return", at(2025, 3, 3, 10), dept="zjj"))
    assert out.applied
    assert await store.department_cases("zjj") == []
    assert (await assign(store, at(2025, 3, 3, 11), dept="sjj", hop=2)).applied
    assert await store.department_cases("sjj") == ["A1"]
    # zjj's sign-for clock is gone: its thresholds (10:00, 10:36, 11:00) raise nothing
    alerts = await scan_due(store, at(2025, 3, 3, 12))
    assert [a.alert_id for a in alerts] == ["A1/s2/warn50"]  # sjj: 1 h after 11:00
    assert alerts[0].department == "sjj"
    # the case clock runs on from 09:00 Monday: 5 wd → Friday 17:30
    view = await remaining(store, "A1", at(2025, 3, 3, 12))
    case = next(c for c in view.clocks if c.kind == "case")
    assert case.due_at == at(2025, 3, 7, 17, 30)
    assert case.consumed == 3 * 3600
    # the centre reassigns directly (改派): hop 3 for gxj
    out = await store.apply_event(
        ev("reassign", at(2025, 3, 3, 14), dept=None, target_department="gxj")
    )
    assert out.applied
    assert await store.department_cases("sjj") == []
    assert await store.department_cases("gxj") == ["A1"]
    s = await store.load("A1")
    assert (s.hop, s.department) == (3, "gxj")
    # a late return by gxj is refused
    out = await store.apply_event(ev("return", at(2025, 3, 4, 14), dept="gxj"))
    assert (out.kind, out.reason) == (OutcomeKind.REJECTED, Reason.RETURN_WINDOW_EXPIRED)


async def test_pause_and_resume(store: SlaStore) -> None:
    await assign(store, at(2025, 3, 3, 9))
    await store.apply_event(ev("accept", at(2025, 3, 3, 9, 30)))
    assert (await store.apply_event(ev("pause", at(2025, 3, 3, 10), dept=None))).applied
    assert await store.r.zscore(store.due_key, "A1") is None  # nothing can fire
    assert await scan_due(store, at(2025, 4, 30)) == []
    assert (await store.apply_event(ev("resume", at(2025, 3, 10, 9), dept=None))).applied
    view = await remaining(store, "A1", at(2025, 3, 10, 9))
    handling = next(c for c in view.clocks if c.kind == "handling")
    assert handling.remaining == 5 * 25200 - 1800
    assert handling.due_at == at(2025, 3, 14, 17)  # 30 min used before the pause
    case = next(c for c in view.clocks if c.kind == "case")
    assert case.due_at == at(2025, 3, 14, 16, 30)  # 1 h used
    alerts = await scan_due(store, at(2025, 3, 10, 9))
    assert alerts == []  # no threshold was crossed before the pause


async def test_approved_extension_moves_the_deadline(store: SlaStore) -> None:
    await assign(store, at(2025, 3, 3, 9))
    await store.apply_event(ev("accept", at(2025, 3, 3, 9)))
    req = await store.apply_event(ev("extend_request", at(2025, 3, 5, 9), extension_days=3))
    assert req.applied
    s = await store.load("A1")
    assert s.hop_clock.due_at(store.engine.tb) == at(2025, 3, 7, 17, 30)  # not yet
    assert (await store.apply_event(ev("extend_approve", at(2025, 3, 6, 9), dept=None))).applied
    s = await store.load("A1")
    assert s.hop_clock.due_at(store.engine.tb) == at(2025, 3, 12, 17, 30)
    alerts = await scan_due(store, at(2025, 3, 7, 17, 30))
    assert not {a.alert_id for a in alerts if a.threshold == "overdue"}
    # the extended deadline is a new one: its clocks' ids say so (x1: one extension)
    alerts = await scan_due(store, at(2025, 3, 12, 17, 30))
    assert {"A1/h1x1/overdue", "A1/c1x1/overdue"} <= {a.alert_id for a in alerts}
    over = await store.apply_event(ev("extend_request", at(2025, 3, 13, 9), extension_days=2))
    assert over.reason is Reason.EXTENSION_LIMIT


async def test_an_extension_approved_after_the_deadline_gets_its_own_alerts(
    store: SlaStore,
) -> None:
    await assign(store, at(2025, 3, 3, 9))
    await store.apply_event(ev("accept", at(2025, 3, 3, 9)))
    assert (
        await store.apply_event(ev("extend_request", at(2025, 3, 7, 9), extension_days=5))
    ).applied
    # the centre approves only after the deadline (Monday 10 09:00): the red card went out
    first = await scan_due(store, at(2025, 3, 10, 9))
    assert "A1/h1/overdue" in {a.alert_id for a in first}
    assert (await store.apply_event(ev("extend_approve", at(2025, 3, 10, 10), dept=None))).applied
    # thresholds already behind the approval stay fired: no repeated warnings at once
    assert await scan_due(store, at(2025, 3, 10, 10)) == []
    # the extended deadline (5 more working days: Monday 17 09:00) missed as well: a red
    # card of its own id, which consumers would otherwise drop as the first one's repeat
    later = await scan_due(store, at(2025, 3, 17, 9))
    ids = {a.alert_id for a in later}
    assert {"A1/h1x1/warn80", "A1/h1x1/overdue"} <= ids, ids
    assert all(a.threshold != "warn50" for a in later)  # 50 % was behind at approval
    view = await remaining(store, "A1", at(2025, 3, 17, 9))
    assert {c.clock_id for c in view.clocks} == {"c1x1", "h1x1"}


async def test_bad_input_outcomes_leave_state_alone(store: SlaStore) -> None:
    out = await store.apply_event(ev("accept", at(2025, 3, 3, 9), aid="nope"))
    assert out.reason is Reason.UNKNOWN_CASE
    out = await store.apply_event(ev("accept", at(2025, 3, 3, 9), aid="bad\nid"))
    assert out.reason is Reason.INVALID
    assert not await store.r.exists(store.case_key("nope"))
    await assign(store, at(2025, 3, 3, 9))
    before = await store.r.hgetall(store.case_key("A1"))
    assert before
    out = await store.apply_event(ev("close", at(2025, 3, 3, 10), dept=None))
    assert out.reason is Reason.NOT_SIGNED_FOR
    e = ev("accept", at(2025, 3, 3, 10))
    assert (await store.apply_event(e)).applied
    after = await store.r.hgetall(store.case_key("A1"))
    assert (await store.apply_event(e)).kind is OutcomeKind.DUPLICATE
    assert await store.r.hgetall(store.case_key("A1")) == after != before
    out = await store.apply_event(ev("reply", at(2025, 3, 3, 9, 30)))
    assert out.reason is Reason.OUT_OF_ORDER
    assert (await store.apply_event(ev("reply", at(2025, 3, 4, 10)))).applied
    assert (await store.apply_event(ev("close", at(2025, 3, 5, 10), dept=None))).applied
    assert await store.r.ttl(store.case_key("A1")) > 0
    assert await store.r.zscore(store.due_key, "A1") is None
    assert await store.department_cases("zjj") == []


async def test_concurrent_writers_on_one_case(store: SlaStore, redis_url: str) -> None:
    other = SlaStore.from_url(
        redis_url, engine=store.engine, settings=SETTINGS, prefix=store.prefix
    )
    try:
        await assign(store, at(2025, 3, 3, 9))
        t = at(2025, 3, 3, 10)
        outs = await asyncio.gather(
            store.apply_event(ev("accept", t)),
            other.apply_event(ev("pause", t, dept=None)),
        )
        assert all(o.applied for o in outs)
        s = await store.load("A1")
        assert s.version == 3 and s.phase.name == "HANDLING" and s.status.name == "PAUSED"
    finally:
        await other.aclose()


async def test_two_concurrent_scanners_never_duplicate(store: SlaStore, redis_url: str) -> None:
    t0 = at(2025, 3, 3, 9)
    recs = [assignment(t0 + i, aid=f"B{i:05d}") for i in range(3000)]
    outs = await store.apply_batch(recs)
    assert all(o.applied for o in outs)
    published: list[str] = []

    async def publish(alert) -> None:
        published.append(alert.alert_id)
        await asyncio.sleep(0)

    other = SlaStore.from_url(
        redis_url, engine=store.engine, settings=SETTINGS, prefix=store.prefix
    )
    try:
        scanners = [AlertScanner(st, publish, batch=100) for st in (store, other, store, other)]
        now = at(2025, 3, 3, 17)  # the four sign-for thresholds of every case are due
        await asyncio.gather(*(s.tick(now) for s in scanners))
        assert len(published) == len(set(published)) == 4 * 3000
        assert await store.r.zcard(store.inflight_key) == 0
        assert await store.r.hlen(store.alerts_key) == 0
    finally:
        await other.aclose()


async def test_unacked_alerts_are_redelivered_after_the_lease(store: SlaStore) -> None:
    await assign(store, at(2025, 3, 3, 9))
    now = at(2025, 3, 3, 10)
    claimed = await scan_due(store, now)  # the worker "dies" before publishing
    assert [a.alert_id for a in claimed] == ["A1/s1/warn50"]
    assert await store.redeliver(now + 59, lease=60) == []
    again = await store.redeliver(now + 60, lease=60)
    assert again == claimed  # same id, same payload: consumers dedupe
    assert await store.redeliver(now + 61, lease=60) == []  # leased anew
    seen = []

    async def publish(a):
        seen.append(a.alert_id)

    report = await AlertScanner(store, publish, lease=60).tick(now + 200)
    assert (report.redelivered, seen) == (1, ["A1/s1/warn50"])
    assert await store.redeliver(now + 10_000, lease=60) == []


async def test_failed_publish_stays_in_flight(store: SlaStore) -> None:
    await assign(store, at(2025, 3, 3, 9))

    async def broken(alert):
        raise ConnectionError("kafka down")

    report = await AlertScanner(store, broken).tick(at(2025, 3, 3, 10))
    assert (report.claimed, report.failed, report.published) == (1, 1, 0)
    assert await store.r.zcard(store.inflight_key) == 1


async def test_published_alerts_are_acknowledged_in_chunks_and_a_failed_ack_is_retried_alone(
    store: SlaStore,
) -> None:
    # bug: the ack of a whole claim batch ran once, after publishing all of it; when it
    # failed (Redis down or full) the tick ended, and every alert of the batch stayed in
    # flight, to be published a second time after the lease
    from redis.exceptions import ConnectionError as RedisConnectionError

    from sla.alerts import ACK_EVERY
    from streams.outages import until_reachable

    t0 = at(2025, 3, 3, 9)
    await store.apply_batch([assignment(t0, f"K{i:03d}") for i in range(ACK_EVERY * 2 + 50)])
    published: list[str] = []
    chunks: list[int] = []
    failures = [RedisConnectionError("Redis went away")]

    async def publish(alert):
        published.append(alert.alert_id)

    async def flaky_ack(ids):
        if failures:
            raise failures.pop()
        chunks.append(len(ids))
        await store.ack(ids)

    async def ack(ids):
        await until_reachable("test ack", flaky_ack, ids)

    report = await AlertScanner(store, publish, ack=ack).tick(t0 + 3600)  # warn50 of each
    assert report.published == len(published) == ACK_EVERY * 2 + 50
    assert len(set(published)) == len(published)
    assert chunks == [ACK_EVERY, ACK_EVERY, 50]
    assert await store.r.zcard(store.inflight_key) == 0
    # nothing is left to publish again, even after the lease
    assert await store.redeliver(t0 + 3600 + 10_000, lease=60) == []


def _workload(n_cases: int, seed: int) -> list:
    """A realistic mixed stream of assignments and events, with duplicates and junk."""
    rng = random.Random(seed)
    per_case: list[list] = []
    depts = ["zjj", "sjj", "gxj", "hbj", "jtj"]
    for i in range(n_cases):
        aid = f"W{i:04d}"
        t = at(2025, 9, 22, 9) + rng.randrange(0, 5 * 86400)
        dept = rng.choice(depts)
        kw = {}
        r = rng.random()
        if r < 0.1:
            kw["urgency"] = "emergency"
        elif r < 0.2:
            kw["category"] = "城乡建设/城市建设和市政管理/自来水供应"
        elif r < 0.3:
            kw["tags"] = ("complex",)
        recs = [
            assignment(t, aid=aid, dept=dept, district=rng.choice(["A市A1区", "A市A3区"]), **kw)
        ]
        hop = 1

        def step(hours: float, t: int = t) -> int:
            return int(t + hours * 3600)

        script = rng.choice(
            ["sign", "return", "reassign", "pause", "extend", "close", "reopen", "bad"]
        )
        if script == "return":
            recs.append(ev("return", step(0.5), aid=aid, dept=dept))
            hop += 1
            dept = rng.choice([d for d in depts if d != dept])
            recs.append(assignment(step(1), aid=aid, dept=dept, hop=hop))
        if script == "reassign":
            dept = rng.choice([d for d in depts if d != dept])
            recs.append(ev("reassign", step(1), aid=aid, dept=None, target_department=dept))
        if script == "bad":
            recs.append(ev("close", step(0.2), aid=aid, dept=None))  # before sign-for
        accept = ev("accept", step(rng.choice([1.5, 3, 30])), aid=aid, dept=dept)
        recs.append(accept)
        if script == "bad":
            recs.append(accept)  # redelivered
            recs.append(ev("reply", step(0.1), aid=aid, dept=dept))  # out of order
        if script == "pause":
            recs.append(ev("pause", step(40), aid=aid, dept=None))
            recs.append(ev("resume", step(100), aid=aid, dept=None))
        if script == "extend":
            recs.append(ev("extend_request", step(48), aid=aid, dept=dept, extension_days=5))
            recs.append(ev("extend_approve", step(50), aid=aid, dept=None))
        if script in ("close", "reopen"):
            recs.append(ev("reply", step(60), aid=aid, dept=dept))
            recs.append(ev("close", step(70), aid=aid, dept=None))
        if script == "reopen":
            recs.append(ev("reopen", step(80), aid=aid, dept=None))
        per_case.append(recs)
    per_case.append([ev("accept", at(2025, 9, 23, 9), aid="ghost")])  # unknown case
    # interleave cases by time, each case keeping its own order (junk included), as a
    # topic partitioned by appeal id delivers them
    return list(heapq.merge(*per_case, key=_time))


def _time(rec) -> datetime:
    return rec.assigned_at if isinstance(rec, AssignmentIn) else rec.occurred_at


async def test_wipe_and_rebuild_gives_identical_state(store: SlaStore) -> None:
    records = _workload(300, seed=7)
    # live: the scanner runs before each record (as it would every few seconds) …
    kinds: dict[str, int] = {}
    for rec in records:
        t = int(_time(rec).timestamp())
        await scan_due(store, t)
        out = (await store.apply_batch([rec]))[0]
        kinds[out.kind.value] = kinds.get(out.kind.value, 0) + 1
    as_of = at(2025, 10, 20, 12)
    await scan_due(store, as_of)
    assert kinds["applied"] > 1000 and kinds["rejected"] > 50 and kinds["duplicate"] > 20
    live = await store.dump()
    for aid in live["cases"]:  # full recent-id rings included: still compact listpacks
        assert await store.r.object("encoding", store.case_key(aid)) == b"listpack"
    assert len(live["cases"]) == 300 and live["due"] and live["departments"]
    assert live["late"]["all"] and any(k.startswith("di:") for k in live["late"])
    # … then Redis is lost and everything is rebuilt from the streams
    await store.wipe()
    assert await store.keys() == []
    replayed = await rebuild(store, records, as_of)
    assert dict(replayed.outcomes) == kinds
    rebuilt = await store.dump()
    assert rebuilt == live
    # and a rebuilt state raises no old alert again
    assert await scan_due(store, as_of) == []
