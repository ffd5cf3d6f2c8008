"""Edge cases of the router's pure text functions with the input citizens really produce.

Found by probing ``routing.district``, ``routing.text``, ``routing.keyword_index`` and
``routing.department_names`` with traditional and full-width text, masked data, emoji and
districts named in odd places. The tests marked as bugs failed on the code before their
fix; the others pin what was probed and found right.
"""

from __future__ import annotations

import pytest

from routing.catalogue import load_catalogue
from routing.department_names import find_mentions, mine_names, principal_department
from routing.dispatch import Router
from routing.district import District, extract_district
from routing.keyword_index import KeywordIndex
from routing.text import router_text


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_catalogue())


A3 = District("A市", "A3区")


# --- districts: traditional and full-width forms (bug) --------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("A市A3區小區物業亂收費", A3),  # was A市 alone: 區 is no 区
        ("A7縣泉塘街道", District("A市", "A7县")),
        ("Ａ市Ａ３区小区物业乱收费", A3),  # was None
        ("Ａ３区", A3),
        ("A３区", A3),  # was District('A市', 'A３区'), a district no catalogue knows
        ("Ａ３區", A3),
        ("Ｂ市的路灯不亮", District("B市", None)),
    ],
)
def test_traditional_and_full_width_district_names_are_read(text, expected):
    assert extract_district(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        # bug: the replies write J10 县 (40 times, never J10县): the appeal was J市 alone
        ("400多户业主多次向J10 县政府反应", District("J市", "J10县")),
        ("A市A3 区某小区停水", A3),  # was A市 alone
        ("A3\u3000区", A3),  # an ideographic space, as typed raw
    ],
)
def test_a_space_before_the_suffix_is_dropped_from_the_name(text, expected):
    assert extract_district(text) == expected


@pytest.mark.parametrize("text", ["A3  区", "A3 区域", "A9 市场", "北辰三角洲c2区3栋"])
def test_no_district_across_two_spaces_a_zone_word_or_a_lower_case_letter(text):
    assert extract_district(text) is None


def test_a_traditional_address_decides_over_a_district_in_the_body():
    # the address is searched first; written in traditional characters it was skipped and
    # the district the body mentions in passing won
    got = extract_district("A市A3區某小區", "物业乱收费", "我在A5区上班,回家发现物业乱收费")
    assert got == A3


@pytest.mark.parametrize(
    "title",
    ["A市A3區小區物業亂收費", "Ａ市Ａ３区小区物业乱收费", "A市A３区小区物业乱收费"],
)
def test_the_district_intake_stores_routes_to_the_district_department(router, title):
    # The pipeline: intake stores extract_district(address, title, content).name on the
    # appeal and the router takes it as given. "A市" alone sent these to the city's
    # housing bureau (a.zjj) although the text names A3区.
    place = extract_district(None, title, "")
    decision = router.route(title, "", district=place.name if place else None)
    assert (decision.lead.code, decision.district) == ("a3.zjj", A3)


def test_known_real_district_names_keep_their_own_city(monkeypatch):
    # bug: the city was the district name's first character + 市 (芙蓉区 → 芙市)
    import routing.district as district

    monkeypatch.setitem(district.KNOWN_DISTRICTS, "芙蓉区", ("长沙市", "芙蓉区"))
    monkeypatch.setitem(district.KNOWN_DISTRICTS, "长沙县", ("长沙市", "长沙县"))
    assert extract_district("长沙市芙蓉区五一大道") == District("长沙市", "芙蓉区")
    assert extract_district("长沙县星沙街道", "芙蓉区", "芙蓉区") == District("长沙市", "长沙县")
    assert extract_district("芙蓉區五一大道") == District("长沙市", "芙蓉区")  # traditional
    # a masked and a real name in one text: the most mentioned wins, as for masked ones
    assert extract_district("芙蓉区,A3区,A3区") == A3


# --- districts: probed and found right ----------------------------------------------


@pytest.mark.parametrize(
    "texts,expected",
    [
        (("A市", "A3区小区停水"), A3),  # the city in the address, the district in the title
        ((None, "A3区小区停水", "内容里写的是A5区"), A3),  # the title before the content
        ((None, "", "A5区和A3区交界处,A3区这边积水"), A3),  # the most mentioned
        ((None, "", "A3区和A5区交界处积水"), A3),  # a tie: the first mention
        ((None, "***", "A8县市某镇"), District("A市", "A8县")),  # county renamed a city
        (("B市", "A3区"), A3),  # the first text with a district decides
        (("XA3区", "12345", "😀😀"), None),  # part of another code; numbers; emoji
        (("***", "A市***小区", None), District("A市", None)),  # masked: only the city
        ((None, None, ""), None),
        (("A123区",), None),
    ],
)
def test_district_positions_and_masking(texts, expected):
    assert extract_district(*texts) == expected


def test_a_district_only_in_the_title_routes_to_the_district(router):
    decision = router.route("A3区小区物业乱收费", "业主投诉无门,请尽快处理")
    assert decision.district == A3 and decision.lead.code == "a3.zjj"


# --- never a crash on odd text --------------------------------------------------------


ODD = [
    "",
    "***",
    "12345",
    "１２３４５",
    "!!!???。。。",
    "😀" * 20,
    "\ud800",
    "《" * 50,
    "A" * 5000,
    "經A2區住建局調查" * 200,
]


@pytest.mark.parametrize("text", ODD)
def test_odd_text_never_crashes_the_router_text_functions(router, text):
    catalogue = router.catalogue
    assert router_text(text) == router_text(router_text(text))
    extract_district(text, text, text)
    KeywordIndex(["物业", "A3区", ""]).found_in(text)
    find_mentions(text, catalogue)
    principal_department(text, catalogue)
    mine_names([text, None])
    router.route(text, text)  # documented: never raises on bad text
    router.locate(text, text, text)


def test_router_text_folds_width_traditional_characters_and_variation_selectors():
    assert router_text("A3區小區物業") == "A3区小区物业"
    assert router_text(None) == ""
    # as the classifier reads them: full-width letters and digits were left as they were,
    # and missed the catalogue's keywords (拨打１１０) and the kind model's n-grams
    assert router_text("Ａ３区拨打１１０") == "A3区拨打110"
    assert router_text("噪\ufe0f音扰民\U000e0100") == "噪音扰民"
    assert router_text("A3区小区物业，噪音扰民。") == "A3区小区物业,噪音扰民。"  # as normalise


# --- full-width text and numbers as keywords (bugs) -------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "A3区凯特梅溪紫郡周边化工厂污染太大了！",
        "报警电话110打不通，派出所也不管",
        "A3区小区物业乱收费",
    ],
)
def test_full_width_letters_and_digits_route_as_half_width_ones(router, title):
    # the environment complaint went to the district government, the police one lost its
    # 110 keyword: 2.5 % of the held-out appeals changed department typed full-width
    wide = title.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert wide != title
    half, full = router.route(title, ""), router.route(wide, "")
    assert (full.lead.code, full.rule_id, full.matched_keywords) == (
        half.lead.code, half.rule_id, half.matched_keywords,
    )  # fmt: skip


def test_110_inside_a_quantity_is_no_police_matter(router):
    decision = router.route("A市和顺洋湖壹号小区建110千伏变电站，不顾老百姓生死", "")
    assert "110" not in decision.matched_keywords and decision.rule_id != "public-security"
    assert "110" in router.route("打了110也没人管", "").matched_keywords
