"""Assignment event round-trip and evaluation definitions."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest

from config.data import DATA_DIR
from models.assignment import Assignment
from routing.assignment_event import assignment_from_decision
from routing.catalogue import load_catalogue
from routing.dispatch import Router, route
from routing.district import District
from routing.evaluation import (
    ReplyCase,
    dispatch_target,
    evaluate,
    kinds_match,
    load_replies,
    reference_for,
    split_of,
)

SHANGHAI = timezone(timedelta(hours=8))


def test_assignment_round_trips_through_json() -> None:
    # Rules only: the shipped kind model may send street-level matters to the district.
    decision = Router(load_catalogue()).route("A7县泉塘街道小区物业问题", "物业不作为")
    event = assignment_from_decision(
        decision,
        appeal_id="hotline-42",
        assigned_at=datetime(2024, 5, 1, 9, 30, tzinfo=SHANGHAI),
        hop=2,
        category="城乡建设",
        category_confidence=0.91,
    )
    back = Assignment.loads(event.dumps())
    assert back.assignment_id == "hotline-42#2"
    assert back.lead_code == "a7.zjj" and back.rule_id == "property-management"
    assert back.assisting[0].code == "a7.jd12"
    assert back.assigned_at.utcoffset() == timedelta(hours=8)
    assert back.district == "A市A7县"


def test_assignment_requires_aware_time_and_positive_hop() -> None:
    decision = route("", "")
    with pytest.raises(ValueError, match="timezone-aware"):
        assignment_from_decision(decision, appeal_id="x", assigned_at=datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="hop"):
        assignment_from_decision(decision, appeal_id="x", assigned_at=datetime.now(SHANGHAI), hop=0)


def test_split_is_stable_and_roughly_half() -> None:
    ids = [str(i) for i in range(2000)]
    tests = sum(split_of(i) == "test" for i in ids)
    assert 900 < tests < 1100
    assert [split_of(i) for i in ids[:50]] == [split_of(i) for i in ids[:50]]


def test_match_definitions() -> None:
    assert kinds_match("zf", "jd") and kinds_match("jd", "zf")
    assert kinds_match("zjj", "zjj") and not kinds_match("zjj", "cgj")
    assert dispatch_target("zjj", "A3区", "A市") == dispatch_target("jd", "A3区", "A市")
    assert dispatch_target("rsj", "A市", "A市") != dispatch_target("gaj", "A市", "A市")


def test_reference_units_resolve_against_the_appeal() -> None:
    cat = load_catalogue()
    a7 = District("A市", "A7县")
    assert reference_for("经县教育局调查，情况属实。", a7, cat).unit == "A7县"
    assert reference_for("经市教育局调查，情况属实。", a7, cat).unit == "A市"
    # In a county-level city 市教育局 may be either level: left unknown.
    assert reference_for("经市教育局调查。", District("A市", "A9市"), cat).unit is None


def test_evaluate_scores_in_city_fully_and_other_cities_by_kind() -> None:
    cases = [
        ReplyCase("1", "A4区夜宵摊油烟扰民", "", "经A4区城管执法大队调查，已整改。"),
        ReplyCase("2", "A4区夜宵摊油烟扰民", "", "经A4区教育局调查。"),
        ReplyCase("3", "A4区某事", "", "我局已处理。"),
        ReplyCase("4", "K市物业问题", "", "经K市住建局调查。"),
        ReplyCase("5", "K市学校乱收费", "", "可联系K市教育局咨询。"),  # bare mention: no reference
    ]
    report = evaluate(cases, Router(load_catalogue()))
    assert report.out_of_area == 1 and report.no_reference == 2
    # K市's 住建局 is still a 住建 kind: the property rule's kind matches it.
    assert (report.other_places.scored, report.other_places.kind_matches) == (1, 1)
    assert report.summary()["all_places"] == {"scored": 3, "kind_accuracy": round(2 / 3, 4)}
    tally = report.keywords_only
    assert (tally.scored, tally.kind_matches, tally.unit_matches, tally.target_matches) == (
        2,
        1,
        1,
        2,
    )
    assert report.summary()["keywords_and_district"]["kind_accuracy"] == 0.5


def test_replies_saved_from_excel_with_the_competitions_headers_read_the_same(tmp_path) -> None:
    cases = load_replies(DATA_DIR / "replies.csv")[:50]
    path = tmp_path / "附件4.csv"
    with path.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见"])
        w.writerows([c.id, "A00", c.title, "", c.content, c.reply] for c in cases)
    assert load_replies(path) == cases
