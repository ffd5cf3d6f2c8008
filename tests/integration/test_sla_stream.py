"""SLA clocks through the real broker, worker and Redis: alerts, hops, pause, extension, rebuild.

A test policy file gives 举报 appeals a one-minute wall-clock sign-for limit, so warnings,
overdue and escalation happen within the test; other appeals keep the real policies.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from config.stack import PROJECT_ROOT
from models.assignment import Assignment
from models.dead_letter import DeadLetter
from models.sla_alert import SlaAlert
from sla.clocks import CaseStatus
from stack.topic_admin import ensure_topics_sync
from tests.integration.private_redis import FAST_GROUP
from tests.integration.raw_records import assignment_json
from tests.integration.worker_process import (
    WorkerProcess,
    publish,
    read_all,
    sla_store,
    wait_for,
    worker_calendar,
)

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
POLICIES = (PROJECT_ROOT / "sla" / "data" / "policies.toml").read_text(encoding="utf-8")
FAST = """
[policy.fast]
name = "测试：一分钟签收"
case = "5wd"
sign_for = "1m"
handling = "5wd"
return_window = "2wh"
max_extensions = 1
max_extension_days = 10

[[rule]]
policy = "fast"
appeal_types = ["举报"]
"""


@pytest.fixture(scope="module")
def sla_worker(kafka_bootstrap, redis_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sla")
    policy_file = folder / "policies.toml"
    # the fast rule goes first: the first matching rule picks the policy
    head, _, rules = POLICIES.partition("[[rule]]")
    policy_file.write_text(head + FAST + "\n[[rule]]" + rules, encoding="utf-8")
    # FAST_GROUP: a worker started again after a SIGKILL gets its partitions once the
    # broker gives the killed member up, 6 s later instead of faust's 60 s
    env = {"HOTLINE_SLA_POLICY_FILE": str(policy_file), "HOTLINE_SLA_TIMER_INTERVAL": "1",
           "HOTLINE_SLA_EARLY_EVENT_WAIT": "3", **FAST_GROUP}  # fmt: skip
    proc = WorkerProcess(kafka_bootstrap, redis_url, folder, extra_env=env)
    from streams.topics import SPECS

    ensure_topics_sync(kafka_bootstrap, [proc.topic(n) for n in SPECS], 4)
    proc.start()
    yield proc
    proc.stop()
    asyncio.run(proc.delete_topics_and_keys())


#: The appeal a hop-1 assignment carries, and every later hop must carry too.
APPEAL = {
    "title": "小区楼下烧烤油烟扰民", "content": "A市A3区某小区楼下烧烤店每晚油烟很大，窗户都不敢开。",
    "address": "A市A3区某小区", "channel": "hotline", "category": "环境保护",
    "subcategory": "大气污染", "district": "A市A3区", "appeal_type": "投诉",
    "contact_ref": "C-test-0001", "received_at": datetime(2026, 12, 1, 9, 30, tzinfo=TZ),
}  # fmt: skip


def _event(event_id: str, appeal_id: str, kind: str, **fields) -> bytes:
    return orjson.dumps({"event_id": event_id, "appeal_id": appeal_id, "kind": kind,
                         "occurred_at": datetime.now(TZ).isoformat(), **fields})  # fmt: skip


async def _until_escalated(worker, appeal_id: str) -> None:
    """Wait for the escalate alert of the appeal's sign-for clock (the last of the four)."""
    await wait_for(
        worker.bootstrap, worker.topic("sla.alerts"),
        lambda rs: any(SlaAlert.loads(r.value).appeal_id == appeal_id and SlaAlert.loads(r.value).threshold == "escalate"
                       for r in rs),
        timeout=40,
    )  # fmt: skip


async def _alerts(worker, appeal_id: str) -> Counter:
    records = await read_all(worker.bootstrap, worker.topic("sla.alerts"), idle_ms=800)
    return Counter(
        (a.clock, a.threshold)
        for a in (SlaAlert.loads(r.value) for r in records)
        if a.appeal_id == appeal_id
    )


