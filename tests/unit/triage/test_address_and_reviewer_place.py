"""The appeal's address reaches the router, and a reviewer's department places the appeal.

Bugs fixed (the tests failed before): ``route_request`` never passed the address, so a
street or town named only there was ignored; and a reviewer's department kept the routed
district and its assisting departments (a5.zjj for an A3区 appeal kept A3区 and its street
a3.jd02; a3.jd02 chosen as lead was listed as assisting too).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from models.appeal import Appeal, RawRef
from models.classification import Classification
from models.review import ReviewDecision
from routing.catalogue import load_catalogue
from routing.dispatch import for_emergency, route, route_batch
from routing.district import District
from triage.outcome import after_review, decide, decide_batch, reviewed_place, route_request
from triage.review_queue import check_decision

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
CATALOGUE = load_catalogue()


def _appeal(title: str, content: str, district=None, address=None) -> Appeal:
    return Appeal(
        appeal_id="HL-1", channel="hotline", source_id="1", received_at=T0, appeal_type="投诉",
        title=title, content=content, raw=RawRef(topic="raw.hotline", partition=0, offset=1),
        ingested_at=T0, address=address, district=district,
    )  # fmt: skip


def _classified(category: str = "城乡建设") -> Classification:
    return Classification(
        appeal_id="HL-1", category=category, confidence=0.9, alternatives=[],
        needs_review=False, model_version="test", classified_at=T0,
    )  # fmt: skip


def _codes(assignment) -> list[str]:
    return [a.code for a in assignment.assisting or ()]


# --- the address (bug) ------------------------------------------------------------------

NOISY = _appeal(
    "工地夜间施工噪音扰民", "楼下工地每晚施工到凌晨，噪音扰民", "A市", "A市学士街道枫林路8号"
)


def test_the_route_request_carries_the_address():
    assert route_request(NOISY, _classified())[6] == "A市学士街道枫林路8号"


def test_a_street_named_only_in_the_address_places_the_appeal_and_assists():
    one = decide(NOISY, _classified(), route, T0).assignment
    # was a.cgj in A市 with no street: the address never reached the router
    assert (one.district, "a3.jd03" in _codes(one)) == ("A市A3区", True)
    assert one.lead_code.startswith("a3.")
    batch = decide_batch([(NOISY, _classified())], route_batch, T0)[0].assignment
    assert (batch.lead_code, batch.district, _codes(batch)) == (
        one.lead_code,
        one.district,
        _codes(one),
    )


# --- the reviewer's department (bug) -------------------------------------------------------

NEAR_SITE = _appeal(
    "A3区坪塘街道某小区噪音", "A3区坪塘街道某小区楼下工地夜间施工噪音扰民", "A市A3区"
)


def _after(appeal: Appeal, department: str | None, **kw):
    decision = ReviewDecision(
        appeal_id="HL-1", decision_id="D-1", reviewer="张审核", category="城乡建设",
        decided_at=T0, department_code=department, **kw,
    )  # fmt: skip
    lead = check_decision(decision, CATALOGUE, {"complex", "outage"})  # never refused
    return after_review(appeal, decision, route, T0, lead=lead, emergency_route=for_emergency)


def test_without_a_department_the_routed_street_assists():
    a = _after(NEAR_SITE, None)
    assert (a.lead_code, _codes(a), a.district) == ("a3.zf", ["a3.jd02"], "A市A3区")


def test_the_reviewers_lead_is_never_also_assisting():
    a = _after(NEAR_SITE, "a3.jd02")
    assert (a.lead_code, _codes(a), a.district) == ("a3.jd02", [], "A市A3区")  # was [a3.jd02]


def test_a_department_of_another_district_moves_the_appeal_there():
    a = _after(NEAR_SITE, "a5.zjj")
    # was district A市A3区 with a3.jd02 assisting
    assert (a.lead_code, a.district) == ("a5.zjj", "A市A5区")
    assert not any(code.startswith("a3.") for code in _codes(a))
    assert "A市A5区" in a.rule_explanation


def test_a_department_of_another_district_brings_that_districts_street():
    # the text names 洞井街道 (A5区), the stored district says A3区: the reviewer corrects it
    appeal = _appeal("洞井街道某小区噪音", "洞井街道某小区楼下工地夜间施工噪音扰民", "A市A3区")
    a = _after(appeal, "a5.cgj")
    assert (a.lead_code, a.district, _codes(a)) == ("a5.cgj", "A市A5区", ["a5.jd04"])


def test_a_city_department_keeps_the_routed_district_and_its_street():
    a = _after(NEAR_SITE, "a.cgj")
    assert (a.lead_code, a.district, _codes(a)) == ("a.cgj", "A市A3区", ["a3.jd02"])


def test_a_city_department_for_another_citys_appeal_places_it_in_the_city():
    appeal = _appeal("B2区某小区噪音", "B市B2区某小区工地夜间施工噪音扰民", "B市B2区")
    assert _after(appeal, None).district == "B市B2区"
    assert _after(appeal, "a.cgj").district == "A市"
    moved = _after(appeal, "a5.zjj")
    assert (moved.lead_code, moved.district) == ("a5.zjj", "A市A5区")


@pytest.mark.parametrize(
    "code,routed,expected",
    [
        ("a3.zjj", District("A市", "A3区"), District("A市", "A3区")),
        ("a5.zjj", District("A市", "A3区"), District("A市", "A5区")),
        ("a5.zjj", None, District("A市", "A5区")),
        ("a.gaj", District("A市", "A3区"), District("A市", "A3区")),
        ("a.gaj", District("A市", None), District("A市", None)),
        ("a.gaj", None, District("A市", None)),
        ("a.gaj", District("B市", "B2区"), District("A市", None)),
        ("a5.zjj", District("B市", "B2区"), District("A市", "A5区")),
    ],
)
def test_the_place_a_reviewers_department_gives(code, routed, expected):
    assert reviewed_place(CATALOGUE.department(code), routed, CATALOGUE) == expected
