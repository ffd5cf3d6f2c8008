"""The review queue as reviewers see it, and the checks every decision passes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from config.sla import SlaSettings
from intake.errors import ErrorCode, IntakeError
from intake.fields import parse_json_record
from models.appeal import Appeal, RawRef
from models.assignment import Assignment
from models.review import ReviewDecision, ReviewRequest
from routing.catalogue import load_catalogue
from routing.dispatch import for_emergency, route
from sla.calendar import WorkdayCalendar
from sla.clocks import Timebase
from sla.events import SlaEngine
from sla.policies import Duration, load_policies
from sla.working_time import WorkingHours, WorkingTime
from streams.agents.sla_clocks import assignment_in
from triage.outcome import after_review, review_transfer
from triage.review_clock import ReviewClock
from triage.review_queue import (
    MAX_ID,
    MAX_NOTE,
    MAX_REVIEWER,
    check_decision,
    undated_deadlines,
    waiting_list,
)
from understand.refinement import refine

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)


def _appeal(aid: str, minutes: int) -> Appeal:
    return Appeal(
        appeal_id=aid, channel="mailbox", source_id=aid, title="你好", content="请问一下。",
        received_at=T0 + timedelta(minutes=minutes), ingested_at=T0, appeal_type="咨询",
        raw=RawRef(topic="raw.mailbox", partition=0, offset=0),
    )  # fmt: skip


def _request(aid: str, minutes: int, category: str = "城乡建设") -> ReviewRequest:
    return ReviewRequest(
        appeal_id=aid, title="你好", content="请问一下。", suggested_category=category,
        confidence=0.4, reason="low_confidence", requested_at=T0 + timedelta(minutes=minutes),
    )  # fmt: skip


def test_waiting_appeals_come_longest_waiting_first_with_their_latest_request():
    waiting = {"A": _appeal("A", 0), "B": _appeal("B", 0), "C": _appeal("C", -30)}
    requests = [
        _request("B", 5, "环境保护"),
        _request("A", 10),
        _request("B", 6, "交通运输"),  # B was requested again (redelivery): the latest counts
        _request("D", 1),  # decided already: not waiting
    ]
    items = waiting_list(waiting, requests)
    assert [w.appeal.appeal_id for w in items] == ["C", "B", "A"]
    assert items[0].request is None  # its request left the topic: received time stands in
    assert items[0].requested_at == T0 - timedelta(minutes=30)
    assert items[1].request.suggested_category == "交通运输"


def test_an_earlier_review_deadline_comes_first_then_the_longest_waiting():
    waiting = {
        a: _appeal(a, m) for a, m in (("OLD", -60), ("URGENT", 0), ("MID", -10), ("NONE", -90))
    }
    due = int(T0.timestamp())
    # URGENT (an emergency: a short wait) is due before OLD; NONE has no deadline at all
    deadlines = {"OLD": due + 3600, "URGENT": due + 1800, "MID": due + 6600}
    items = waiting_list(waiting, [], deadlines)
    assert [w.appeal.appeal_id for w in items] == ["URGENT", "OLD", "MID", "NONE"]


def _decision(
    category: str = "城乡建设", department: str | None = None, tags: list[str] | None = None
) -> ReviewDecision:
    return ReviewDecision(
        appeal_id="A", decision_id="D-1", reviewer="张审核", category=category,
        decided_at=T0, department_code=department, tags=tags,
    )  # fmt: skip


def test_a_decision_names_a_known_category_and_department():
    catalogue = load_catalogue()
    assert check_decision(_decision(), catalogue) is None
    assert check_decision(_decision(department="a3.zjj"), catalogue).code == "a3.zjj"
    for bad in (_decision(category="城建"), _decision(department="a3.nope")):
        with pytest.raises(IntakeError) as err:
            check_decision(bad, catalogue)
        assert err.value.code == ErrorCode.BAD_VALUE


def test_a_decision_names_a_second_level_category_of_its_own_first_level():
    catalogue = load_catalogue()
    good = _decision(category="城乡建设")
    good.subcategory = "住房保障与房地产"
    assert check_decision(good, catalogue) is None
    for category, subcategory in (("城乡建设", "物业"), ("环境保护", "住房保障与房地产")):
        bad = _decision(category=category)
        bad.subcategory = subcategory
        with pytest.raises(IntakeError) as err:
            check_decision(bad, catalogue)
        assert err.value.code == ErrorCode.BAD_VALUE and repr(subcategory) in err.value.reason


def test_a_decision_may_set_only_tags_the_sla_policies_read():
    catalogue = load_catalogue()
    known = load_policies(SlaSettings().policy_file).tags
    assert "complex" in known
    assert check_decision(_decision(tags=["complex"]), catalogue, known) is None
    with pytest.raises(IntakeError) as err:
        check_decision(_decision(tags=["complex", "疑难"]), catalogue, known)
    assert err.value.code == ErrorCode.BAD_VALUE and "'疑难'" in err.value.reason
    with pytest.raises(IntakeError, match="tags must be a list of strings"):
        check_decision(_decision(tags="complex"), catalogue, known)  # type: ignore[arg-type]


def test_a_decisions_ids_reviewer_and_note_are_not_blank_nor_too_long():
    # before: a 990 KB reviewer went into an assignment's explanation, a 700 KB note into
    # the corrections file, and a 900 KB appeal id whole into a dead letter's reason
    catalogue = load_catalogue()
    longest = _decision()
    longest.appeal_id, longest.decision_id = "A" * MAX_ID, "D" * MAX_ID
    longest.reviewer, longest.note = "张" * MAX_REVIEWER, "注" * MAX_NOTE
    assert check_decision(longest, catalogue) is None
    bad = [
        ("appeal_id", "A" * 900_000, "appeal_id is 900,000 characters, at most 128 allowed"),
        ("decision_id", "D" * (MAX_ID + 1), "decision_id is 129 characters, at most 128"),
        ("reviewer", "审" * 990_000, "reviewer is 990,000 characters, at most 64 allowed"),
        ("note", "注" * 700_000, "note is 700,000 characters, at most 2,000 allowed"),
        ("appeal_id", "  ", "appeal_id is blank"),
        ("decision_id", "", "decision_id is blank"),
        ("reviewer", " \u200b\t", "reviewer is blank"),
    ]
    for name, value, said in bad:
        decision = _decision()
        setattr(decision, name, value)
        with pytest.raises(IntakeError) as err:
            check_decision(decision, catalogue)
        assert err.value.code == ErrorCode.BAD_VALUE and said in err.value.reason, name
        assert len(err.value.reason) < 120  # the start of the value only


def test_a_padded_appeal_id_and_a_blank_note_are_still_accepted():
    catalogue = load_catalogue()
    padded = _decision()
    padded.appeal_id, padded.note = " MB-1 ", ""
    assert check_decision(padded, catalogue) is None
    # the worker reads the decision trimmed, as ids of every channel
    wire = orjson.dumps({**orjson.loads(_decision().dumps()), "appeal_id": "  MB-1\t"})
    decision = parse_json_record(wire, ReviewDecision, "review decision")
    assert decision.appeal_id == "MB-1" and check_decision(decision, catalogue) is None


def test_the_reviewers_tags_reach_the_assignment_and_pick_its_sla_policy():
    decision = _decision(department="a3.zjj", tags=["complex"])
    lead = check_decision(decision, load_catalogue(), load_policies(SlaSettings().policy_file).tags)
    assignment = after_review(_appeal("A", 0), decision, route, T0, lead=lead)
    assert assignment.tags == ["complex"]
    # the wire form keeps them, and the SLA stage reads them from there
    again = Assignment.loads(assignment.dumps())
    engine = SlaEngine.from_settings(SlaSettings())
    picked = engine.book.select(**_criteria(assignment_in(again)))
    assert picked.key == "complex"
    untagged = after_review(_appeal("A", 0), _decision(department="a3.zjj"), route, T0, lead=lead)
    assert untagged.tags is None
    assert engine.book.select(**_criteria(assignment_in(untagged))).key == "general"


def _criteria(a) -> dict:
    return {
        "appeal_type": a.appeal_type,
        "category": a.category,
        "urgency": a.urgency,
        "tags": a.tags,
    }


def _appeal_saying(title: str, content: str) -> Appeal:
    return Appeal(
        appeal_id="A", channel="hotline", source_id="A", title=title, content=content,
        received_at=T0, ingested_at=T0, appeal_type="求助",
        raw=RawRef(topic="raw.hotline", partition=0, offset=0),
    )  # fmt: skip


def _after_review_policy(appeal: Appeal, decision: ReviewDecision):
    refinement = refine(appeal.title, appeal.content, decision.category, decision.subcategory)
    assignment = after_review(appeal, decision, route, T0, refinement=refinement)
    again = assignment_in(Assignment.loads(assignment.dumps()))
    engine = SlaEngine.from_settings(SlaSettings())
    return assignment, engine.book.select(**_criteria(again)).key


def test_a_reviewed_emergency_keeps_the_emergency_time_limits():
    # Short emergency texts classify with low confidence, so they are the ones reviewed:
    # the reviewer's category must not put the department's case on 5 working days.
    appeal = _appeal_saying("求助", "家里煤气漏气了")
    assignment, policy = _after_review_policy(appeal, _decision(category="城乡建设"))
    assert assignment.urgency == "emergency"
    assert policy == "emergency"
    calm, policy = _after_review_policy(_appeal_saying("绿化", "小区绿化带被人种了菜"), _decision())
    assert calm.urgency is None and policy == "general"


def test_a_reviewed_outage_keeps_its_topic_and_the_outage_time_limits():
    appeal = _appeal_saying("停水", "我们小区从昨天开始停水，到现在还没来水")
    assignment, policy = _after_review_policy(appeal, _decision(category="城乡建设"))
    assert (assignment.subcategory, assignment.topic) == ("城市建设和市政管理", "自来水供应")
    assert policy == "outage"
    # the reviewer's own second level stands; a topic from another second level is dropped
    decision = _decision(category="城乡建设")
    decision.subcategory = "住房保障与房地产"
    assignment, policy = _after_review_policy(appeal, decision)
    assert (assignment.subcategory, assignment.topic) == ("住房保障与房地产", None)
    assert policy == "outage"  # the text reports a cut, whatever the reviewer's category
    assert assignment.tags == ["outage"]
    decision.tags = ["complex"]  # a reviewer's tag joins the text's
    assignment, _ = _after_review_policy(appeal, decision)
    assert assignment.tags == ["complex", "outage"]


def test_a_question_about_supply_gets_the_general_time_limits():
    # in the outage topic, but no cut: departments answer in days, with an extension
    appeal = _appeal_saying("集中供暖", "请问A市什么时候可以实现冬季集中供暖？")
    assignment, policy = _after_review_policy(appeal, _decision(category="城乡建设"))
    assert assignment.topic == "冬季采暖" and assignment.tags is None
    assert policy == "general"


def test_an_urgent_safety_appeal_gets_the_emergency_time_limits_a_routine_one_does_not():
    # the agent marked 紧急 on a work-safety hazard: the policies' second rule gives it hours
    appeal = _appeal_saying("安全隐患", "工地脚手架没有防护网，随时可能坠物伤人")
    decision = _decision(category="城乡建设")
    decision.subcategory = "安全生产"
    appeal.urgency = "urgent"
    assignment, policy = _after_review_policy(appeal, decision)
    assert assignment.urgency == "urgent" and policy == "emergency"
    appeal.urgency = None
    assert _after_review_policy(appeal, decision)[1] == "general"
    # urgent alone is no emergency outside the safety categories
    noisy = _appeal_saying("噪音", "楼上装修太吵")
    noisy.urgency = "urgent"
    assert _after_review_policy(noisy, _decision(category="环境保护"))[1] == "general"


def test_a_reviewed_emergency_no_rule_covers_goes_to_the_services_department():
    appeal = _appeal_saying("求助", "有人在撬我家门，快来人")
    appeal.district = "A市A3区"
    decision = _decision(category="城乡建设")
    refinement = refine(appeal.title, appeal.content, decision.category)
    assert refinement.emergency is not None and refinement.emergency.service == "110"
    plain = after_review(appeal, decision, route, T0, refinement=refinement)
    assert plain.lead_code == "a3.zf"  # 城乡建设 alone: the district government
    routed = after_review(appeal, decision, route, T0, refinement=refinement,
                          emergency_route=for_emergency)  # fmt: skip
    assert (routed.lead_code, routed.urgency, routed.rule_id) == ("a3.gaj", "emergency", "review")
    assert "A3区公安分局" in routed.rule_explanation


def _confirmed(service: str | None, reason: str | None = None) -> ReviewDecision:
    decision = _decision(category="城乡建设")
    decision.emergency_service, decision.emergency_reason = service, reason
    return decision


def test_a_confirmed_emergency_names_one_of_the_four_services():
    catalogue = load_catalogue()
    for service in ("110", "119", "120", "122"):
        assert check_decision(_confirmed(service, "老人倒地叫不醒"), catalogue) is None
    assert check_decision(_confirmed("120"), catalogue) is None  # a reason is optional
    bad = {
        "'112' is not one of": _confirmed("112"),
        "without emergency_service": _confirmed(None, "着火了"),
        "1 to 100 characters": _confirmed("119", "  "),
        "1 to 100 characters ": _confirmed("119", "火" * 101),
    }
    for message, decision in bad.items():
        with pytest.raises(IntakeError) as err:
            check_decision(decision, catalogue)
        assert err.value.code == ErrorCode.BAD_VALUE and message.strip() in err.value.reason
    # a department system that writes the number as a JSON number is understood
    wire = orjson.dumps({**orjson.loads(_confirmed("110").dumps()), "emergency_service": 110})
    decision = parse_json_record(wire, ReviewDecision, "review decision")
    assert decision.emergency_service == "110" and check_decision(decision, catalogue) is None


def test_a_reviewer_confirms_a_possible_emergency_transfer_first_then_emergency_limits():
    # the kind of text the emergency model sends to review: no rule reads it
    appeal = _appeal_saying("求助", "停车场有个男的拿着铁锤在追一个女的")
    appeal.district = "A市A3区"
    refinement = refine(appeal.title, appeal.content, "城乡建设")
    assert refinement.emergency is None
    decision = _confirmed("110", " 持锤追人 ")
    transfer = review_transfer(appeal, decision, refinement, T0)
    assert (transfer.service, transfer.reason, transfer.evidence) == (
        "110",
        "持锤追人",
        "人工复核：张审核",
    )
    assert (transfer.appeal_id, transfer.content, transfer.flagged_at) == ("A", appeal.content, T0)
    assignment = after_review(appeal, decision, route, T0, refinement=refinement,
                              emergency_route=for_emergency)  # fmt: skip
    assert (assignment.urgency, assignment.lead_code) == ("emergency", "a3.gaj")
    engine = SlaEngine.from_settings(SlaSettings())
    again = assignment_in(Assignment.loads(assignment.dumps()))
    assert engine.book.select(**_criteria(again)).key == "emergency"
    # without the service: no transfer, the general limits, as before
    plain = _decision(category="城乡建设")
    assert review_transfer(appeal, plain, refinement, T0) is None
    unconfirmed, policy = _after_review_policy(appeal, plain)
    assert (unconfirmed.urgency, policy) == (None, "general")
    # no reason given: the transfer says a reviewer confirmed it
    assert review_transfer(appeal, _confirmed("110"), refinement, T0).reason == "人工复核确认紧急"


def test_an_appeal_the_rules_transferred_is_not_transferred_twice_to_the_same_service():
    appeal = _appeal_saying("求助", "有人在撬我家门，快来人")
    refinement = refine(appeal.title, appeal.content, "城乡建设")
    assert refinement.emergency.service == "110"  # transferred at triage
    assert review_transfer(appeal, _confirmed("110"), refinement, T0) is None
    # the reviewer hears more (someone is hurt): the ambulance gets its own transfer
    transfer = review_transfer(appeal, _confirmed("120", "有人受伤"), refinement, T0)
    assert (transfer.service, transfer.reason) == ("120", "有人受伤")
    assignment = after_review(
        appeal, _confirmed("120", "有人受伤"), route, T0, refinement=refinement
    )
    assert assignment.urgency == "emergency"


def test_a_reviewer_dismisses_a_wrong_outage_or_emergency_flag():
    # the reviewer found the supply back on (a late report): no outage limits
    appeal = _appeal_saying("停水", "我们小区从昨天开始停水，到现在还没来水")
    decision = _decision(category="城乡建设")
    decision.dismissed = ["outage"]
    assignment, policy = _after_review_policy(appeal, decision)
    assert assignment.tags is None and policy == "general"
    decision.tags = ["complex"]  # the reviewer's own tags stay
    assignment, policy = _after_review_policy(appeal, decision)
    assert assignment.tags == ["complex"] and policy == "complex"

    # the rules flag an emergency the reviewer finds none: general limits, the rules' lead
    gas = _appeal_saying("求助", "家里煤气漏气了")
    gas.district = "A市A3区"
    refinement = refine(gas.title, gas.content, "城乡建设")
    assert refinement.emergency is not None
    decision = _decision(category="城乡建设")
    decision.dismissed = ["emergency"]
    assignment = after_review(gas, decision, route, T0, refinement=refinement,
                              emergency_route=for_emergency)  # fmt: skip
    assert assignment.urgency is None
    engine = SlaEngine.from_settings(SlaSettings())
    again = assignment_in(Assignment.loads(assignment.dumps()))
    assert engine.book.select(**_criteria(again)).key == "general"
    assert review_transfer(gas, decision, refinement, T0) is None
    kept = after_review(gas, _decision(category="城乡建设"), route, T0, refinement=refinement,
                        emergency_route=for_emergency)  # fmt: skip
    assert kept.urgency == "emergency"  # not dismissed: as before


def test_only_the_texts_flags_can_be_dismissed_and_not_also_set():
    catalogue, tags = load_catalogue(), load_policies(SlaSettings().policy_file).tags
    ok = _decision(category="城乡建设")
    ok.dismissed = ["emergency", "outage"]
    assert check_decision(ok, catalogue, tags) is None
    bad = {"cannot dismiss 'complex'": (["complex"], None, None),
           "list of strings": ("outage", None, None),
           "both dismissed and confirmed": (["emergency"], None, "119"),
           "both dismissed and given as a tag": (["outage"], ["outage"], None)}  # fmt: skip
    for message, (dismissed, given, service) in bad.items():
        decision = _decision(category="城乡建设")
        decision.dismissed, decision.tags, decision.emergency_service = dismissed, given, service
        with pytest.raises(IntakeError) as err:
            check_decision(decision, catalogue, tags)
        assert err.value.code == ErrorCode.BAD_VALUE and message in err.value.reason


def _review_clock(routine: str, emergency: str) -> ReviewClock:
    hours = WorkingHours.parse("09:00-12:00,13:30-17:30")
    return ReviewClock(
        Duration.parse(routine), Timebase(WorkingTime(WorkdayCalendar(), hours, TZ)), 0.8,
        hours.day_seconds, Duration.parse(emergency),
    )  # fmt: skip


def test_undated_appeals_wait_the_emergency_wait_when_a_request_flags_one():
    # appeals parked by a worker without review alerts, dated at the next worker start:
    # before, all got the routine 2 h, the flagged emergencies too
    transferred = ReviewRequest(**{**_request("GAS", 0).asdict(), "emergency": "119 燃气泄漏"})
    possible = ReviewRequest(**{**_request("HAMMER", 0).asdict(), "reason": "possible_emergency"})
    now = int(T0.timestamp())
    got = undated_deadlines(
        _review_clock("2h", "30m"), now, ["GAS", "HAMMER", "ROUTINE", "LOST"],
        [transferred, possible, _request("ROUTINE", 0)],  # LOST: its request left the topic
    )  # fmt: skip
    assert {aid: d.due_at - now for aid, d in got.items()} == {
        "GAS": 1800, "HAMMER": 1800, "ROUTINE": 7200, "LOST": 7200,
    }  # fmt: skip
    assert got["GAS"].warn_at == now + 1440
    # review alerts off for routine appeals: only the emergencies get a deadline
    only_urgent = _review_clock("0m", "30m")
    assert list(undated_deadlines(only_urgent, now, ["GAS", "ROUTINE"], [transferred])) == ["GAS"]