async def test_unsigned_case_warns_then_goes_overdue_once_each_even_across_a_restart(
    sla_worker, redis_url
):
    aid = "SLA-alerts-1"
    start = datetime.now(TZ) - timedelta(seconds=70)  # 50 %, 80 % and 100 % of 1 minute are past
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(aid, "a3.zjj", start, "举报")],
    )
    await _until_escalated(sla_worker, aid)
    counts = await _alerts(sla_worker, aid)
    sign_for = {t: n for (c, t), n in counts.items() if c == "sign_for"}
    assert sign_for == {"warn50": 1, "warn80": 1, "overdue": 1, "escalate": 1}
    records = await read_all(sla_worker.bootstrap, sla_worker.topic("sla.alerts"), idle_ms=800)
    mine = [SlaAlert.loads(r.value) for r in records if SlaAlert.loads(r.value).appeal_id == aid]
    order = [a.threshold for a in sorted(mine, key=lambda a: a.threshold_at)]
    assert (
        order.index("warn50")
        < order.index("warn80")
        < order.index("overdue")
        < order.index("escalate")
    )

    # a hard kill and a restart neither repeats nor loses an alert
    sla_worker.stop(kill=True)
    sla_worker.start()
    await asyncio.sleep(4)  # several timer ticks
    assert await _alerts(sla_worker, aid) == counts


async def test_hops_pause_extension_and_rejected_events(sla_worker, redis_url):
    store = sla_store(sla_worker, redis_url)
    aid = "SLA-hops-1"
    events = sla_worker.topic("cases.events")
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(aid, "a3.zjj", datetime.now(TZ), **APPEAL)],
    )
    await _until(lambda: store.load(aid), lambda s: s is not None)

    await publish(
        sla_worker.bootstrap,
        events,
        [_event("e1", aid, "accept", department="a3.zjj")],
        key=aid.encode(),
    )
    await publish(
        sla_worker.bootstrap,
        events,
        [_event("e2", aid, "pause", actor="中心", reason="等待市民补充材料")],
        key=aid.encode(),
    )
    paused = await _until(lambda: store.load(aid), lambda s: s.status == CaseStatus.PAUSED)
    assert not paused.case_clock.running and not paused.hop_clock.running
    left = paused.case_clock.limit - paused.case_clock.used
    await publish(sla_worker.bootstrap, events, [_event("e3", aid, "resume")], key=aid.encode())
    await publish(sla_worker.bootstrap, events,
                  [_event("e4", aid, "reassign", target_department="a3.cgj", actor="中心", reason="职责不符")],
                  key=aid.encode())  # fmt: skip
    moved = await _until(lambda: store.load(aid), lambda s: s.hop == 2)
    assert moved.department == "a3.cgj" and moved.status == CaseStatus.OPEN
    # resumed with the time that was left: the case clock runs on across the hop
    assert moved.case_clock.running and moved.case_clock.limit - moved.case_clock.used <= left
    # the new department receives the case on its own topic, with the appeal to act on
    own = await wait_for(
        sla_worker.bootstrap, sla_worker.topic("assign.a3.cgj"), lambda rs: len(rs) >= 1
    )
    hop2 = Assignment.loads(own[0].value)
    assert (hop2.hop, hop2.lead_code, hop2.rule_id) == (2, "a3.cgj", "reassign")
    assert "改派：中心，职责不符" in hop2.rule_explanation
    assert {k: getattr(hop2, k) for k in APPEAL} == APPEAL

    before = moved.case_clock.limit
    await publish(sla_worker.bootstrap, events, [
        _event("e5", aid, "accept", department="a3.cgj"),
        _event("e6", aid, "extend_request", department="a3.cgj", extension_days=3),
        _event("e7", aid, "extend_approve", actor="中心", extension_days=3),
        _event("e7", aid, "extend_approve", actor="中心", extension_days=3),  # duplicate: ignored
        _event("e8", aid, "extend_request", department="a3.cgj", extension_days=11),  # a second extension: beyond the limit of one
    ], key=aid.encode())  # fmt: skip
    extended = await _until(lambda: store.load(aid), lambda s: s.ext_used >= 1)
    assert extended.case_clock.limit == before + 3 * 7 * 3600  # 3 working days of 7 h

    # a return (退回) within the window stops the department's clock; a reassignment starts the next
    back = "SLA-return-1"
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(back, "a4.zjj", datetime.now(TZ))],
    )
    await _until(lambda: store.load(back), lambda s: s is not None)
    await publish(sla_worker.bootstrap, events, [_event("b1", back, "return", department="a4.zjj", reason="不属本单位职责")],
                  key=back.encode())  # fmt: skip
    returned = await _until(lambda: store.load(back), lambda s: s.department == "")
    assert returned.hop_clock is None or not returned.hop_clock.running
    assert returned.case_clock.running  # the citizen's clock does not stop
    await publish(
        sla_worker.bootstrap,
        events,
        [_event("b2", back, "reassign", target_department="a4.cgj")],
        key=back.encode(),
    )
    second = await _until(lambda: store.load(back), lambda s: s.hop == 2)
    assert second.department == "a4.cgj" and second.hop_clock.running

    other = "SLA-unsigned-1"
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(other, "a5.zjj", datetime.now(TZ))],
    )
    await _until(lambda: store.load(other), lambda s: s is not None)
    await publish(sla_worker.bootstrap, events, [
        _event("x1", other, "close", actor="中心"),  # before sign-for
        _event("x2", "SLA-nobody", "accept", department="a1.zjj"),  # unknown case
        b"{not json",
    ], key=b"bad")  # fmt: skip
    dead = await wait_for(
        sla_worker.bootstrap, sla_worker.topic("deadletter"),
        lambda rs: len([r for r in rs if DeadLetter.loads(r.value).stage == "sla"]) >= 4,
    )  # fmt: skip
    codes = sorted(
        DeadLetter.loads(r.value).error_code
        for r in dead
        if DeadLetter.loads(r.value).stage == "sla"
    )
    assert codes == ["BAD_JSON", "SLA_EXTENSION_LIMIT", "SLA_NOT_SIGNED_FOR", "SLA_UNKNOWN_CASE"]
    await store.aclose()


