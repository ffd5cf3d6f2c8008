"""``hotline routing route``: an operator's typo is an error, not a silently ignored hint."""

import json

from typer.testing import CliRunner

from cli.routing import app

runner = CliRunner()


def _route(*args: str):
    return runner.invoke(app, ["route", "楼下夜宵摊噪音扰民", "", *args])


def test_route_prints_the_decision_with_the_given_district_and_category() -> None:
    for district in ("A市A3区", "A3區"):  # as intake stores it, or typed in traditional
        result = _route("--district", district, "--category", "环境保护")
        assert result.exit_code == 0, result.output
        decision = json.loads(result.output)
        assert decision["district"] == "A市A3区" and decision["lead"]["code"].startswith("a3.")


def test_unknown_category_or_district_is_refused_with_the_valid_forms() -> None:
    bad_category = _route("--category", "环保")
    assert bad_category.exit_code == 2 and "环境保护" in bad_category.output
    bad_district = _route("--district", "火星")
    assert bad_district.exit_code == 2 and "A市A3区" in bad_district.output


def test_route_shows_an_emergency_and_the_decision_the_stream_makes_for_it() -> None:
    result = runner.invoke(app, ["route", "求助", "A3区有人在撬我家门"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["emergency"] == {"service": "110", "reason": "入室盗窃"}
    assert (decision["lead"]["code"], decision["rule_id"]) == ("a3.gaj", "emergency")
    calm = json.loads(runner.invoke(app, ["route", "路灯不亮", "A3区路灯坏了"]).output)
    assert "emergency" not in calm
