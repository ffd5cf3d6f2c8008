"""Routing decisions: rules, district resolution, assisting departments and fallbacks."""

from __future__ import annotations

import pytest

from routing.catalogue import load_catalogue
from routing.dispatch import MODEL_RULE_ID, OUT_OF_AREA_RULE_ID, Router, route
from routing.district import District


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_catalogue())


def test_property_dispute_goes_to_district_housing_bureau_with_the_street(router) -> None:
    d = router.route("A7县泉塘街道某小区物业乱收费", "物业公司乱收停车费，业委会不管")
    assert (d.lead.code, d.lead.name) == ("a7.zjj", "A7县住房和城乡建设局")
    assert [a.code for a in d.assisting] == ["a7.jd12"]
    assert d.assisting[0].name == "A7县泉塘街道办事处"
    assert d.rule_id == "property-management"
    assert "住建" in d.explanation
    assert not d.fallback and 0 < d.confidence < 1
    assert "物业" in d.matched_keywords


def test_title_outweighs_incidental_content_words(router) -> None:
    d = router.route("投诉A3区某小学违规补课收费", "学校寒假组织补课，家长反映附近道路拥堵")
    assert d.lead.code == "a3.jyj"
    assert d.rule_id == "education"


def test_city_level_rule_ignores_district(router) -> None:
    d = router.route("咨询A5区购房提取公积金", "想提取住房公积金付首付")
    assert d.lead.code == "a.gjj"


def test_unknown_district_routes_to_city_department(router) -> None:
    d = router.route("工资被拖欠三个月", "老板拖欠工资不给")
    assert d.lead.code == "a.rsj"
    assert d.district is None


def test_given_district_wins_over_text(router) -> None:
    d = router.route("学校乱收费", "A1区某学校", district=District("A市", "A6区"))
    assert d.lead.code == "a6.jyj"
    d = router.route("学校乱收费", "A1区某学校", district="A市A9市")
    assert d.lead.code == "a9.jyj"


def test_category_breaks_a_keyword_tie_and_low_confidence_category_is_ignored(router) -> None:
    text = ("A3区某地", "这里的情况请领导关注")
    assert router.route(*text).rule_id == "fallback"
    assert router.route(*text, category="环境保护").lead.code == "a3.hbj"
    low = router.route(*text, category="环境保护", category_confidence=0.1)
    assert low.rule_id == "fallback"


def test_nothing_matches_district_known_gives_district_government(router) -> None:
    d = router.route("A3区某地的问题", "请领导关注")
    assert d.lead.code == "a3.zf"
    assert d.rule_id == "fallback" and d.fallback and d.confidence == 0.0


@pytest.mark.parametrize(
    ("title", "content", "category"),
    [("", "", None), ("   ", "", "不存在的类别"), ("？？？", "！！", None)],
)
def test_bad_input_still_gets_the_centre(router, title, content, category) -> None:
    d = router.route(title, content, category, "不存在")
    assert d.lead.code == "a.zwfw"
    assert d.rule_id == "fallback" and d.fallback


def test_none_text_does_not_crash(router) -> None:
    assert router.route(None, None).lead.code == "a.zwfw"  # type: ignore[arg-type]


def test_other_city_is_handed_back_for_transfer(router) -> None:
    d = router.route("K市某小区物业问题", "K2区物业乱收费")
    assert d.lead.code == "a.zwfw"
    assert d.rule_id == OUT_OF_AREA_RULE_ID and d.fallback
    assert "K市" in d.explanation


def test_module_level_route_uses_the_shipped_catalogue() -> None:
    d = route("A4区夜宵摊油烟噪音扰民", "", None, None, None)
    # The rule says 城管; the shipped kind model may prefer the district (属地), as A4区's
    # replies often come from the street. Either way the district's own department leads.
    assert d.lead.serves == ("A4区",) and d.lead.kind in ("cgj", "zf")
    assert d.rule_id in ("city-management", MODEL_RULE_ID)
    assert d.as_dict()["lead"] == {"code": d.lead.code, "name": d.lead.name}


def _reference_scores(router, title, content, category, subcategory):
    """Rule scores the obvious way: every rule in catalogue order, its keywords longest
    first, a keyword inside an already matched one not counted again."""
    from routing.dispatch import (
        CATEGORY_WEIGHT,
        CONTENT_CHARS,
        CONTENT_WEIGHT,
        MAX_CONTENT_HITS,
        SUBCATEGORY_WEIGHT,
        TITLE_WEIGHT,
    )

    head = content[:CONTENT_CHARS]
    out = []
    for rule in router.catalogue.rules:
        score, hits, content_hits = 0, [], 0
        for word in sorted(dict.fromkeys(rule.keywords), key=len, reverse=True):
            if any(word in longer for longer in hits) or (word not in title and word not in head):
                continue
            if word in title:
                score, hits = score + TITLE_WEIGHT, hits + [word]
            elif content_hits < MAX_CONTENT_HITS:
                score, hits, content_hits = score + CONTENT_WEIGHT, hits + [word], content_hits + 1
        score += CATEGORY_WEIGHT if category in rule.categories else 0
        score += SUBCATEGORY_WEIGHT if subcategory in rule.subcategories else 0
        if score:
            out.append((rule.id, score, tuple(hits)))
    return sorted(out, key=lambda s: -s[1])