async def test_a_reopened_case_goes_back_to_its_department_with_the_appeal(sla_worker, redis_url):
    """重办 after 办结 (回访: not resolved) starts a new hop: the department gets the case
    again on its own topic, text included; the same event delivered twice sends the same
    assignment again (same id), in case a crash came between the SLA write and the send."""
    store = sla_store(sla_worker, redis_url)
    aid = "SLA-reopen-1"
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(aid, "a1.zjj", datetime.now(TZ), **APPEAL)],
    )
    await _until(lambda: store.load(aid), lambda s: s is not None)
    await publish(sla_worker.bootstrap, sla_worker.topic("cases.events"), [
        _event("o1", aid, "accept", department="a1.zjj"),
        _event("o2", aid, "reply", department="a1.zjj"),
        _event("o3", aid, "close", actor="中心"),
    ], key=aid.encode())  # fmt: skip
    await _until(lambda: store.load(aid), lambda s: s.status == CaseStatus.CLOSED)
    # the appeal is kept as long as the closed case is (HOTLINE_SLA_CLOSED_TTL, 30 days),
    # no longer the 90 days after its last hop
    dossier = f"{sla_worker.prefix}dossier:{aid}"
    month = store.settings.closed_ttl
    await _until(lambda: store.r.ttl(dossier), lambda ttl: 0 < ttl <= month)
    reopen = _event("o4", aid, "reopen", actor="回访", reason="市民不满意：问题未解决")
    await publish(
        sla_worker.bootstrap, sla_worker.topic("cases.events"), [reopen], key=aid.encode()
    )
    reopened = await _until(lambda: store.load(aid), lambda s: s.status == CaseStatus.OPEN)
    assert (reopened.hop, reopened.round, reopened.department) == (2, 2, "a1.zjj")

    def hops(records):
        return [a for a in map(Assignment.loads, (r.value for r in records)) if a.appeal_id == aid]

    topic = sla_worker.topic("assign.a1.zjj")
    own = hops(await wait_for(sla_worker.bootstrap, topic, lambda rs: len(hops(rs)) >= 1))
    assert (own[0].hop, own[0].lead_code, own[0].rule_id) == (2, "a1.zjj", "reopen")
    assert own[0].rule_explanation == "重办：回访，市民不满意：问题未解决"
    assert {k: getattr(own[0], k) for k in APPEAL} == APPEAL
    # the reopened case's hop keeps its appeal for the full period again
    await _until(lambda: store.r.ttl(dossier), lambda ttl: ttl > month)

    await publish(
        sla_worker.bootstrap, sla_worker.topic("cases.events"), [reopen], key=aid.encode()
    )
    again = hops(await wait_for(sla_worker.bootstrap, topic, lambda rs: len(hops(rs)) >= 2))
    assert [a.assignment_id for a in again] == [own[0].assignment_id] * 2
    assert (await store.load(aid)).hop == 2  # applied once
    await store.aclose()


