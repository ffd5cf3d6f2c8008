"""Catalogue edits as a centre's staff make them, and odd appeals as the router meets them.

The loader must answer every mistake with a :class:`CatalogueError` naming the entry (not a
``TypeError`` from deep inside, not a catalogue that loads and then routes wrong). The tests
of the first sections failed on the code before their fix; the last section pins what was
probed and found right.
"""

from __future__ import annotations

import copy
import math
import tomllib

import pytest

from config.routing import DEFAULT_CATALOGUE
from routing.catalogue import CatalogueError, load_catalogue, parse_catalogue
from routing.dispatch import Router
from routing.district import District
from routing.kind_model import load_kind_model


@pytest.fixture(scope="module")
def raw() -> dict:
    with DEFAULT_CATALOGUE.open("rb") as f:
        return tomllib.load(f)


def _rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def _dept(data: dict, code: str) -> dict:
    return next(d for d in data["departments"] if d["code"] == code)


def _problems(raw: dict, edit) -> str:
    """The problems the loader reports for ``raw`` changed by ``edit``, as one text."""
    data = copy.deepcopy(raw)
    edit(data)
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(data)
    return "\n".join(err.value.problems)


# --- values of the wrong type: a report, not a crash (bug) ----------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # two leads where the schema takes one kind: was TypeError (unhashable list)
        (lambda d: _rule(d, "metro").update(lead=["gdjt", "zrj"]), "rules[1] (metro): 'lead'"),
        # `[rules]` instead of `[[rules]]` (one rule): was AttributeError on a str
        (lambda d: d.update(rules=dict(_rule(d, "metro"))), "rules: expected a list"),
        # `[[kinds]]` instead of `[kinds.zjj]`: was AttributeError
        (lambda d: d.update(kinds=[{"name": "x"}]), "kinds: expected a table"),
        (lambda d: d["departments"].insert(0, "a.zjj"), "departments[0]: expected a table"),
        (lambda d: d["units"].append("A10区"), "units[10]: expected a table"),
        (lambda d: _dept(d, "a3.zjj").update(code=["a3.zjj"]), "(['a3.zjj']): 'code'"),
        (lambda d: _dept(d, "a3.zjj").update(kind=["zjj"]), "(a3.zjj): 'kind'"),
        (lambda d: d["units"][3].update(code=3), "units[3]: 'code'"),
        (lambda d: d.update(city=["A市"]), "'city'"),
        (lambda d: d.update(centre=["a.zwfw"]), "'centre'"),
        (lambda d: d.update(version="1.0"), "'version'"),
        (lambda d: _rule(d, "metro").update(id=["metro"]), "rules[1] (['metro']): 'id'"),
        # loaded, then every Assignment carried a rule id that is not a string
        (lambda d: _rule(d, "metro").update(id=7), "rules[1] (7): 'id'"),
    ],
)
def test_a_value_of_the_wrong_type_is_reported_with_its_entry(raw, edit, expected) -> None:
    assert expected in _problems(raw, edit)


def test_a_street_with_a_list_of_place_names_is_refused_not_left_to_crash_the_router(raw):
    # Staff listing the ways a street is written (泉塘街道, 泉塘): the catalogue loaded, and
    # the router then raised TypeError on every appeal naming no district.
    data = copy.deepcopy(raw)
    _dept(data, "a7.jd12")["place"] = ["泉塘街道", "泉塘"]
    with pytest.raises(CatalogueError, match=r"\(a7\.jd12\): 'place'"):
        parse_catalogue(data)


# --- blank or padded words: they match what they should not, or nothing (bug) ---------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # a full-width space (an IME's 全角空格) as a keyword: the rule fired on every appeal
        # with one in its text and sent it to the housing fund
        (lambda d: _rule(d, "housing-fund").update(keywords=["公积金", "\u3000"]), "housing-fund"),
        (lambda d: _rule(d, "housing-fund").update(keywords=["公积金", " "]), "housing-fund"),
        # padded: never found in a text
        (lambda d: _rule(d, "housing-fund").update(keywords=["公积金\u3000"]), "housing-fund"),
        (lambda d: d["kinds"]["zjj"].update(aliases=["住建局", "\u3000"]), "kinds.zjj.aliases"),
        (lambda d: _rule(d, "demolition").update(assist=["jd\u3000"]), "demolition"),
        (lambda d: _dept(d, "a7.jd12").update(place="泉塘街道\u3000"), "(a7.jd12)"),
        (lambda d: d["units"][3].update(name="A3区\u3000"), "units[3]"),
    ],
)
def test_blank_or_padded_words_are_refused(raw, edit, expected) -> None:
    text = _problems(raw, edit)
    assert expected in text and "space" in text


def test_a_full_width_space_keyword_would_have_routed_unrelated_appeals(raw) -> None:
    # Why the check matters, shown on the old behaviour's ingredients: the keyword is found
    # in an appeal that is only about the district.
    from routing.keyword_index import KeywordIndex

    assert KeywordIndex(["公积金", "\u3000"]).found_in("请领导\u3000关注") == {"\u3000"}