def test_rule_scores_equal_the_obvious_computation_on_real_appeals(router) -> None:
    import random

    from config.data import DATA_DIR
    from routing.evaluation import load_replies

    rules = router.catalogue.rules
    categories = [None, "无此类", *sorted({c for r in rules for c in r.categories})]
    subcategories = [None, *sorted({s for r in rules for s in r.subcategories})]
    pick = random.Random(7)
    for case in load_replies(DATA_DIR / "replies.csv")[:400]:
        category, subcategory = pick.choice(categories), pick.choice(subcategories)
        got = router._scores(router._keyword_hits(case.title, case.content), category, subcategory)
        expected = _reference_scores(router, case.title, case.content, category, subcategory)
        assert [(s.rule.id, s.score, s.keywords) for s in got] == expected, case.title


def test_a_named_street_places_an_appeal_without_a_district(router) -> None:
    # 泉塘街道 is A7县's: the housing bureau of A7县 leads, the street assists
    d = router.route("泉塘街道某小区物业乱收费", "物业公司乱收停车费")
    assert d.district == District("A市", "A7县") and d.lead.code == "a7.zjj"
    assert [a.code for a in d.assisting] == ["a7.jd12"]
    assert router.locate("A市泉塘街道路灯不亮", "") == District("A市", "A7县")
    # a bare 泉塘 (a village may share the name) or streets of two districts: no guess
    assert router.locate("泉塘村路灯不亮", "") is None
    assert router.locate("北路街道和先锋街道交界处积水", "") is None
    # a district named, or another city, wins over the street
    assert router.locate("A3区泉塘街道路灯不亮", "") == District("A市", "A3区")
    assert router.locate("B市泉塘街道路灯不亮", "") == District("B市", None)


def test_an_appeal_in_traditional_characters_is_routed_like_its_simplified_twin() -> None:
    from config.data import DATA_DIR
    from routing.evaluation import load_replies
    from routing.kind_model import load_kind_model
    from understand.text_normalise import _t2s_table

    router = Router(load_catalogue(), load_kind_model())
    d = router.route("A3區小區物業亂收費，業主投訴無門", "")
    assert (d.lead.code, d.rule_id, d.district) == (
        "a3.zjj",
        "property-management",
        District("A市", "A3区"),
    )
    assert router.locate("泉塘街道路燈不亮", "", "A市A7縣") == District("A市", "A7县")

    # Real appeals written out in traditional characters (the inverse of the router's
    # table, on texts the table leaves alone) route exactly as written in simplified.
    t2s = _t2s_table()
    s2t = {s: chr(t) for t, s in sorted(t2s.items(), reverse=True)}
    cases = [
        c
        for c in load_replies(DATA_DIR / "replies.csv")[:300]
        if not any(ord(ch) in t2s for ch in c.title + c.content)
    ][:120]
    traditional = [
        (c.title.translate(str.maketrans(s2t)), c.content.translate(str.maketrans(s2t)))
        for c in cases
    ]
    assert sum(t != (c.title, c.content) for t, c in zip(traditional, cases, strict=True)) > 100
    simplified = [(c.title, c.content) for c in cases]
    assert router.route_batch(traditional) == router.route_batch(simplified)
    assert [router.route(*t) for t in traditional[:20]] == router.route_batch(simplified[:20])
    assert [router.lead_kind(*t) for t in traditional] == [router.lead_kind(*s) for s in simplified]


class _SaysLocal:
    """A kind model that always answers 属地 (zf), confidently."""

    def predict(self, title, content, tags=()):
        from routing.kind_model import KindPrediction

        return KindPrediction("zf", 0.9, "cgj", 0.1)

    def predict_batch(self, items):
        return [self.predict(*item) for item in items]


def test_local_verdict_without_a_district_falls_to_the_rule_not_to_hand_dispatch() -> None:
    router = Router(load_catalogue(), _SaysLocal())
    # district known: the model's 属地 verdict goes to the district government
    d = router.route("A3区小区门口路灯不亮", "")
    assert (d.lead.code, d.rule_id, d.fallback) == ("a3.zf", "model", False)
    # district unknown: no district government to send it to; the rule that fired names
    # the city's department, and the explanation says why
    for d in (
        router.route("小区门口路灯不亮", ""),
        *router.route_batch([("小区门口路灯不亮", "")]),
    ):
        assert (d.lead.code, d.rule_id, d.fallback) == ("a.cgj", "city-management", False)
        assert "区县不明，按规则派单" in d.explanation and "路灯" in d.matched_keywords
    # nothing fired and no district: the centre dispatches by hand
    d = router.route("请问一下", "")
    assert (d.lead.code, d.rule_id, d.fallback) == ("a.zwfw", "fallback", True)


