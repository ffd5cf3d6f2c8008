"""Appeals through the real broker: classified, routed to department topics, reviewed, transferred."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis

from config.stack import PROJECT_ROOT
from intake.identity import appeal_id
from models.assignment import Assignment
from models.dead_letter import DeadLetter
from models.emergency import EmergencyTransfer
from models.review import ReviewRequest
from models.sla_alert import SlaAlert
from tests.integration.raw_records import mailbox_json
from tests.integration.worker_process import publish, read_all, sla_store, wait_for

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")


#: Key of the one record that is not a ReviewRequest, published on purpose to appeals.review.
FOREIGN_KEY = b"foreign-record"
#: A review wait short enough to watch its alerts come (the default is hours).
WORKER_ENV = {
    "HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER": "4s",
    "HOTLINE_UNDERSTAND_REVIEW_ALERT_AFTER_EMERGENCY": "1s",
    "HOTLINE_SLA_TIMER_INTERVAL": "0.5",
}


def _by_key(records, cls) -> dict:
    return {r.key.decode(): cls.loads(r.value) for r in records if r.key != FOREIGN_KEY}


async def test_real_appeals_land_on_the_right_department_topics(worker):
    cases = {
        "MB-route-1": ("A3区社保卡补办进度太慢", "我在A市A3区人社局窗口补办社保卡，一个月了还没拿到，请问什么时候能办好？",
                       "劳动和社会保障", "a3.rsj"),
        "MB-route-2": ("A7县学校乱收费", "A7县某中学向学生收取补课费，每人每学期800元，教育局请查处。",
                       "教育文体", "a7.jyj"),
    }  # fmt: skip
    await publish(
        worker.bootstrap,
        worker.topic("raw.mailbox"),
        [mailbox_json(k, t, d) for k, (t, d, _, _) in cases.items()],
    )
    ids = {appeal_id("mailbox", k): v for k, v in cases.items()}
    records = await wait_for(
        worker.bootstrap,
        worker.topic("assignments.all"),
        lambda rs: set(ids) <= set(_by_key(rs, Assignment)),
    )
    assignments = _by_key(records, Assignment)
    for aid, (_, _, category, lead) in ids.items():
        a = assignments[aid]
        assert (a.category, a.lead_code) == (category, lead)
        assert a.rule_id and a.rule_explanation and a.assignment_id == f"{aid}#1"
        assert a.district and a.district.startswith("A市")
        # the same event is on the lead department's own topic
        own = await wait_for(
            worker.bootstrap,
            worker.topic(f"assign.{lead}"),
            lambda rs, aid=aid: aid in _by_key(rs, Assignment),
        )
        mine = _by_key(own, Assignment)[aid]
        assert mine.lead_code == lead
        # with the appeal itself: the department needs no other topic to act on it
        assert (mine.title, mine.content) == ids[aid][:2]
        assert mine.channel == "mailbox" and mine.received_at is not None


async def _parked_for_review(worker, message_id: str, subject: str, detail: str):
    """Publish a mailbox message too vague to dispatch; return its appeal id and the
    review request the worker published for it."""
    aid = appeal_id("mailbox", message_id)
    await publish(
        worker.bootstrap, worker.topic("raw.mailbox"), [mailbox_json(message_id, subject, detail)]
    )
    reviews = await wait_for(
        worker.bootstrap, worker.topic("appeals.review"),
        lambda rs: aid in _by_key(rs, ReviewRequest),
    )  # fmt: skip
    return aid, _by_key(reviews, ReviewRequest)[aid]


async def _red_card_after_the_emergency_wait(worker, aid: str, request: ReviewRequest) -> None:
    """Wait for the appeal's review red card and check it came after the emergency's wait
    (1 s in ``WORKER_ENV``), not the ordinary one (4 s)."""
    records = await wait_for(
        worker.bootstrap, worker.topic("sla.alerts"),
        lambda rs: f"{aid}/review/overdue" in {SlaAlert.loads(r.value).alert_id for r in rs},
    )  # fmt: skip
    alerts = {a.alert_id: a for a in (SlaAlert.loads(r.value) for r in records)}
    red = alerts[f"{aid}/review/overdue"]
    assert abs((red.due_at - request.requested_at).total_seconds() - 1) < 1.5  # not 4 s


async def test_low_confidence_goes_to_review_and_a_decision_assigns_it(worker):
    aid, request = await _parked_for_review(worker, "MB-review-1", "你好", "请问一下。")
    assert request.reason in ("low_confidence", "no_content_words", "no_chinese_text")
    all_assignments = await wait_for(
        worker.bootstrap, worker.topic("assignments.all"), lambda rs: True
    )
    assert aid not in _by_key(all_assignments, Assignment)  # not dispatched before the decision

    decision = {"appeal_id": aid, "decision_id": "D-1", "reviewer": "张审核", "category": "城乡建设",
                "department_code": "a3.zjj", "decided_at": datetime.now(TZ).isoformat()}  # fmt: skip
    malformed = b'{"appeal_id": "%s", "category": "not a category"}' % aid.encode()
    await publish(worker.bootstrap, worker.topic("appeals.review.decisions"), [malformed, orjson.dumps(decision)],
                  key=aid.encode())  # fmt: skip
    records = await wait_for(
        worker.bootstrap, worker.topic("assignments.all"), lambda rs: aid in _by_key(rs, Assignment)
    )
    assignment = _by_key(records, Assignment)[aid]
    assert (assignment.lead_code, assignment.category, assignment.rule_id) == (
        "a3.zjj",
        "城乡建设",
        "review",
    )
    assert "张审核" in assignment.rule_explanation and assignment.decision_id == "D-1"
    dead = await wait_for(
        worker.bootstrap, worker.topic("deadletter"),
        lambda rs: any(DeadLetter.loads(r.value).stage == "review" for r in rs),
    )  # fmt: skip
    letter = next(d for d in (DeadLetter.loads(r.value) for r in dead) if d.stage == "review")
    assert letter.error_code == "MISSING_FIELD" and letter.source_topic == worker.topic(
        "appeals.review.decisions"
    )


async def test_a_redelivered_decision_is_applied_once_and_not_dead_lettered(worker):
    aid, _ = await _parked_for_review(worker, "MB-review-again", "你好", "请问一下。")
    decision = orjson.dumps({"appeal_id": aid, "decision_id": "D-again", "reviewer": "张审核",
                             "category": "城乡建设", "decided_at": datetime.now(TZ).isoformat()})  # fmt: skip
    topic = worker.topic("appeals.review.decisions")
    await publish(worker.bootstrap, topic, [decision], key=aid.encode())
    await wait_for(
        worker.bootstrap, worker.topic("assignments.all"), lambda rs: aid in _by_key(rs, Assignment)
    )
    # at-least-once: the same decision arrives again; a malformed one on the same key (so
    # the same partition) is handled after it, and its dead letter marks that point
    marker = b'{"appeal_id": "%s", "decision_id": "D-marker"}' % aid.encode()
    await publish(worker.bootstrap, topic, [decision, marker], key=aid.encode())
    marker_b64 = base64.b64encode(marker).decode()
    dead = await wait_for(
        worker.bootstrap, worker.topic("deadletter"),
        lambda rs: any(DeadLetter.loads(r.value).payload_b64 == marker_b64 for r in rs),
    )  # fmt: skip
    letters = [DeadLetter.loads(r.value) for r in dead]
    assert base64.b64encode(decision).decode() not in {d.payload_b64 for d in letters}
    records = await read_all(worker.bootstrap, worker.topic("assignments.all"))
    assert [r.key.decode() for r in records].count(aid) == 1


async def test_an_appeal_delivered_again_after_its_decision_asks_for_no_review_again(
    worker, redis_url
):
    """A replay (or a crash before the commit) brings a decided appeal back: it is not
    parked again, and its review request is not published again either (reviewers read
    appeals.review as the queue); its classification goes out again, as for any appeal."""
    aid, _ = await _parked_for_review(worker, "MB-review-replayed", "你好", "请问一下。")
    decision = orjson.dumps({"appeal_id": aid, "decision_id": "D-replayed", "reviewer": "张审核",
                             "category": "城乡建设", "decided_at": datetime.now(TZ).isoformat()})  # fmt: skip
    await publish(worker.bootstrap, worker.topic("appeals.review.decisions"), [decision],
                  key=aid.encode())  # fmt: skip
    await wait_for(
        worker.bootstrap, worker.topic("assignments.all"), lambda rs: aid in _by_key(rs, Assignment)
    )
    client = redis.Redis.from_url(redis_url)
    for _ in range(50):  # settled right after the assignment's acknowledgement
        if client.exists(f"{worker.prefix}review-decided:{aid}"):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail(f"the decision on {aid} was not settled")
    received = await read_all(worker.bootstrap, worker.topic("appeals.received"))
    (appeal,) = [r.value for r in received if r.key.decode() == aid]
    await publish(worker.bootstrap, worker.topic("appeals.received"), [appeal], key=aid.encode())

    def count(records) -> int:
        return [r.key.decode() for r in records].count(aid)

    await wait_for(worker.bootstrap, worker.topic("appeals.classified"), lambda rs: count(rs) == 2)
    reviews = await read_all(worker.bootstrap, worker.topic("appeals.review"))
    assert count(reviews) == 1  # the first delivery's request only
    assert count(await read_all(worker.bootstrap, worker.topic("assignments.all"))) == 1
    assert not client.exists(f"{worker.prefix}review:{aid}")  # not waiting again
    client.close()


def _hotline(worker, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=PROJECT_ROOT, env=worker.env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def test_a_reviewer_lists_the_queue_and_decides_with_the_review_command(worker, redis_url):
    aid, _ = await _parked_for_review(worker, "MB-review-cli", "咨询", "请问一下。")
    # a hand-published record that is not a ReviewRequest is skipped, not fatal
    await publish(worker.bootstrap, worker.topic("appeals.review"), [b"{not json"], key=FOREIGN_KEY)
    listed = _hotline(worker, "review", "list", "--json", "--limit", "1000")
    assert listed.returncode == 0, listed.stderr
    # the suggestion is kept with the parked appeal: the topic is not read at all
    assert "undecodable" not in listed.stderr
    waiting = {w["appeal_id"]: w for w in map(json.loads, listed.stdout.splitlines())}
    assert waiting[aid]["content"] == "请问一下。" and waiting[aid]["suggested_category"]
    # an appeal parked by an older version has its suggestion on the topic only
    assert redis.Redis.from_url(redis_url).delete(f"{worker.prefix}review-request:{aid}") == 1
    older = _hotline(worker, "review", "list", "--json", "--limit", "1000")
    assert older.returncode == 0, older.stderr
    assert "skipped 1 undecodable record(s) on appeals.review" in older.stderr
    from_topic = {w["appeal_id"]: w for w in map(json.loads, older.stdout.splitlines())}
    assert from_topic[aid]["suggested_category"] == waiting[aid]["suggested_category"]
    assert from_topic[aid]["confidence"] == waiting[aid]["confidence"]

    wrong = _hotline(worker, "review", "decide", aid, "--category", "城建", "--reviewer", "李审核")
    assert wrong.returncode == 2 and "城乡建设" in wrong.stderr  # names the valid categories
    untagged = _hotline(worker, "review", "decide", aid, "--category", "交通运输",
                        "--reviewer", "李审核", "--tag", "疑难")  # fmt: skip
    assert untagged.returncode == 2 and "complex" in untagged.stderr  # names the known tags
    decided = _hotline(worker, "review", "decide", aid, "--category", "交通运输",
                       "--department", "a.jtj", "--reviewer", "李审核", "--tag", "complex",
                       "--wait", "40")  # fmt: skip
    assert decided.returncode == 0, decided.stderr
    summary = json.loads(decided.stdout.splitlines()[-1])
    assert summary["assignment"]["lead_code"] == "a.jtj"
    assert summary["assignment"]["rule_id"] == "review"
    assert summary["assignment"]["tags"] == ["complex"]
    # the reviewer's 疑难复杂 tag gives the case the complex policy's time limits
    store = sla_store(worker, redis_url)
    try:
        for _ in range(100):
            if (state := await store.load(aid)) is not None:
                break
            await asyncio.sleep(0.2)
    finally:
        await store.aclose()
    assert state is not None and state.policy == "complex"

    after = _hotline(worker, "review", "list", "--json", "--limit", "1000")
    assert aid not in {json.loads(line)["appeal_id"] for line in after.stdout.splitlines()}
    again = _hotline(
        worker, "review", "decide", aid, "--category", "交通运输", "--reviewer", "李审核"
    )
    assert again.returncode == 1 and "not waiting for review" in again.stderr


async def test_a_reviewer_dismisses_the_texts_wrong_flags_with_the_review_command(
    worker, redis_url
):
    """The text reads a cut in supply, or an emergency, and the reviewer finds none: the
    case gets the time limits of any appeal (not 24 hours, not hours)."""
    dry, _ = await _parked_for_review(worker, "MB-review-dry", "求助", "没水了")
    gas, request = await _parked_for_review(worker, "MB-review-nogas", "求助", "家里煤气漏气了")
    assert request.emergency == "119 燃气泄漏"
    listed = _hotline(worker, "review", "list", "--limit", "1000").stdout.splitlines()
    assert "--dismiss outage" in next(line for line in listed if line.startswith(dry))
    assert "--dismiss emergency" in next(line for line in listed if line.startswith(gas))

    both = ["--category", "城乡建设", "--reviewer", "李审核", "--dismiss", "emergency"]
    contradicted = _hotline(worker, "review", "decide", gas, *both, "--emergency", "119")
    assert contradicted.returncode == 2 and "dismissed and confirmed" in contradicted.stderr
    summaries = {}
    for aid, flag in ((dry, "outage"), (gas, "emergency")):
        args = ["--category", "城乡建设", "--reviewer", "李审核", "--dismiss", flag]
        decided = _hotline(worker, "review", "decide", aid, *args, "--wait", "40")
        assert decided.returncode == 0, decided.stderr
        summaries[aid] = json.loads(decided.stdout.splitlines()[-1])
    assert summaries[dry]["dismissed"] == ["outage"] and summaries[dry]["assignment"]["tags"] == []
    assert summaries[gas]["assignment"]["urgency"] is None
    store = sla_store(worker, redis_url)
    try:
        for _ in range(100):
            states = await store.load_many([dry, gas])
            if len(states) == 2:
                break
            await asyncio.sleep(0.2)
    finally:
        await store.aclose()
    assert {aid: s.policy for aid, s in states.items()} == {dry: "general", gas: "general"}


async def test_two_reviewers_deciding_at_once_get_one_assignment_and_one_refusal(worker):
    aid, _ = await _parked_for_review(worker, "MB-review-race", "咨询", "请问。")
    args = [sys.executable, "-m", "cli", "review", "decide", aid, "--wait", "40"]
    racers = [
        subprocess.Popen([*args, "--category", category, "--reviewer", who], cwd=PROJECT_ROOT,
                         env=worker.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for category, who in (("城乡建设", "甲"), ("环境保护", "乙"))
    ]  # fmt: skip
    done = [p.communicate(timeout=120) + (p.returncode,) for p in racers]
    assert sorted(rc for _, _, rc in done) == [0, 1], done
    (won,) = [out for out, _, rc in done if rc == 0]
    (lost_err,) = [err for _, err, rc in done if rc == 1]
    # the loser learns it either before publishing or from the worker's dead letter
    assert (
        "not waiting for review" in lost_err or "refused the decision: UNKNOWN_APPEAL" in lost_err
    )
    assigned = json.loads(won.splitlines()[-1])["assignment"]
    records = await wait_for(
        worker.bootstrap, worker.topic("assignments.all"), lambda rs: aid in _by_key(rs, Assignment)
    )
    mine = [Assignment.loads(r.value) for r in records if r.key.decode() == aid]
    assert [a.assignment_id for a in mine] == [assigned["assignment_id"]]
    assert mine[0].decision_id == json.loads(won.splitlines()[-1])["decision_id"]


async def test_an_undecided_appeal_raises_a_yellow_then_a_red_card_and_shows_overdue(worker):
    aid, request = await _parked_for_review(worker, "MB-review-late", "问一下", "A3区的，请问。")
    ids = {f"{aid}/review/warn80", f"{aid}/review/overdue"}
    records = await wait_for(
        worker.bootstrap, worker.topic("sla.alerts"),
        lambda rs: ids <= {SlaAlert.loads(r.value).alert_id for r in rs},
    )  # fmt: skip
    alerts = {
        a.alert_id: a for a in (SlaAlert.loads(r.value) for r in records) if a.appeal_id == aid
    }
    warn, red = alerts[f"{aid}/review/warn80"], alerts[f"{aid}/review/overdue"]
    assert warn.clock == red.clock == "review" and warn.due_at == red.due_at == red.threshold_at
    assert red.district == "A市A3区" and red.department is None  # no department before review
    assert warn.threshold_at < red.threshold_at <= red.raised_at
    # the deadline runs from the parking: 4 s after the request, give or take the triage
    assert abs((red.due_at - request.requested_at).total_seconds() - 4) < 2
    assert warn.raised_at <= red.raised_at  # yellow first

    listed = _hotline(worker, "review", "list", "--json", "--limit", "1000")
    mine = next(w for w in map(json.loads, listed.stdout.splitlines()) if w["appeal_id"] == aid)
    assert mine["overdue"] is True
    assert datetime.fromisoformat(mine["due_at"]) == red.due_at
    text = _hotline(worker, "review", "list", "--limit", "1000").stdout
    assert f"{aid}  waiting since" in text and "OVERDUE since" in text and " overdue" in text
    # supervisors see it beside the overdue cases
    supervisor = _hotline(worker, "sla", "overdue", "--json")
    assert aid in json.loads(supervisor.stdout)["review_overdue"], supervisor.stderr


async def test_emergency_is_transferred_ahead_of_dispatch(worker, redis_url):
    aid = appeal_id("mailbox", "MB-emergency-1")
    text = "A2区小区楼道里有很浓的煤气味，怀疑燃气泄漏，有老人被困家中，快来人！"
    await publish(
        worker.bootstrap,
        worker.topic("raw.mailbox"),
        [mailbox_json("MB-emergency-1", "燃气泄漏", text, phone="13812345678")],
    )
    records = await wait_for(
        worker.bootstrap,
        worker.topic("appeals.emergency"),
        lambda rs: aid in _by_key(rs, EmergencyTransfer),
    )
    transfer = _by_key(records, EmergencyTransfer)[aid]
    assert transfer.service == "119" and transfer.reason and transfer.evidence
    assert transfer.district == "A市A2区"
    assert transfer.channel == "mailbox" and transfer.received_at is not None
    # the emergency desk can call the citizen back: the reference resolves to the phone
    contact = redis.Redis.from_url(redis_url).hgetall(
        f"{worker.prefix}contact:{transfer.contact_ref}"
    )
    assert contact[b"phone"] == b"13812345678"
    # published ahead of the rest of the appeal's dispatch
    classified = await wait_for(worker.bootstrap, worker.topic("appeals.classified"),
                                lambda rs: any(r.key.decode() == aid for r in rs))  # fmt: skip
    sent_at = next(r.timestamp for r in records if r.key.decode() == aid)
    assert sent_at <= next(r.timestamp for r in classified if r.key.decode() == aid)


async def test_an_emergency_waiting_for_review_gets_the_shorter_emergency_wait(worker):
    # short texts of emergencies classify with low confidence: transferred and reviewed
    aid, request = await _parked_for_review(worker, "MB-review-urgent", "求助", "家里煤气漏气了")
    await _red_card_after_the_emergency_wait(worker, aid, request)
    transfers = await read_all(worker.bootstrap, worker.topic("appeals.emergency"))
    assert aid in _by_key(transfers, EmergencyTransfer)
    # reviewers see that it is an emergency, and it is already transferred
    assert request.emergency == "119 燃气泄漏"
    listed = _hotline(worker, "review", "list", "--limit", "1000").stdout
    assert "紧急 119 燃气泄漏 (transferred;" in next(
        line for line in listed.splitlines() if line.startswith(aid)
    )
    # the reviewer's decision keeps the case on the emergency time limits (hours, not days)
    decision = {"appeal_id": aid, "decision_id": "D-urgent", "reviewer": "张审核",
                "category": "城乡建设", "decided_at": datetime.now(TZ).isoformat()}  # fmt: skip
    await publish(worker.bootstrap, worker.topic("appeals.review.decisions"),
                  [orjson.dumps(decision)], key=aid.encode())  # fmt: skip
    records = await wait_for(
        worker.bootstrap, worker.topic("assignments.all"), lambda rs: aid in _by_key(rs, Assignment)
    )
    assignment = _by_key(records, Assignment)[aid]
    assert (assignment.rule_id, assignment.urgency) == ("review", "emergency")


async def test_a_possible_emergency_no_rule_knows_is_reviewed_first_on_the_emergency_wait(worker):
    # no emergency rule reads 拿着铁锤在追; the emergency model does: review, no transfer
    aid, request = await _parked_for_review(
        worker, "MB-review-possible", "求助", "停车场有个男的拿着铁锤在追一个女的"
    )
    assert (request.reason, request.emergency) == ("possible_emergency", None)
    await _red_card_after_the_emergency_wait(worker, aid, request)
    transfers = await read_all(worker.bootstrap, worker.topic("appeals.emergency"))
    assert aid not in _by_key(transfers, EmergencyTransfer)
    listed = _hotline(worker, "review", "list", "--limit", "1000").stdout
    assert "疑似紧急" in next(line for line in listed.splitlines() if line.startswith(aid))
    # the reviewer confirms it: transfer to 110 first, then the case on the emergency limits
    args = ["--category", "城乡建设", "--reviewer", "李审核", "--emergency", "110"]
    decided = _hotline(worker, "review", "decide", aid, *args, "--emergency-reason", "持锤追人")
    assert decided.returncode == 0, decided.stderr
    summary = json.loads(decided.stdout.splitlines()[-1])
    assert summary["emergency_service"] == "110"
    assert summary["assignment"]["urgency"] == "emergency"
    transfers = await read_all(worker.bootstrap, worker.topic("appeals.emergency"))
    transfer = _by_key(transfers, EmergencyTransfer)[aid]
    assert (transfer.service, transfer.reason, transfer.evidence) == (
        "110",
        "持锤追人",
        "人工复核：李审核",
    )
    assert transfer.content == "停车场有个男的拿着铁锤在追一个女的"
    assigned = await read_all(worker.bootstrap, worker.topic("assignments.all"))
    stamp = {r.topic: r.timestamp for r in transfers + assigned if r.key == aid.encode()}
    assert stamp[worker.topic("appeals.emergency")] <= stamp[worker.topic("assignments.all")]