def test_a_full_width_space_inside_a_name_is_kept(raw) -> None:
    data = copy.deepcopy(raw)
    _dept(data, "a3.zjj")["name"] = "A3区\u3000住房和城乡建设局"
    assert parse_catalogue(data).department("a3.zjj").name == "A3区\u3000住房和城乡建设局"


# --- misspelt or unknown keys: silently ignored before (bug) --------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # meant to limit the rule to A3区; the rule applied in every district
        (
            lambda d: _rule(d, "metro").update(district="A3区"),
            "rules[1] (metro): unknown key 'district'",
        ),
        # the rule stayed at district level
        (lambda d: _rule(d, "metro").update(levle="city"), "unknown key 'levle'"),
        (lambda d: _rule(d, "housing-fund").update(assists=["jd"]), "unknown key 'assists'"),
        (lambda d: d["kinds"]["zjj"].update(alias=["房管所"]), "kinds.zjj: unknown key 'alias'"),
        (lambda d: _dept(d, "a7.jd12").update(places="泉塘"), "(a7.jd12): unknown key 'places'"),
        (lambda d: d["units"][1].update(cod="a1"), "units[1]: unknown key 'cod'"),
        # `[[rule]]` for `[[rules]]`: no rule at all, every appeal to the district government
        (lambda d: d.update(rule=d.pop("rules")), "unknown key 'rule'"),
    ],
)
def test_an_unknown_key_is_reported(raw, edit, expected) -> None:
    assert expected in _problems(raw, edit)


# --- departments no appeal can reach (bug) --------------------------------------------


def test_two_departments_of_one_kind_in_one_unit_are_refused(raw) -> None:
    # A copied A4区 line whose `serves` was not changed: a4.zjj never received an appeal
    # (a3.zjj, listed first, took A3区's) and A4区's housing appeals went to the city bureau.
    text = _problems(raw, lambda d: _dept(d, "a4.zjj").update(serves=["A3区"]))
    assert "(a4.zjj)" in text and "a3.zjj" in text and "A3区" in text


def test_two_streets_with_one_place_name_in_one_district_are_refused(raw) -> None:
    def edit(d: dict) -> None:
        twin = dict(_dept(d, "a7.jd12"), code="a7.jd99", name="A7县泉塘街道（新）")
        d["departments"].append(twin)

    text = _problems(raw, edit)
    assert "(a7.jd99)" in text and "a7.jd12" in text and "泉塘街道" in text


def test_a_street_may_share_its_place_name_with_another_districts_street(raw) -> None:
    data = copy.deepcopy(raw)
    twin = dict(_dept(data, "a7.jd12"), code="a3.jd99", name="A3区泉塘街道", serves=["A3区"])
    data["departments"].append(twin)
    assert {d.code for d in parse_catalogue(data).streets("A3区")} >= {"a3.jd99"}


def _without_tax_bureaus(d: dict) -> None:
    # tax is handled by 12366, so a centre deletes the 税务局 lines and forgets the rule
    d["departments"] = [x for x in d["departments"] if x["kind"] != "sw"]


def test_a_rule_whose_lead_kind_has_no_department_is_refused(raw) -> None:
    # Loaded before: every tax appeal went to the district government or to hand dispatch,
    # explained as "无派单规则覆盖" although the tax rule had fired.
    text = _problems(raw, _without_tax_bureaus)
    assert "(tax)" in text and "'sw'" in text


def test_a_rule_whose_assist_kind_has_no_department_is_refused(raw) -> None:
    def edit(d: dict) -> None:
        _without_tax_bureaus(d)
        d["rules"] = [r for r in d["rules"] if r["id"] != "tax"]
        _rule(d, "housing-market")["assist"] = ["sw"]  # silently no assisting department

    text = _problems(raw, edit)
    assert "(housing-market)" in text and "'sw'" in text


class _SaysTax:
    """A kind model (trained on another catalogue) that answers 税务 (sw), confidently."""

    def predict(self, title, content, tags=()):
        from routing.kind_model import KindPrediction

        return KindPrediction("sw", 0.9, "zjj", 0.1)

    def predict_batch(self, items):
        return [self.predict(*item) for item in items]


def test_a_model_kind_without_a_department_leaves_the_fired_rule_in_charge(raw) -> None:
    # The model's kind has no department in this catalogue: the rule that fired decides
    # (as for a 属地 verdict without a district), not the 属地兜底 "no rule covers it".
    data = copy.deepcopy(raw)
    _without_tax_bureaus(data)
    data["rules"] = [r for r in data["rules"] if r["id"] != "tax"]
    router = Router(parse_catalogue(data), _SaysTax())
    for d in (
        router.route("A3区小区物业乱收费", ""),
        *router.route_batch([("A3区小区物业乱收费", "")]),
    ):
        assert (d.lead.code, d.rule_id, d.fallback) == ("a3.zjj", "property-management", False)
        assert "kind sw" in d.explanation and "物业" in d.matched_keywords
    # no rule fired: the district government, as before
    d = router.route("A3区某地的问题", "请领导关注")
    assert (d.lead.code, d.rule_id, d.fallback) == ("a3.zf", "fallback", True)


