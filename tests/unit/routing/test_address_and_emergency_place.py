"""The address places an appeal, and an emergency's follow-up does not depend on whether
its district is known.

Bugs fixed (the tests marked so failed before): the router read a street or town only in
the title and content, never in the work order's address; and an emergency with no known
district kept a rule that had only stood in for the 属地 verdict (持刀伤人 in a 小区 →
城管 without a district, 公安 with one).
"""

from __future__ import annotations

import pytest

from routing.catalogue import load_catalogue
from routing.dispatch import EMERGENCY_RULE_ID, Router
from routing.district import District
from routing.kind_model import load_kind_model

A3 = District("A市", "A3区")
NOISE = ("工地夜间施工噪音扰民", "楼下工地每晚施工到凌晨，噪音扰民")


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_catalogue())


@pytest.fixture(scope="module")
def with_model() -> Router:
    return Router(load_catalogue(), load_kind_model())


def _codes(decision) -> list[str]:
    return [d.code for d in decision.assisting]


# --- the address (bug) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "district,address",
    [
        ("A市", "A市学士街道枫林路8号"),  # was a.cgj, district A市: the street unread
        (None, "学士街道枫林路8号"),  # was a.cgj, no district
        ("A市A3区", "A市A3区学士街道枫林路8号"),  # was a3.cgj with no street assisting
    ],
)
def test_a_street_in_the_address_places_the_appeal_and_assists(router, district, address):
    d = router.route(*NOISE, district=district, address=address)
    assert (d.lead.code, d.district, _codes(d)) == ("a3.cgj", A3, ["a3.jd03"])
    # as it would if the text named it
    named = router.route("学士街道" + NOISE[0], NOISE[1], district=district)
    assert (named.lead.code, named.district, _codes(named)) == ("a3.cgj", A3, ["a3.jd03"])


def test_the_address_comes_before_the_text_for_the_street(router):
    # 学士街道 (A3区) in the address, 洞井街道 (A5区) in the content: the work order's address
    d = router.route(NOISE[0], NOISE[1] + "，我在洞井街道上班", address="学士街道枫林路8号")
    assert (d.district, _codes(d)) == (A3, ["a3.jd03"])
    assert router.locate(NOISE[0], NOISE[1] + "，洞井街道", address="学士街道8号") == A3


def test_the_address_is_read_for_the_place_not_for_keywords(router):
    plain = router.route("请问一下", "有事咨询", district="A市A3区")
    with_address = router.route("请问一下", "有事咨询", district="A市A3区", address="城管大队旁")
    assert (with_address.rule_id, with_address.matched_keywords) == (
        plain.rule_id,
        plain.matched_keywords,
    )


def test_batch_routing_reads_the_address_as_one_appeal_at_a_time(with_model):
    items = [
        (*NOISE, None, None, "A市", None, "A市学士街道枫林路8号"),
        (
            "小区停水三天了",
            "小区停水三天了，没人管",
            "城乡建设",
            None,
            "A市",
            0.9,
            "A市洞井街道某小区",
        ),
        (*NOISE,),
    ]
    batch = with_model.route_batch(items)
    one = [
        with_model.route(*item[:5], category_confidence=item[5], address=item[6])
        if len(item) > 2
        else with_model.route(*item)
        for item in items
    ]
    assert batch == one
    assert batch[0].district == A3 and "a3.jd03" in _codes(batch[0])
    assert batch[1].district == District("A市", "A5区")


# --- emergencies without a district (bug) -------------------------------------------------

STABBING = ("有人持刀", "有人在小区里持刀伤人", "110", "暴力侵害")
FIRE = ("小区着火", "小区里一辆车起火了，火势很大", "119", "火灾")


@pytest.mark.parametrize("which", ["router", "with_model"])
@pytest.mark.parametrize(
    "case,kind", [(STABBING, "gaj"), (FIRE, "yjj")], ids=["110-stabbing", "119-fire"]
)
def test_an_emergencys_follow_up_kind_does_not_depend_on_the_district(request, which, case, kind):
    r = request.getfixturevalue(which)
    title, content, service, reason = case
    sub = "城市建设和市政管理"  # read from 小区 by the classifier, not a cause
    follow_ups = {}
    for district in (None, "A市A3区", "A市A5区"):
        d = r.route(title, content, "城乡建设", sub, district, category_confidence=0.7)
        e = r.for_emergency(d, service, reason, sub)
        follow_ups[district] = (e.lead.code, e.rule_id)
    assert follow_ups == {
        None: (f"a.{kind}", EMERGENCY_RULE_ID),  # was a.cgj (城管), the stand-in rule
        "A市A3区": (f"a3.{kind}", EMERGENCY_RULE_ID),
        "A市A5区": (f"a5.{kind}", EMERGENCY_RULE_ID),
    }


def test_a_rule_standing_in_for_the_local_verdict_is_marked(router):
    title, content, *_ = STABBING
    d = router.route(title, content, "城乡建设", "城市建设和市政管理", category_confidence=0.7)
    assert (d.rule_id, d.stand_in, d.district) == ("city-management", True, None)
    placed = router.route(title, content, "城乡建设", "城市建设和市政管理", "A市A3区",
                          category_confidence=0.7)  # fmt: skip
    assert (placed.rule_id, placed.stand_in) == ("urban-rural-local", False)
    # a rule that wins outright is no stand-in, district or not
    assert not router.route("井盖丢失", "下水道井盖没了").stand_in


def test_a_stand_in_rule_backed_by_keywords_of_the_text_keeps_the_emergency(router):
    # 垃圾站 is the city management's word: the text itself chose the department
    d = router.route("求助", "小区垃圾站旁边有人持刀", "城乡建设", category_confidence=0.9)
    assert d.stand_in and d.rule_id == "city-management" and d.matched_keywords
    assert router.for_emergency(d, "110", "暴力侵害") == d


def test_a_sub_category_still_backs_a_rule_that_won_on_its_own_without_a_district(router):
    # the lift's inspector: the sub-category chose it, no 属地 verdict was displaced
    d = router.route("求助", "电梯里困了人", "商贸旅游", "质监检验检疫", category_confidence=0.9)
    assert d.district is None and not d.stand_in
    assert router.for_emergency(d, "119", "人员被困", "质监检验检疫") == d
