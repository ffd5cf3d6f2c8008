"""Operators' calendar commands (no Redis needed)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.sla import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_deadline_hours_and_days() -> None:
    r = run("deadline", "2025-01-27T16:00", "--hours", "2")
    assert r.exit_code == 0 and r.stdout.startswith("2025-02-05T09:30:00+08:00")
    r = run("deadline", "2025-09-30T10:00", "--days", "5", "--json")
    assert json.loads(r.stdout)["deadline"] == "2025-10-14T10:00:00+08:00"
    r = run("deadline", "2025-09-30T10:00", "--hours", "24", "--wall")
    assert r.stdout.startswith("2025-10-01T10:00:00+08:00")


def test_deadline_needs_one_amount() -> None:
    assert run("deadline", "2025-09-30T10:00").exit_code == 2
    assert run("deadline", "2025-09-30T10:00", "--days", "1", "--hours", "1").exit_code == 2


def test_is_workday() -> None:
    r = run("is-workday", "2026-02-14", "--json")
    assert json.loads(r.stdout) == {
        "date": "2026-02-14",
        "workday": True,
        "why": "make-up working day (调休) for Spring Festival",
    }
    assert "day off (holiday: National Day)" in run("is-workday", "2025-10-08").stdout
    r = run("is-workday", "2099-01-05")
    assert r.exit_code == 2 and "outside the working-day calendar" in r.stderr


def test_between() -> None:
    r = run("between", "2025-01-24T17:00", "2025-02-05T09:30", "--json")
    assert json.loads(r.stdout)["working_seconds"] == 15 * 3600
    assert run("between", "2025-01-24T17:00", "2025-02-05T09:30").stdout.startswith("15:00")


def test_policies_lists_the_rules_that_choose_them() -> None:
    # bug: the help promised the rules, the command printed only the policies
    from config.sla import DEFAULTS
    from sla.policies import load_policies

    book = load_policies(DEFAULTS.policy_file)
    listed = json.loads(run("policies", "--json").stdout)
    assert [r["policy"] for r in listed["rules"]] == [r.policy for r in book.rules]
    assert listed["rules"][0] == {
        "policy": book.rules[0].policy,
        "urgencies": list(book.rules[0].urgencies),
    }
    text = run("policies").stdout
    assert "rules, the first whose every criterion matches wins:" in text
    assert f"  {len(book.rules)}. {book.rules[-1].policy} if " in text


@pytest.mark.parametrize(
    "cmd",
    ["deadline", "is-workday", "between", "policies", "overdue", "remaining", "declare-year"],
)
def test_help(cmd: str) -> None:
    r = run(cmd, "--help")
    assert r.exit_code == 0 and "Usage" in r.stdout
