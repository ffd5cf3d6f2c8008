"""Reviewers' department choices teach the kind model (``hotline routing train --corrections``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from config.data import DATA_DIR
from models.review import ReviewDecision
from routing.catalogue import load_catalogue
from routing.dispatch import Router
from routing.evaluation import load_replies, select
from routing.kind_model import load_kind_model
from routing.training import correction_examples, train_kind_model
from understand.corrections import append_correction


def _decision(appeal_id: str, n: int, department_code: str | None) -> ReviewDecision:
    return ReviewDecision(
        appeal_id=appeal_id,
        decision_id=f"d-{n}",
        reviewer="王科长",
        category="城乡建设",
        decided_at=datetime(2026, 12, 2, 9, n, tzinfo=ZoneInfo("Asia/Shanghai")),
        department_code=department_code,
    )


def test_reviewers_department_choices_reroute_their_appeals(tmp_path) -> None:
    catalogue = load_catalogue()
    cases = load_replies(DATA_DIR / "replies.csv")
    committed = Router(catalogue, load_kind_model())
    # Real held-out appeals the committed model leaves to the district (属地, kind zf);
    # reviewers decided they belong to the city's 住建局.
    picked = [
        c for c in select(cases, "test") if committed.lead_kind(c.title, c.content)[0] == "zf"
    ][:4]
    path = tmp_path / "corrections.csv"
    for n, case in enumerate(picked):
        append_correction(_decision(case.id, n, "a.zjj"), case.title, case.content, path)
    # A later decision on the same text wins (教育局); a decision naming no department is
    # no routing label; a code the catalogue no longer has is counted, not guessed.
    first = picked[0]
    append_correction(_decision(first.id, 9, "a.jyj"), first.title, first.content, path)
    append_correction(_decision("MB-x", 10, None), "小区噪音扰民", "楼上装修到深夜", path)
    append_correction(_decision("MB-y", 11, "a.gone"), "路灯不亮", "", path)

    examples, skipped = correction_examples([path], catalogue)
    assert skipped == 1
    assert [(e.case.id, e.label) for e in examples] == [
        *((c.id, "zjj") for c in picked[1:]),
        (first.id, "jyj"),
    ]

    model = train_kind_model(cases, catalogue, tmp_path / "m.json", corrections=examples)
    assert model.meta["trained_on"].endswith("+ 4 department choices (--corrections)")
    retrained = Router(catalogue, load_kind_model(tmp_path / "m.json"))
    kinds = [retrained.lead_kind(c.title, c.content)[0] for c in picked]
    assert kinds == ["jyj", "zjj", "zjj", "zjj"]