async def test_wiping_redis_and_rebuilding_from_kafka_gives_identical_state(sla_worker, redis_url):
    store = sla_store(sla_worker, redis_url)
    aid = "SLA-rebuild-1"
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(aid, "a2.jyj", datetime.now(TZ))],
    )
    await _until(lambda: store.load(aid), lambda s: s is not None)
    await publish(sla_worker.bootstrap, sla_worker.topic("cases.events"),
                  [_event("r1", aid, "accept", department="a2.jyj"), _event("r2", aid, "reply", department="a2.jyj")],
                  key=aid.encode())  # fmt: skip
    await _until(lambda: store.load(aid), lambda s: s.version >= 3)
    # closed, then reopened (重办): the worker publishes the next hop's assignment, which a
    # rebuild must take for the consequence of the reopen it replays, not as a record
    again = "SLA-rebuild-reopen-1"
    await publish(sla_worker.bootstrap, sla_worker.topic("assignments.all"),
                  [assignment_json(again, "a2.jyj", datetime.now(TZ))])  # fmt: skip
    await _until(lambda: store.load(again), lambda s: s is not None)
    await publish(sla_worker.bootstrap, sla_worker.topic("cases.events"), [
        _event("q1", again, "accept", department="a2.jyj"), _event("q2", again, "close"),
        _event("q3", again, "reopen", reason="回访不满意"),
    ], key=again.encode())  # fmt: skip
    await wait_for(sla_worker.bootstrap, sla_worker.topic("assign.a2.jyj"),
                   lambda rs: any(Assignment.loads(r.value).appeal_id == again for r in rs))  # fmt: skip
    await asyncio.sleep(3)  # let the scanner settle: nothing new falls due in the next minutes
    sla_worker.stop()
    live = await store.dump()
    assert live and await store.wipe() > 0
    env = {**sla_worker.env}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "sla", "rebuild", "--yes"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "rebuilt" in result.stdout
    rebuilt = await store.dump()
    differing = {
        section: sorted(k for k in set(live[section]) | set(rebuilt[section])
                        if live[section].get(k) != rebuilt[section].get(k))
        for section in live
    }  # fmt: skip
    detail = {
        k: (live["cases"].get(k), rebuilt["cases"].get(k)) for k in differing.get("cases", [])[:2]
    }
    assert rebuilt == live, f"differing keys {differing}; first cases live vs rebuilt: {detail}"
    await store.aclose()
    sla_worker.start()  # the fixture stops it at the end


