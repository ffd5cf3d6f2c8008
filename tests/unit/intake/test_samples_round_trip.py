"""Sample records derived from real appeal rows parse and normalise on every channel."""

from __future__ import annotations

from datetime import datetime

import pytest

from intake import hotline, mailbox, pii, wechat
from intake.wechat_session import add_piece, close
from models.appeal import APPEAL_TYPES
from routing.district import extract_district
from samples.appeal_rows import AppealRow, read_rows
from samples.derive import hotline_record, mailbox_record, synthetic_mobile, wechat_messages
from tests.unit.intake._support import NOW, RAW, TZ, json_text, settings

FALLBACK = datetime(2024, 6, 1, 9, 0, 0, tzinfo=TZ)


def _rows() -> list[AppealRow]:
    try:
        return list(read_rows(limit=20))
    except FileNotFoundError:
        return []


ROWS = _rows()
needs_rows = pytest.mark.skipif(not ROWS, reason="shared appeals data not found (HOTLINE_DATA_DIR)")
by_row = pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])


def _expected_time(row: AppealRow) -> datetime:
    try:
        return datetime.strptime(row.time, "%Y/%m/%d %H:%M:%S").replace(tzinfo=TZ)
    except ValueError:
        return FALLBACK


@needs_rows
def test_sample_rows_are_real_appeals() -> None:
    assert len(ROWS) == 20
    assert all(r.detail for r in ROWS)
    assert any(extract_district(r.subject, r.detail) for r in ROWS)


@needs_rows
@by_row
def test_mailbox_record_round_trip(row: AppealRow) -> None:
    msg = mailbox.parse(mailbox_record(row, FALLBACK))
    n = mailbox.normalise(msg, RAW, NOW, settings())
    a = n.appeal
    assert a.source_id == f"MB{row.id}"
    assert a.received_at == _expected_time(row)
    assert a.received_at.utcoffset().total_seconds() == 8 * 3600
    assert a.content == pii.mask(row.detail.strip()).text
    assert a.appeal_type in APPEAL_TYPES
    phone = synthetic_mobile("mb" + row.id)
    assert n.contact.phone == phone
    assert phone not in json_text(a.dumps())


@needs_rows
@by_row
def test_hotline_record_round_trip(row: AppealRow) -> None:
    order = hotline.parse(hotline_record(row, FALLBACK))
    n = hotline.normalise(order, RAW, NOW, settings())
    a = n.appeal
    caller = synthetic_mobile("hl" + row.id)
    assert a.source_id == order.ticket_no
    assert a.received_at == _expected_time(row)
    assert a.appeal_type in APPEAL_TYPES
    assert n.contact.phone == caller
    # the derived content quotes the caller's number: it must be masked
    assert caller not in json_text(a.dumps())
    assert f"{caller[:3]}****{caller[-4:]}" in a.content
    district = extract_district(row.subject, row.detail)
    assert a.district == (district.name if district else None)


@needs_rows
@by_row
def test_wechat_messages_round_trip_into_one_session(row: AppealRow) -> None:
    s = settings()
    messages = wechat_messages(row, FALLBACK)
    session = None
    for i, data in enumerate(messages):
        piece, contact = wechat.to_piece(wechat.parse(data), RAW, NOW, s)
        assert contact.identity.startswith("o")
        session, closed = add_piece(session, piece, 1000.0 + i, s.wechat_window_s)
        assert closed is None
    assert session is not None and len(session.pieces) == len(messages)
    n = close(session, NOW, s)
    a = n.appeal
    assert a.channel == "wechat"
    assert a.received_at == _expected_time(row)
    assert a.appeal_type in APPEAL_TYPES
    assert contact.identity not in json_text(a.dumps())
    district = extract_district(row.subject, row.detail)
    if district and district.district:
        assert a.address == district.name
        assert a.district == district.name
    assert a.title == a.content.splitlines()[0][:30]


@needs_rows
def test_channels_give_distinct_appeal_ids_for_the_same_row() -> None:
    row = ROWS[0]
    s = settings()
    mb = mailbox.normalise(mailbox.parse(mailbox_record(row, FALLBACK)), RAW, NOW, s).appeal
    hl = hotline.normalise(hotline.parse(hotline_record(row, FALLBACK)), RAW, NOW, s).appeal
    again = mailbox.normalise(mailbox.parse(mailbox_record(row, FALLBACK)), RAW, NOW, s).appeal
    assert mb.appeal_id == again.appeal_id
    assert mb.appeal_id != hl.appeal_id


def test_row_without_time_uses_the_fallback() -> None:
    row = AppealRow(
        id="9", subject="", detail="A市A3区路灯不亮。已经三个月了！请尽快处理。", time=""
    )
    a = mailbox.normalise(mailbox.parse(mailbox_record(row, FALLBACK)), RAW, NOW, settings()).appeal
    assert a.received_at == FALLBACK
    assert a.title == "A市A3区路灯不亮"  # the first clause stands in for the subject


def test_the_demos_calls_for_help_are_emergencies_on_both_channels() -> None:
    from samples.derive import emergency_calls
    from understand.emergency import detect_emergency

    s = settings()
    now = NOW
    records = emergency_calls(now)
    assert [c for c, _ in records] == ["hotline", "wechat", "wechat", "wechat"]
    order = hotline.normalise(hotline.parse(records[0][1]), RAW, now, s).appeal
    assert order.urgency == "urgent" and order.district == "A市A3区"
    assert detect_emergency(order.content).service == "119"
    session = None
    for i, (_, data) in enumerate(records[1:]):
        piece, _ = wechat.to_piece(wechat.parse(data), RAW, now, s)
        session, closed = add_piece(session, piece, 1000.0 + i, s.wechat_window_s)
        assert closed is None
    assert session.emergency  # closes after the short quiet spell
    appeal = close(session, now, s).appeal
    assert appeal.title.startswith("救命") and appeal.district == "A市A5区"
    assert detect_emergency(appeal.content).service == "119"


def test_the_demos_calls_for_help_are_timed_as_asked_so_the_demo_can_count_them() -> None:
    """The demo reads the clock once: the ids it checks for "seen before" and the records it
    publishes must agree, even when midnight falls between two clock readings."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from samples.replay import emergency_records

    topics = {"hotline": "raw.hotline", "wechat": "raw.wechat"}
    just_after_midnight = datetime(2026, 12, 7, 0, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    (hotline_call,) = emergency_records(("hotline",), topics, just_after_midnight)
    ticket = hotline.parse(hotline_call[2]).ticket_no
    assert ticket.startswith("GD20261206")  # the call began three minutes earlier
    a_day_later = emergency_records(("hotline",), topics, just_after_midnight + timedelta(days=1))
    assert hotline.parse(a_day_later[0][2]).ticket_no != ticket


def test_replay_rows_refuse_a_file_without_subject_and_detail(tmp_path):
    # bug: a CSV with other columns was replayed as appeals with no text at all
    from understand.dataset import DatasetError

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="detail"):
        list(read_rows(wrong))
    with pytest.raises(DatasetError, match="not found"):
        list(read_rows(tmp_path / "missing.csv"))


def test_replay_rows_read_an_excel_gbk_file(tmp_path):
    # bug: a GBK file (Excel's CSV on a Chinese Windows) was a UnicodeDecodeError
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("留言主题,留言详情\n路灯坏了,小区门口路灯坏了三天\n".encode("gb18030"))
    assert [(r.subject, r.detail) for r in read_rows(gbk)] == [("路灯坏了", "小区门口路灯坏了三天")]
