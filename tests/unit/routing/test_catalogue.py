"""The shipped catalogue is valid, and validation catches the mistakes staff can make."""

from __future__ import annotations

import copy
import tomllib

import pytest

from config.routing import DEFAULT_CATALOGUE
from routing.catalogue import (
    CatalogueError,
    department_topic,
    load_catalogue,
    parse_catalogue,
)


@pytest.fixture(scope="module")
def raw() -> dict:
    with DEFAULT_CATALOGUE.open("rb") as f:
        return tomllib.load(f)


def test_shipped_catalogue_loads_with_every_district_staffed() -> None:
    cat = load_catalogue(DEFAULT_CATALOGUE)
    assert cat.city == "A市"
    assert cat.centre_department.name.startswith("A市政务服务中心")
    for unit in cat.units:
        if unit.name != cat.city:
            assert cat.find("zf", unit.name).name == f"{unit.name}人民政府"
            assert cat.find("zjj", unit.name).code == f"{unit.code}.zjj"
    assert cat.find("rsj", "A市").name == "A市人力资源和社会保障局"


def test_every_department_code_makes_a_valid_topic() -> None:
    cat = load_catalogue(DEFAULT_CATALOGUE)
    for dept in cat.departments:
        topic = department_topic(dept.code)
        assert topic == f"assign.{dept.code}"
        assert all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in topic)


@pytest.mark.parametrize("code", ["A3.zjj", "a3 zjj", "住建", "", "a3/zjj"])
def test_department_topic_rejects_unsafe_codes(code: str) -> None:
    with pytest.raises(ValueError):
        department_topic(code)


def test_streets_are_found_by_district(raw: dict) -> None:
    cat = parse_catalogue(raw)
    places = {d.place for d in cat.streets("A7县")}
    assert {"泉塘街道", "星沙街道", "安沙镇"} <= places
    assert all(d.kind == "jd" for d in cat.streets("A7县"))


def test_validation_lists_every_problem_at_once(raw: dict) -> None:
    bad = copy.deepcopy(raw)
    bad["departments"].append(dict(bad["departments"][0]))  # duplicate code
    bad["departments"].append({"code": "A9.Bad", "name": "x", "kind": "nope", "serves": ["Z9区"]})
    bad["rules"].append({"id": "fallback", "name": "x", "lead": "zjj", "explanation": "x"})
    bad["rules"].append(
        {
            "id": "r2",
            "name": "x",
            "lead": "ghost",
            "level": "town",
            "explanation": "x",
            "keywords": ["a"],
        }
    )
    bad["centre"] = "a.none"
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(bad)
    text = "\n".join(err.value.problems)
    for expected in (
        "duplicate code",
        "lower-case ASCII",
        "unknown kind 'nope'",
        "unknown unit 'Z9区'",
        "reserved",
        "needs keywords",
        "unknown lead kind 'ghost'",
        "level must be one of",
        "centre 'a.none'",
    ):
        assert expected in text, expected


def test_district_without_government_is_rejected(raw: dict) -> None:
    bad = copy.deepcopy(raw)
    bad["departments"] = [d for d in bad["departments"] if d["code"] != "a3.zf"]
    with pytest.raises(CatalogueError, match="A3区 has no government"):
        parse_catalogue(bad)


@pytest.mark.parametrize(
    ("code", "meant"),
    [
        ("a3.rq", "a.rq (A市燃气有限公司)"),  # the gas company serves the whole city
        ("a3.zjjj", "a3.zjj (A3区住房和城乡建设局)"),  # a typo
        ("A3区住房", "a3.zjj (A3区住房和城乡建设局)"),  # part of the name
    ],
)
def test_an_unknown_code_names_the_departments_likely_meant(code: str, meant: str) -> None:
    said = load_catalogue(DEFAULT_CATALOGUE).unknown_code(code)
    assert said.startswith(f"unknown department code {code!r}; did you mean ")
    assert meant in said


def test_an_unknown_code_like_nothing_says_only_that() -> None:
    assert load_catalogue(DEFAULT_CATALOGUE).unknown_code("xyz") == "unknown department code 'xyz'"
