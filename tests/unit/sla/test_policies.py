"""Policies as data: the shipped file, rule selection and validation."""

from __future__ import annotations

import pytest

from sla.policies import ClockMode, Duration, PolicyBook, load_policies, parse_policies

from .conftest import POLICIES


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return load_policies(POLICIES)


def test_shipped_limits(book: PolicyBook) -> None:
    general, complex_, emergency, outage = (
        book.get(k) for k in ("general", "complex", "emergency", "outage")
    )
    assert str(general.sign_for) == "2wh" and general.sign_for.mode is ClockMode.WORKING
    assert str(general.case) == "5wd" and str(complex_.case) == "15wd"
    assert str(emergency.handling) == "2h" and emergency.handling.mode is ClockMode.WALL
    assert str(outage.handling) == "24h" and outage.handling.mode is ClockMode.WALL
    assert str(general.return_window) == "2wh"
    assert (general.max_extensions, general.max_extension_days) == (1, 10)
    assert emergency.max_extensions == 0


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"urgency": "emergency"}, "emergency"),
        ({"category": "城乡建设/安全生产/事故处理", "urgency": "urgent"}, "emergency"),
        ({"category": "城乡建设/安全生产/安全隐患"}, "general"),  # safety alone is not urgent
        ({"category": "城乡建设/城市建设和市政管理/电力供应", "tags": ["outage"]}, "outage"),
        ({"category": "城乡建设/住房保障与房地产/物业服务", "tags": ["outage"]}, "outage"),
        # a question about heating is in the category, but reports no cut
        ({"category": "城乡建设/城市建设和市政管理/冬季采暖", "appeal_type": "咨询"}, "general"),
        ({"urgency": "emergency", "tags": ["outage"]}, "emergency"),
        ({"category": "城乡建设/城市建设和市政管理/园林绿化环卫"}, "general"),
        ({"category": "城乡建设/住房保障与房地产", "tags": ["complex"]}, "complex"),
        ({"appeal_type": "咨询"}, "general"),
        ({}, "general"),
    ],
)
def test_selection(book: PolicyBook, kwargs, expected: str) -> None:
    assert book.select(**kwargs).key == expected


def test_category_prefix_matches_whole_levels(book: PolicyBook) -> None:
    assert book.select(category="城乡建设/城市建设和市政管理/电力供应站").key == "general"


def test_durations() -> None:
    assert Duration.parse("5wd").seconds(25200) == 5 * 25200
    assert Duration.parse("2wh").seconds(25200) == 7200
    assert Duration.parse("30m").seconds(25200) == 1800
    assert Duration.parse("1d").mode is ClockMode.WALL
    assert Duration.parse("90s").seconds(25200) == 90
    with pytest.raises(ValueError):
        Duration.parse("5 weeks")


def test_validation_lists_every_problem() -> None:
    doc = {
        "default": "nope",
        "policy": {"a": {"case": "5x", "sign_for": "2wh", "handling": "5wd"}, "B": {}},
        "rule": [{"policy": "zzz"}],
    }
    with pytest.raises(ValueError) as e:
        parse_policies(doc)
    msg = str(e.value)
    for part in ("policy.a", "policy.B", "rule[0]", "default policy"):
        assert part in msg
