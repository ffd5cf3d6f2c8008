"""Reviewers' department choices teach the kind model (``hotline routing train --corrections``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from config.data import DATA_DIR
from models.review import ReviewDecision
from routing.catalogue import load_catalogue
from routing.dispatch import Router
from routing.evaluation import load_replies, select
from routing.kind_model import load_kind_model
from routing.training import correction_examples, train_kind_model
from understand.corrections import append_correction
from understand.dataset import DatasetError


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


def test_a_corrections_file_saved_from_excel_reads_the_same(tmp_path) -> None:
    catalogue = load_catalogue()
    path = tmp_path / "corrections.csv"
    append_correction(_decision("MB-a", 1, "a.zjj"), "小区物业乱收费", "物业多收停车费", path)
    append_correction(_decision("MB-b", 2, "a.jyj"), "入学难", "学校说名额已满", path)
    gbk = tmp_path / "gbk.csv"  # a person opened it in Excel and saved it again
    gbk.write_bytes(path.read_text(encoding="utf-8-sig").encode("gbk"))
    utf8, _ = correction_examples([path], catalogue)
    excel, _ = correction_examples([gbk], catalogue)
    assert [(e.case.title, e.label) for e in excel] == [(e.case.title, e.label) for e in utf8]
    assert [e.label for e in excel] == ["zjj", "jyj"]


def test_a_file_without_the_department_column_is_an_error(tmp_path) -> None:
    path = tmp_path / "labels.csv"  # a category corrections file from elsewhere
    path.write_text("subject,detail,label\n路灯不亮,,城乡建设\n", encoding="utf-8-sig")
    with pytest.raises(DatasetError, match="missing column.*department_code"):
        correction_examples([path], load_catalogue())