async def test_alerts_that_fell_due_while_down_are_raised_after_a_rebuild(sla_worker, redis_url):
    """The worker was down while a case fell due, and Redis is rebuilt: the rebuild must not
    count those thresholds as fired (no alert was sent), so the scanner raises them."""
    aid = "SLA-rebuild-missed-1"
    sla_worker.stop()
    start = datetime.now(TZ) - timedelta(seconds=70)  # 50 %, 80 % and 100 % of 1 minute are past
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(aid, "a3.zjj", start, "举报")],
    )
    result = subprocess.run(
        [sys.executable, "-m", "cli", "sla", "rebuild", "--yes"], cwd=PROJECT_ROOT,
        env={**sla_worker.env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    store = sla_store(sla_worker, redis_url)
    assert await store.load(aid) is not None  # rebuilt from the log
    await store.aclose()
    assert await _alerts(sla_worker, aid) == {}  # nothing was sent while down

    sla_worker.start()
    await _until_escalated(sla_worker, aid)
    await asyncio.sleep(3)  # more timer ticks: still once each
    sign_for = {t: n for (c, t), n in (await _alerts(sla_worker, aid)).items() if c == "sign_for"}
    assert sign_for == {"warn50": 1, "warn80": 1, "overdue": 1, "escalate": 1}


async def test_a_case_event_before_its_assignment_waits_for_it(sla_worker, redis_url):
    """Different topics: a 签收 can overtake its assignment. It waits, then applies."""
    store = sla_store(sla_worker, redis_url)
    aid = "SLA-early-1"
    assigned_at = datetime.now(TZ) - timedelta(minutes=1)  # made before the 签收, arriving after
    await publish(sla_worker.bootstrap, sla_worker.topic("cases.events"),
                  [_event("early-1", aid, "accept", department="a3.zjj")], key=aid.encode())  # fmt: skip
    await asyncio.sleep(1.5)  # the agent has seen it: no case yet, so it waits
    assert await store.load(aid) is None
    await publish(
        sla_worker.bootstrap,
        sla_worker.topic("assignments.all"),
        [assignment_json(aid, "a3.zjj", assigned_at)],
    )
    state = await _until(lambda: store.load(aid), lambda s: s.version >= 2)
    assert state.hop_kind == "handling"  # signed for: the handling clock runs
    await asyncio.sleep(4)  # longer than HOTLINE_SLA_EARLY_EVENT_WAIT: nothing left to expire
    dead = await read_all(sla_worker.bootstrap, sla_worker.topic("deadletter"), idle_ms=800)
    assert not [
        r for r in dead if aid.encode() in base64.b64decode(DeadLetter.loads(r.value).payload_b64)
    ]
    await store.aclose()


async def _until(load, ok, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await load()
        if value is not None and ok(value):
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"condition not met within {timeout}s; last state {value!r}")


async def test_an_assignment_whose_limits_pass_the_calendar_end_is_dead_lettered(
    sla_worker, redis_url
):
    """Its case would have no clocks: the assignment goes to the dead-letter topic with
    the engine's reason and its own bytes, for a replay once the next year is declared."""
    store = sla_store(sla_worker, redis_url)
    aid = "SLA-calendar-end-1"
    # the worker's calendar (the package's years, the year its test file declares and the
    # provisional year after it) ends on this day; 5 working days from its eve reach past it
    last = worker_calendar(sla_worker).last_day
    raw = assignment_json(aid, "a3.zjj", datetime(last.year, 12, 30, 10, 0, tzinfo=TZ))
    await publish(sla_worker.bootstrap, sla_worker.topic("assignments.all"), [raw])

    def mine(records):
        return [
            d for d in (DeadLetter.loads(r.value) for r in records)
            if base64.b64decode(d.payload_b64) == raw
        ]  # fmt: skip

    dead = await wait_for(
        sla_worker.bootstrap, sla_worker.topic("deadletter"), lambda rs: mine(rs)
    )  # fmt: skip
    (letter,) = mine(dead)
    assert letter.error_code == "SLA_CALENDAR_RANGE"
    assert letter.stage == "sla" and letter.channel == "assignment"
    assert "end of the working-day calendar" in letter.reason
    assert letter.source_topic == sla_worker.topic("assignments.all")
    assert await store.load(aid) is None
    await store.aclose()


async def test_malformed_assignments_are_dead_lettered_and_the_clocks_go_on(sla_worker, redis_url):
    """Bug: faust decoded assignments.all itself; a record it could not decode was
    acknowledged and ended the SLA agent's stream without a log line or a dead letter, and
    no later assignment started its clocks until the worker was restarted."""
    store = sla_store(sla_worker, redis_url)
    at = datetime.now(TZ)
    hop0 = orjson.loads(assignment_json("SLA-bad-hop0", "a3.zjj", at))
    hop0["hop"] = 0
    bad = {
        b"{not json": "BAD_JSON",
        orjson.dumps({"appeal_id": "SLA-bad-missing"}): "MISSING_FIELD",
        orjson.dumps(hop0): "BAD_VALUE",
    }
    before = [assignment_json(f"SLA-good-{i}", "a3.zjj", at) for i in range(3)]
    await publish(sla_worker.bootstrap, sla_worker.topic("assignments.all"), before + list(bad))
    after = [assignment_json(f"SLA-good-{i}", "a3.zjj", at) for i in range(3, 6)]
    await asyncio.sleep(2)  # the bad records are read before these are published
    await publish(sla_worker.bootstrap, sla_worker.topic("assignments.all"), after)

    def letters(records):
        found = {}
        for d in (DeadLetter.loads(r.value) for r in records):
            payload = base64.b64decode(d.payload_b64)
            if payload in bad and d.source_topic == sla_worker.topic("assignments.all"):
                found[payload] = d
        return found if len(found) == len(bad) else None

    dead = letters(
        await wait_for(sla_worker.bootstrap, sla_worker.topic("deadletter"), letters, timeout=30)
    )
    assert {p: d.error_code for p, d in dead.items()} == bad
    assert all(d.stage == "sla" and d.channel == "assignment" for d in dead.values())
    deadline = time.monotonic() + 30
    while len(await store.load_many([f"SLA-good-{i}" for i in range(6)])) < 6:
        assert time.monotonic() < deadline, "later assignments did not start their clocks"
        await asyncio.sleep(0.3)
    await store.aclose()


async def test_case_events_delivered_again_after_a_restart_are_not_dead_lettered(
    make_isolated_worker, redis_url
):
    """Bug: a case event delivered again (a crash before the offset commit, a rebalance)
    whose id had left the case's ring of four recent ids was judged afresh, older than the
    last applied record, and dead-lettered SLA_OUT_OF_ORDER although it had been applied
    (845 such letters after three SIGKILLs in the SLA fault review). Here the whole log is
    delivered again, as a group whose commits were lost would read it."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.structs import OffsetAndMetadata

    w = await make_isolated_worker({"HOTLINE_WORKER_STAGES": "sla"})
    store = sla_store(w, redis_url)
    aid = "SLA-redelivered-1"
    start = datetime.now(TZ) - timedelta(hours=1)
    events = [
        ("accept", {"department": "a3.zjj"}), ("pause", {"reason": "等待现场勘查"}), ("resume", {}),
        ("extend_request", {"department": "a3.zjj", "extension_days": 3}),
        ("extend_approve", {"actor": "中心", "extension_days": 3}),
        ("reply", {"department": "a3.zjj"}),
    ]  # fmt: skip
    records = [
        orjson.dumps({"event_id": f"rd-{i}", "appeal_id": aid, "kind": kind,
                      "occurred_at": (start + timedelta(seconds=10 * (i + 1))).isoformat(), **extra})
        for i, (kind, extra) in enumerate(events)
    ]  # fmt: skip
    await publish(w.bootstrap, w.topic("assignments.all"), [assignment_json(aid, "a3.zjj", start)])
    await publish(w.bootstrap, w.topic("cases.events"), records, key=aid.encode())
    await asyncio.to_thread(w.start)
    deadline = time.monotonic() + 40
    while (state := await store.load(aid)) is None or state.version < 1 + len(events):
        assert time.monotonic() < deadline, f"events not applied: {state}"
        await asyncio.sleep(0.3)
    await asyncio.sleep(3)  # past faust's commit interval
    await asyncio.to_thread(w.stop)

    # every record delivered again: the group's commits rewound to the start
    tps = list(await w.committed_offsets("hotline12345-sla"))
    assert {tp.topic for tp in tps} >= {w.topic("assignments.all"), w.topic("cases.events")}
    group = AIOKafkaConsumer(bootstrap_servers=w.bootstrap, group_id=f"{w.prefix}hotline12345-sla",
                             enable_auto_commit=False)  # fmt: skip
    await group.start()
    try:
        group.assign([TopicPartition(tp.topic, tp.partition) for tp in tps])
        await group.commit({TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(0, "")
                            for tp in tps})  # fmt: skip
    finally:
        await group.stop()
    await asyncio.to_thread(w.start)
    deadline = time.monotonic() + 40
    while True:
        committed = await w.committed_offsets("hotline12345-sla")
        if sum(o for tp, o in committed.items() if tp.topic == w.topic("cases.events")) >= len(
            records
        ):
            break
        assert time.monotonic() < deadline, "the events were not read again"
        await asyncio.sleep(0.5)
    letters = [
        DeadLetter.loads(r.value)
        for r in await read_all(w.bootstrap, w.topic("deadletter"), idle_ms=500)
    ]
    assert [(d.error_code, d.source_topic) for d in letters] == []
    assert (await store.load(aid)).version == 1 + len(events)
    await store.aclose()
