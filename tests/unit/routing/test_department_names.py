"""Department names in replies: recognition, normalisation and the principal department."""

from __future__ import annotations

import pytest

from routing.catalogue import load_catalogue
from routing.department_names import (
    find_mentions,
    mine_names,
    normalise_name,
    principal_department,
)


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("A2区住建局", "zjj"),
        ("A2区住房和城乡建设局", "zjj"),
        ("市住建委", "zjj"),
        ("A7县城乡建设行政执法大队", "cgj"),
        ("A7县城市管理和行政执法局", "cgj"),
        ("县人社局", "rsj"),
        ("A市卫计委", "wjw"),
        ("A4区工商分局", "scj"),
        ("泉塘街道办事处", "jd"),
        ("A5区交警大队", "jj"),
        ("某某科技有限公司", None),
    ],
)
def test_aliases_normalise_to_one_kind(cat, name: str, kind: str | None) -> None:
    assert normalise_name(name, cat) == kind


def test_mentions_carry_level_and_unit(cat) -> None:
    # Province departments (…厅) are no kind's alias; the province government is, as "province".
    text = "经A7县教育局调查，市住建局、区城管局与西地省人民政府已处理。"
    found = [(m.text, m.kind, m.level, m.unit) for m in find_mentions(text, cat)]
    assert found == [
        ("A7县教育局", "jyj", "district", "A7县"),
        ("市住建局", "zjj", "city", None),
        ("区城管局", "cgj", "district", None),
        ("西地省人民政府", "zf", "province", None),
    ]


def test_masked_county_city_prefix_is_the_county(cat) -> None:
    (m,) = find_mentions("A8县市住房和城乡建设局已处理", cat)
    assert (m.kind, m.level, m.unit) == ("zjj", "district", "A8县")


def test_names_in_cited_documents_are_skipped(cat) -> None:
    assert find_mentions("根据《A市教育局关于招生的通知》执行", cat) == []


def test_signature_is_the_principal(cat) -> None:
    reply = "您好！经查，已联系市交警支队协助。感谢支持。A7县城市管理和行政执法局 2013年9月5日"
    p = principal_department(reply, cat)
    assert (p.kind, p.unit) == ("cgj", "A7县")


def test_handling_cue_beats_an_earlier_passing_mention(cat) -> None:
    reply = "学校根据A市教育局的安排放假。经A4区城管执法大队调查，摊点已取缔。"
    p = principal_department(reply, cat)
    assert p.text == "A4区城管执法大队"


def test_policy_bodies_never_count_and_self_references_give_none(cat) -> None:
    assert principal_department("依据A市人民政府文件，我局已处理。", cat) is None
    assert principal_department("西地省教育厅规定如下，我局将落实。", cat) is None
    p = principal_department("依据A市人民政府文件，由A3区人民政府组织处理。", cat)
    assert (p.kind, p.unit) == ("zf", "A3区")


def test_miner_counts_names_and_drops_self_references() -> None:
    counts = mine_names(
        ["感谢您对我局的支持，经A2区住建局调查，目前我局已转市人社局。", "A2区住建局"]
    )
    assert counts == {"A2区住建局": 2, "市人社局": 1}


def test_cited_authors_are_not_handlers(cat) -> None:
    # A body named as the author of a document or rule did not handle the appeal.
    assert principal_department("根据A7县人民政府长县政纪〔2015〕36号文件执行。", cat) is None
    assert principal_department("A市物价局长价商【2014】92号文规定，储值卡面值…", cat) is None
    assert principal_department("A4区人社局、A4区财政局联合发文规定工资标准。", cat) is None
    p = principal_department("A8县市教育局联合发文后，经A8县市教育局调查处理。", cat)
    assert p.kind == "jyj"


def test_bare_mentions_give_no_reference_but_towns_speak_for_themselves(cat) -> None:
    # A referral is not a handler: 可联系司法局 says nothing of who replied.
    assert principal_department("法律援助可联系司法局，服务热线12348。", cat) is None
    p = principal_department("经核实，我镇已组织村委会修复路面。2015年6月4日", cat)
    assert p.kind == "jd" and p.level == "street"
    p = principal_department("由黄花镇政府牵头，联合整治。", cat)
    assert p.kind == "jd"