def test_the_broad_category_alone_names_the_district_not_a_specific_rule(router) -> None:
    """城乡建设 with no keyword of a specific rule: the district leads under a rule that
    says so; it used to lend its score to the demolition rule, which explained a street
    lamp as 征地拆迁 and added the planning bureau as assisting department."""
    for d in (
        router.route("", "我家门口的路灯坏了一个月了，晚上很黑。A市A3区", category="城乡建设"),
        router.route("", "楼下烧烤店油烟太大。A市A3区梅溪湖街道", category="城乡建设"),
    ):
        assert (d.lead.code, d.rule_id) == ("a3.zf", "urban-rural-local")
        assert "拆迁" not in d.explanation and "属地" in d.explanation
        assert all(a.kind == "jd" for a in d.assisting)
    # a keyword of the demolition rule still finds it
    d = router.route("", "拆迁补偿款一直没有到位。A市A3区", category="城乡建设")
    assert d.rule_id == "demolition"


def test_a_rule_without_a_department_here_gives_way_to_the_next_rule(router) -> None:
    """No district: the district government cannot lead, so the category's 属地 rule steps
    aside for the keyword rule that can (it used to send such appeals to the centre's
    manual dispatch)."""
    for d in (
        router.route("", "家里停水两天了，也没有通知", category="城乡建设"),
        *router.route_batch([("", "家里停水两天了，也没有通知", "城乡建设")]),
    ):
        assert (d.rule_id, d.fallback) == ("water-supply", False)
        assert d.lead.code != "a.zwfw"
    d = router.route("", "我们村的土地被违法占用建厂", category="城乡建设")
    assert d.lead.kind == "zrj" and not d.fallback


# --- emergencies: the follow-up department when nothing in the text chose one -------------


def test_an_emergency_no_rule_covers_goes_to_the_services_department(router) -> None:
    # 撬门 has no rule; district known → the district government's catch-all before
    d = router.route("求助", "A3区有人在撬我家门", district="A市A3区")
    assert d.rule_id == "fallback" and d.lead.code == "a3.zf"
    e = router.for_emergency(d, "110", "入室盗窃")
    assert (e.lead.code, e.rule_id, e.fallback) == ("a3.gaj", "emergency", False)
    assert "入室盗窃" in e.explanation and "110" in e.explanation
    # district unknown → the centre's manual dispatch before; the city's department now
    d = router.route("求助", "我妈摔倒了起不来")
    assert d.lead.code == "a.zwfw"
    assert router.for_emergency(d, "120", "急病或中毒").lead.code == "a.wjw"


def test_an_emergency_routed_on_its_first_level_category_alone_goes_to_the_service(router) -> None:
    d = router.route("求助", "A3区有人在撬我家门", "城乡建设", district="A市A3区",
                     category_confidence=0.9)  # fmt: skip
    assert d.rule_id == "urban-rural-local" and not d.matched_keywords
    assert router.for_emergency(d, "110", "入室盗窃").lead.code == "a3.gaj"
    # a reason may name its own department: a gas leak's follow-up is the gas company's
    d = router.route("求助", "家里煤气漏气了", "商贸旅游", category_confidence=0.9)
    assert router.for_emergency(d, "119", "燃气泄漏").lead.code == "a.rq"


def test_an_emergency_the_text_routed_keeps_its_department(router) -> None:
    # keywords: the manhole is the city management's, whoever fell in
    d = router.route("井盖丢失", "下水道井盖没了，有人掉下去了", district="A市A3区")
    assert d.matched_keywords
    assert router.for_emergency(d, "120", "人员坠落") == d
    # the sub-category: a lift is the special-equipment inspector's
    d = router.route("求助", "电梯里困了人", "商贸旅游", "质监检验检疫", category_confidence=0.9)
    assert d.rule_id == "market-regulation" and not d.matched_keywords
    assert router.for_emergency(d, "119", "人员被困", "质监检验检疫") == d
    # another city's emergency stays with the centre for transfer
    d = router.route("求助", "B市B2区有人在撬门")
    assert router.for_emergency(d, "110", "入室盗窃") == d


def test_the_kind_models_local_verdict_on_an_emergency_is_no_better_than_the_catch_all() -> None:
    from routing.kind_model import load_kind_model

    with_model = Router(load_catalogue(), load_kind_model())
    d = with_model.route("求助", "A3区有人在撬我家门", district="A市A3区")
    assert (d.rule_id, d.lead.kind) == (MODEL_RULE_ID, "zf")
    assert with_model.for_emergency(d, "110", "入室盗窃").lead.code == "a3.gaj"
