"""Reassigned appeals (改派) as routing examples: the pure part of the harvest."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.appeal import Appeal, RawRef
from models.case_event import CaseEvent
from routing.catalogue import load_catalogue
from routing.reassignments import (
    harvest_rows,
    latest_reassignments,
    merge_rows,
    read_rows,
    write_rows,
)
from routing.training import correction_examples
from understand.dataset import read_labelled

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _event(n: int, appeal_id: str, kind: str, minutes: int, target: str | None = None) -> CaseEvent:
    return CaseEvent(
        event_id=f"e{n}", appeal_id=appeal_id, kind=kind, occurred_at=T0 + timedelta(minutes=minutes),
        target_department=target, department="a3.zjj" if kind != "reassign" else None,
    )  # fmt: skip


def _appeal(appeal_id: str, title: str, content: str) -> Appeal:
    return Appeal(
        appeal_id=appeal_id, channel="mailbox", source_id=appeal_id, received_at=T0,
        appeal_type="投诉", title=title, content=content, raw=RawRef("raw.mailbox", 0, 1),
        ingested_at=T0,
    )  # fmt: skip


def test_each_appeal_keeps_its_last_reassignment() -> None:
    events = [
        _event(1, "MB-1", "accept", 0),
        _event(2, "MB-1", "return", 5),
        _event(4, "MB-1", "reassign", 30, "a.cgj"),  # the later one, though read first
        _event(3, "MB-1", "reassign", 10, "a3.jyj"),
        _event(5, "MB-2", "reassign", 10, None),  # no target: not a routing label
        _event(6, "MB-3", "reassign", 20, "a7.zjj"),
        _event(6, "MB-3", "reassign", 20, "a7.zjj"),  # re-sent
        CaseEvent(  # no time zone: rejected by the SLA stage, ignored here (no crash)
            event_id="e7",
            appeal_id="MB-3",
            kind="reassign",
            occurred_at=datetime(2026, 12, 2, 9, 0),
            target_department="a.jyj",
        ),  # fmt: skip
    ]
    got = latest_reassignments(events)
    assert {k: (r.department_code, r.event_id) for k, r in got.items()} == {
        "MB-1": ("a.cgj", "e4"),
        "MB-3": ("a7.zjj", "e6"),
    }


def test_rows_need_the_appeal_text_and_later_rows_win_a_merge() -> None:
    reassigned = latest_reassignments(
        [_event(1, "MB-1", "reassign", 10, "a.cgj"), _event(2, "MB-2", "reassign", 10, "a.jyj")]
    )
    appeals = [_appeal("MB-1", "占道经营", "小贩占用人行道，晚上噪音大"), _appeal("MB-9", "x", "y")]
    rows, missing = harvest_rows(reassigned, appeals)
    assert [(r["appeal_id"], r["department_code"], r["subject"]) for r in rows] == [
        ("MB-1", "a.cgj", "占道经营")
    ]
    assert missing == ["MB-2"]  # its text is past the topic's retention

    later = {
        **rows[0],
        "department_code": "a3.cgj",
        "reassigned_at": (T0 + timedelta(hours=1)).isoformat(),
    }
    old = {**rows[0], "appeal_id": "MB-0", "reassigned_at": (T0 - timedelta(days=9)).isoformat()}
    merged = merge_rows([later, old], rows)
    assert [(r["appeal_id"], r["department_code"]) for r in merged] == [
        ("MB-0", "a.cgj"),
        ("MB-1", "a3.cgj"),
    ]
    assert merge_rows([old], [later])[-1]["department_code"] == "a3.cgj"


def test_the_file_feeds_routing_training_but_not_the_category_model(tmp_path) -> None:
    reassigned = latest_reassignments([_event(1, "MB-1", "reassign", 10, "a.cgj")])
    title, content = "占道经营，扰民", '小贩占用人行道,"晚上"噪音大\n多次反映无果'
    rows, _ = harvest_rows(reassigned, [_appeal("MB-1", title, content)])
    path = tmp_path / "routing" / "reassignments.csv"
    write_rows(path, rows)
    assert read_rows(path) == rows and read_rows(tmp_path / "none.csv") == []
    excel = tmp_path / "excel.csv"  # opened in Excel and saved again: GBK bytes
    excel.write_bytes(path.read_text(encoding="utf-8-sig").encode("gbk"))
    assert read_rows(excel) == rows
    examples, skipped = correction_examples([path], load_catalogue())
    assert skipped == 0
    assert [(e.case.title, e.case.content, e.label) for e in examples] == [(title, content, "cgj")]
    with pytest.raises(ValueError, match="missing column"):
        read_labelled(path)


def test_the_file_is_safe_to_open_in_excel_and_reads_back_exactly(tmp_path) -> None:
    """A BOM (Excel on a Chinese Windows reads a file without one as GBK) and no cell that
    Excel would run as a formula; the text comes back as the citizen wrote it."""
    reassigned = latest_reassignments([_event(1, "MB-1", "reassign", 10, "a.cgj")])
    title, content = '=HYPERLINK("http://x")', "+86 138 0000 0000 打不通；@所有人 -1"
    rows, _ = harvest_rows(reassigned, [_appeal("MB-1", title, content)])
    path = tmp_path / "reassignments.csv"
    write_rows(path, rows)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    for cell in ("=HYPERLINK", "+86", "@"):
        assert f",{cell}".encode() not in data and f',"{cell}'.encode() not in data
    assert read_rows(path) == rows
    examples, _ = correction_examples([path], load_catalogue())
    assert [(e.case.title, e.case.content) for e in examples] == [(title, content)]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n  \r\n"])
def test_a_blank_corrections_file_is_no_corrections(tmp_path, data: bytes) -> None:
    path = tmp_path / "corrections.csv"
    path.write_bytes(data)  # Excel saves an emptied sheet as a BOM alone
    assert correction_examples([path], load_catalogue()) == ([], 0)