def test_signature_may_carry_a_phone_number(cat) -> None:
    reply = "特此回复！县医保中心电话  0000-00000000  2018年1月22日"
    p = principal_department(reply, cat)
    assert p.kind == "ybj"


@pytest.mark.parametrize(
    ("reply", "kind", "unit"),
    [
        # The day's 日 lost in the export: still a signed reply.
        ("感谢您的关心。 A7县环境保护局 2014年2月26", "hbj", "A7县"),
        # Dates in Chinese numerals (二O一三年, 二〇一三年).
        ("我局已处理。A7县交通运输局二O一三年八月四日", "jtj", "A7县"),
        ("欢迎致电。A7县城市管理和行政执法局 二〇一三年十一月二十七日", "cgj", "A7县"),
    ],
)
def test_signatures_with_other_date_forms(cat, reply: str, kind: str, unit: str) -> None:
    p = principal_department(reply, cat)
    assert (p.kind, p.unit) == (kind, unit)


def test_referral_is_not_a_handler_even_before_a_cue_word(cat) -> None:
    # 将 after the name is 把 here: the citizen is sent to the notary, who handles nothing.
    reply = "我支队高度重视。非中文表述的，还需到B市公证处将境外驾驶证翻译中文文本。"
    assert principal_department(reply, cat) is None
    p = principal_department("请向区人社局咨询。经A3区城管执法大队调查，已取缔。", cat)
    assert p.kind == "cgj"


def test_directed_department_handles(cat) -> None:
    # The district government hands the matter on: the department it directs handles it.
    p = principal_department("经查，A4区政府已责成区市政局牵头，区城乡建设局配合选址。", cat)
    assert (p.kind, p.level) == ("cgj", "district")
    p = principal_department("区政府高度重视，立即要求A3区住建局调查处理。", cat)
    assert p.kind == "zjj"
    # Without a directive the government itself stays the principal.
    p = principal_department("A4区政府高度重视，区住建局也派人查看。", cat)
    assert p.kind == "zf"


def test_a_list_shares_its_cue_and_its_head_is_the_principal(cat) -> None:
    p = principal_department("你所反映的问题已转交至环保局、国土局调查办复。", cat)
    assert p.kind == "hbj"
    p = principal_department("我镇政府与县交通局核实之后，答复如下。", cat)
    assert p.kind == "jd"


def test_town_party_committee_and_government_answer_as_a_town(cat) -> None:
    p = principal_department(
        "大圩镇党委政府高度重视，立即组织人员核实。该路由交通运输局修复。", cat
    )
    assert (p.kind, p.level) == ("jd", "street")
    assert normalise_name("大水田乡党委政府", cat) == "jd"


@pytest.mark.parametrize(
    ("name", "kind"),
    [("市文旅广电局", "wlj"), ("M5市应急局", "yjj"), ("乡党委", "jd")],
)
def test_short_names_added_to_the_catalogue(cat, name: str, kind: str) -> None:
    assert normalise_name(name, cat) == kind


def test_a_street_named_without_its_office_suffix_handles(cat) -> None:
    p = principal_department("您的留言已收悉。经洞井街道调查了解，现将有关情况回复如下。", cat)
    assert (p.kind, p.level) == ("jd", "street")
    p = principal_department("A3区洋湖街道高度重视，立即组织精干力量调查处理。", cat)
    assert p.kind == "jd"


@pytest.mark.parametrize(
    "reply",
    [
        # Streets named as addresses are not offices acting on the appeal.
        "该户系K1区石山脚街道办事处黄泥桥社区十一组居民，已转区住建局核实。",
        "由户口所在地的街道办事处负责摸底造册，区住建局已核实。",
        "楚龙街道范围内的拆迁户均可认筹，区住建局已核实。",
    ],
)
def test_streets_named_as_addresses_are_not_handlers(cat, reply: str) -> None:
    assert principal_department(reply, cat).kind == "zjj"