# --- categories the classifier never gives (bug) ---------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # 城建 for 城乡建设: the category bonus never applied
        (lambda d: _rule(d, "demolition").update(categories=["城建"]), "category '城建'"),
        # a third-level name (物业服务) where the router gets the second level
        (
            lambda d: _rule(d, "property-management").update(subcategories=["物业服务"]),
            "subcategory '物业服务'",
        ),
    ],
)
def test_a_category_outside_the_taxonomy_is_reported(raw, edit, expected) -> None:
    assert expected in _problems(raw, edit)


# --- the file itself (bug) --------------------------------------------------------------


def test_a_file_saved_as_gbk_is_reported_with_its_line(tmp_path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(DEFAULT_CATALOGUE.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    (problem,) = err.value.problems
    assert "UTF-8" in problem and "line 1" in problem and str(path) in str(err.value)


def test_a_file_saved_as_utf8_with_a_bom_loads(tmp_path) -> None:
    # Windows Notepad's "UTF-8 with BOM": refused as "Invalid statement (at line 1, column 1)"
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DEFAULT_CATALOGUE.read_bytes())
    cat = load_catalogue(path)
    assert len(cat.departments) == len(load_catalogue(DEFAULT_CATALOGUE).departments)


def test_toml_syntax_errors_still_name_the_line(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('version = 1\ncity = "A市\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        load_catalogue(path)


# --- probed and found right --------------------------------------------------------------


def test_shipped_catalogue_still_loads(raw) -> None:
    assert len(parse_catalogue(copy.deepcopy(raw)).rules) == len(raw["rules"])


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: _dept(d, "a3.zf").update(kind="zjj2"),  # unknown kind, no government
        lambda d: _dept(d, "a3.zjj").update(serves=[]),  # a department serving no unit
        lambda d: _rule(d, "metro").update(lead="nope"),
        lambda d: _rule(d, "metro").update(assist=["nope"]),
        lambda d: _rule(d, "metro").update(keywords=[]),
        lambda d: d["departments"].append(dict(d["departments"][0])),  # duplicate code
    ],
)
def test_existing_checks_report_the_entry(raw, edit) -> None:
    assert _problems(raw, edit)


def test_a_lead_also_listed_as_assisting_is_not_its_own_helper(raw) -> None:
    data = copy.deepcopy(raw)
    _rule(data, "property-management")["assist"] = ["zjj", "jd", "jd"]
    d = Router(parse_catalogue(data)).route("A7县泉塘街道小区物业乱收费", "")
    assert d.lead.code == "a7.zjj" and [a.code for a in d.assisting] == ["a7.jd12"]


ODD_APPEALS = [
    ("", "", None, None, None, None),
    ("A3区", "", None, None, None, None),  # only a district
    ("A3区和A5区交界处", "A5区", None, None, None, None),  # several districts
    ("请领导关注", "", "党务政务", None, None, 0.9),  # a category no rule names
    ("小区物业", "", "城乡建设", "不存在的二级", None, 0.9),  # sub-category not in the taxonomy
    ("小区物业", "", "城乡建设", None, "A市A3区", 0.0),
    ("小区物业", "", "城乡建设", None, "A市A3区", 1.0),
    ("小区物业", "", "城乡建设", None, "A市A3区", 0.5),
    ("小区物业", "", "城乡建设", None, "A市A3区", math.nan),
    ("B市物业乱收费", "", None, None, None, None),  # another city
    ("拆迁补偿", "", None, None, District("A市", "A99区"), None),  # a district A市 lacks
    ("\u3000", "\u3000", None, None, "不存在", None),
]


@pytest.mark.parametrize("with_model", [False, True])
def test_odd_appeals_get_a_real_department_and_an_explanation(with_model) -> None:
    cat = load_catalogue()
    router = Router(cat, load_kind_model() if with_model else None)
    decisions = [
        router.route(t, c, cg, sc, d, category_confidence=cf) for t, c, cg, sc, d, cf in ODD_APPEALS
    ]
    for d in decisions:
        assert cat.department(d.lead.code) == d.lead and d.explanation
        assert 0.0 <= d.confidence <= 1.0
    assert router.route_batch(ODD_APPEALS) == decisions
    assert decisions[9].lead == cat.centre_department  # 外市转办


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["emergencies"].update({"911": "gaj"}), "emergencies.911: neither"),
        (lambda d: d["emergencies"].update({"煤气": "rq"}), "emergencies.煤气: neither"),
        (lambda d: d["emergencies"].update({"110": "police"}), "emergencies.110: unknown kind"),
        (lambda d: d.update(emergencies=["gaj"]), "'emergencies' must be a table"),
    ],
)
def test_emergency_follow_up_entries_are_checked(raw, edit, expected) -> None:
    assert expected in _problems(raw, edit)
