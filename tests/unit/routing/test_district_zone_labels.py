"""Zone labels are not districts: 区域/区间/区块, and a car park's bare ``B2区``.

The tests marked as bugs failed on the code before the fix: the district regex had no
right-hand boundary and the first text with any match decided, so a car park's ``B2区`` in a
title made an A3区 complaint an out-of-area transfer to B市.
"""

from __future__ import annotations

import pytest

from routing.catalogue import load_catalogue
from routing.dispatch import OUT_OF_AREA_RULE_ID, Router
from routing.district import District, extract_district

A3 = District("A市", "A3区")


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_catalogue())


# --- the right-hand boundary (bug) -----------------------------------------------------


@pytest.mark.parametrize(
    "texts",
    [
        (None, "A3区域停车", "小区A3区域车位"),  # was A市A3区
        ("C2区间隧道渗水",),
        ("停车场B3区块划线不清",),
        ("A9市场里卖假货",),  # 市场 is a market, not the county-level city A9市
    ],
)
def test_a_zone_word_after_the_name_is_no_district(texts):
    assert extract_district(*texts) is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("A3区某小区停水", A3),
        ("A3区的路灯坏了", A3),
        ("A3区，某小区停水", A3),
        ("A3区人民政府", A3),
        ("A3区教育局", A3),
        ("A3区间歇性停水", A3),  # 间歇: intermittent, no 区间
        ("A7县城两边", District("A市", "A7县")),
        ("A9市市场监督管理局", District("A市", "A9市")),
        ("2008年由A6区划归A3区管辖", District("A市", "A6区")),  # a tie: the first mention
    ],
)
def test_what_follows_a_real_district_name_is_left_alone(text, expected):
    assert extract_district(text) == expected


# --- a bare zone label yields to a district backed up elsewhere (bug) -----------------


@pytest.mark.parametrize(
    "texts",
    [
        (None, "地下车库B2区长期积水", "我家住A3区某小区"),  # was B市B2区: the title decided
        ("地下车库B2区长期积水，我家住A3区某小区",),  # was B市B2区: a tie, first mention
        ("我家住A3区某小区，地下车库B2区长期积水",),
        (None, "地下车库B2区积水", "A市A3区某小区"),
    ],
)
def test_a_car_park_zone_yields_to_the_district_of_the_catalogue(texts):
    assert extract_district(*texts) == A3


def test_a_car_park_zone_yields_to_the_city_the_address_names():
    # was B市B2区: an A市 appeal became another city's
    got = extract_district("A市某小区", "地下车库B2区长期积水", "积水一个月了")
    assert got == District("A市", None)


def test_the_city_backs_its_own_districts_without_a_catalogue():
    texts = (None, "地下车库B2区积水", "我家住A市A3区某小区")
    assert extract_district(*texts, known=()) == A3
    assert extract_district(None, "地下车库B2区积水", "我家住A3区", known=()).name == "B市B2区"
    assert extract_district(None, "地下车库B2区积水", "我家住A3区", known={"A市A3区"}) == A3


def test_a_bare_district_alone_or_another_citys_county_still_counts():
    # nothing better in sight: taken as it stands, as before
    assert extract_district("地下车库B2区长期积水") == District("B市", "B2区")
    assert extract_district("K2区福善村", "K4县人") == District("K市", "K2区")
    # counties (县) and county-level cities (市) are no zone labels: another city's county
    # in the title still decides over A市 named in passing, and over a catalogue district
    assert extract_district("F5县平安驾校", "比A市贵了好多") == District("F市", "F5县")
    assert extract_district(None, "反映C4市露天焚烧", "回到A8县") == District("C市", "C4市")


def test_the_router_keeps_an_a3_complaint_with_a_car_park_zone_in_the_city(router):
    title, content = "地下车库B2区长期积水", "我家住A3区某小区，车库积水一个月了"
    decision = router.route(title, content)
    assert decision.rule_id != OUT_OF_AREA_RULE_ID
    assert decision.district == A3 and decision.lead.code.startswith("a3.")
    # and the district the intake stores on the appeal says the same
    assert extract_district(None, title, content).name == "A市A3区"
