"""Bad input as real call-centre systems send it: each case either becomes an appeal with
its text intact or an ``IntakeError`` with a reason code, never another exception, never a
silently lost appeal and never mangled Chinese text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake import hotline, mailbox
from intake.decoding import decode
from intake.errors import ErrorCode, IntakeError
from intake.identity import appeal_id
from intake.timestamps import parse_local
from intake.wechat_session import add_piece, close
from models.wechat import WeChatPiece
from tests.unit.intake._support import (
    NOW,
    RAW,
    TZ,
    hotline_bytes,
    mailbox_bytes,
    mailbox_obj,
    settings,
)

# --- timestamps at the edge of what datetime can hold ---------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59Z",  # the 'end of time' placeholder of Java and SQL systems
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+09:00",
    ],
)
def test_times_beyond_the_datetime_range_in_local_time_are_bad_timestamps(text: str) -> None:
    with pytest.raises(IntakeError) as err:
        parse_local(text, TZ, "call_end")
    assert err.value.code is ErrorCode.BAD_TIMESTAMP
    assert "call_end" in err.value.reason


def test_work_order_with_an_end_of_time_call_end_is_a_dead_letter_not_a_crash() -> None:
    order = hotline.parse(hotline_bytes(call_end="9999-12-31T23:59:59Z"))
    with pytest.raises(IntakeError) as err:
        hotline.normalise(order, RAW, NOW, settings())
    assert err.value.code is ErrorCode.BAD_TIMESTAMP


def test_mailbox_export_writes_a_midnight_time_as_the_date_alone() -> None:
    # the export (like Excel) drops 0:00:00; replies.csv of the shared data has '2018/4/24'
    msg = mailbox.parse(mailbox_bytes(time="2019/4/25"))
    received = mailbox.normalise(msg, RAW, NOW, settings()).appeal.received_at
    assert received.isoformat() == "2019-04-25T00:00:00+08:00"


# --- ids as JSON numbers ------------------------------------------------------------------


def _with_number(field: str, literal: str) -> bytes:
    return hotline_bytes(**{field: "@@"}).replace(b'"@@"', literal.encode())


def test_ticket_numbers_beyond_64_bits_are_read_exactly() -> None:
    # 20 digits: beyond 64-bit integers; a float keeps about 16 of them
    first = hotline.parse(_with_number("ticket_no", "20240301100000000123"))
    second = hotline.parse(_with_number("ticket_no", "20240301100000000124"))
    assert first.ticket_no == "20240301100000000123"
    assert second.ticket_no == "20240301100000000124"
    ids = {hotline.normalise(o, RAW, NOW, settings()).appeal.appeal_id for o in (first, second)}
    assert len(ids) == 2  # one appeal id would suppress the second appeal as a duplicate


def test_negative_number_beyond_64_bits_is_read_exactly() -> None:
    order = hotline.parse(_with_number("call_id", "-92233720368547758090"))
    assert order.call_id == "-92233720368547758090"


def test_big_number_beside_deep_nesting_is_bad_json_not_a_crash() -> None:
    data = _with_number("ticket_no", "20240301100000000123")
    data = data[:-1] + b',"extra":' + b"[" * 1020 + b"]" * 1020 + b"}"
    with pytest.raises(IntakeError) as err:
        hotline.parse(data)
    assert err.value.code is ErrorCode.BAD_JSON


# --- size limits ----------------------------------------------------------------------


def test_subject_standing_in_for_the_detail_is_held_to_the_content_limit() -> None:
    msg = mailbox.parse(mailbox_bytes(subject="长" * 101, detail=""))
    with pytest.raises(IntakeError) as err:
        mailbox.normalise(msg, RAW, NOW, settings(max_content_chars=100))
    assert err.value.code is ErrorCode.OVERSIZED


def test_oversized_title_is_rejected_even_with_content() -> None:
    order = hotline.parse(hotline_bytes(title="噪" * 101, content="夜间施工"))
    with pytest.raises(IntakeError) as err:
        hotline.normalise(order, RAW, NOW, settings(max_content_chars=100))
    assert err.value.code is ErrorCode.OVERSIZED
    assert "title" in err.value.reason


def test_title_at_the_limit_is_accepted() -> None:
    msg = mailbox.parse(mailbox_bytes(subject="长" * 100, detail=""))
    appeal = mailbox.normalise(msg, RAW, NOW, settings(max_content_chars=100)).appeal
    assert appeal.content == "长" * 100


# --- bytes that are neither clean UTF-8 nor GBK ---------------------------------------


def _utf8_record_missing_one_byte() -> bytes:
    detail = "市民反映A市A3区杜鹃路路灯不亮，已经三个月了，晚上出行很不安全，请尽快处理！"
    good = mailbox_bytes(detail=detail)
    i = good.index("杜".encode())
    return good[:i] + good[i + 1 :]  # a relay dropped (or cut) one byte of 杜


def test_utf8_with_a_broken_character_is_undecodable_not_read_as_gbk() -> None:
    data = _utf8_record_missing_one_byte()
    assert "路灯" not in data.decode("gb18030")  # GB18030 reads these bytes, as other characters
    with pytest.raises(IntakeError) as err:
        decode(data)
    assert err.value.code is ErrorCode.UNDECODABLE
    assert "UTF-8" in err.value.reason


def test_mailbox_record_with_a_broken_utf8_character_is_dead_lettered() -> None:
    with pytest.raises(IntakeError) as err:
        mailbox.parse(_utf8_record_missing_one_byte())
    assert err.value.code is ErrorCode.UNDECODABLE


@pytest.mark.parametrize(
    "declaration",
    [
        '<?xml version="1.0" encoding = "GBK"?>',
        "<?xml version='1.0' encoding ='gbk' ?>",
        '<?xml version="1.0"\n  encoding="GB2312"?>',
    ],
)
def test_xml_encoding_declaration_with_spaces_is_honoured(declaration: str) -> None:
    # GBK bytes of 一楼漏水 happen to be valid UTF-8 (һ¥©ˮ): only the declaration tells
    xml = declaration + "<xml><Content>一楼漏水</Content></xml>"
    assert decode(xml.encode("gbk")) == xml


def test_legacy_gbk_mailbox_record_is_still_read() -> None:
    data = mailbox_bytes().decode().encode("gbk")
    assert mailbox.parse(data).detail == mailbox_obj()["detail"]


# --- WeChat sessions with late or redelivered pieces -----------------------------------

T0 = int((NOW - timedelta(hours=2)).timestamp())
WINDOW = 600


def _piece(msg_id: str, at: int, text: str) -> WeChatPiece:
    return WeChatPiece(
        contact_ref="C-x", msg_id=msg_id, create_time=at, msg_type="text", raw=RAW, text=text
    )


def test_redelivered_piece_of_a_closed_session_does_not_take_over_the_next_one() -> None:
    first = _piece("1", T0, "路灯坏了三个月了")
    second = _piece("2", T0 + WINDOW + 100, "另外，小区门口的井盖丢了")
    session, closed = add_piece(None, first, 1000.0, WINDOW)
    session, closed = add_piece(session, second, 1001.0, WINDOW)
    assert closed is not None and [p.msg_id for p in closed.pieces] == ["1"]
    published = close(closed, NOW, settings()).appeal.appeal_id
    # Kafka redelivers piece 1 (a crash before the offset commit)
    session, late = add_piece(session, first, 1002.0, WINDOW)
    assert [p.msg_id for p in session.pieces] == ["2"]
    appeal = close(session, NOW, settings()).appeal
    assert appeal.appeal_id == appeal_id("wechat", "2") != published
    assert appeal.content == "另外，小区门口的井盖丢了"
    # the late piece is an appeal of its own: a duplicate of the one already published
    assert late is not None and [p.msg_id for p in late.pieces] == ["1"]
    assert close(late, NOW, settings()).appeal.appeal_id == published


def test_late_piece_within_the_window_before_the_session_still_joins_it() -> None:
    session, _ = add_piece(None, _piece("2", T0 + 300, "第二"), 1000.0, WINDOW)
    session, closed = add_piece(session, _piece("1", T0, "第一"), 1001.0, WINDOW)
    assert closed is None
    assert [p.msg_id for p in session.pieces] == ["1", "2"]


# --- invisible characters and padded ids ------------------------------------------------


@pytest.mark.parametrize("blank", ["\u200b", "\ufeff\u200b ", "\x00\x00", "\u3000\u200d\n"])
def test_text_of_only_invisible_characters_is_empty(blank: str) -> None:
    msg = mailbox.parse(mailbox_bytes(subject=blank, detail=blank))
    with pytest.raises(IntakeError) as err:
        mailbox.normalise(msg, RAW, NOW, settings())
    assert err.value.code is ErrorCode.EMPTY_CONTENT


def test_invisible_characters_at_the_ends_are_trimmed_and_the_text_kept() -> None:
    msg = mailbox.parse(
        mailbox_bytes(subject="\ufeff路灯不亮\u200b", detail="\u200b杜鹃路路灯不亮")
    )
    appeal = mailbox.normalise(msg, RAW, NOW, settings()).appeal
    assert (appeal.title, appeal.content) == ("路灯不亮", "杜鹃路路灯不亮")


@pytest.mark.parametrize("mark", ["\u200b", "\u00ad", "\ufeff", "\u2060", "\u200e", "\u202c"])
def test_invisible_characters_inside_the_text_do_not_hide_a_phone_number_or_a_word(
    mark: str,
) -> None:
    # text copied from web pages and chat apps carries zero-width spaces and soft hyphens
    # between visible characters: they split numbers (so masking missed them) and words
    msg = mailbox.parse(
        mailbox_bytes(
            subject=f"路{mark}灯不亮",
            detail=f"A3{mark}区杜鹃路路灯不亮，电话138{mark}1234{mark}5678",
        )
    )
    appeal = mailbox.normalise(msg, RAW, NOW, settings()).appeal
    assert appeal.title == "路灯不亮"
    assert appeal.content == "A3区杜鹃路路灯不亮，电话138****5678"
    assert appeal.district == "A市A3区"


def test_a_zero_width_joiner_inside_an_emoji_is_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    msg = mailbox.parse(mailbox_bytes(subject="噪音", detail=f"楼上装修太吵{family}"))
    assert mailbox.normalise(msg, RAW, NOW, settings()).appeal.content == f"楼上装修太吵{family}"


def test_padded_ticket_number_is_the_same_ticket() -> None:
    padded = hotline.normalise(
        hotline.parse(hotline_bytes(ticket_no=" GD1 ")), RAW, NOW, settings()
    )
    plain = hotline.normalise(hotline.parse(hotline_bytes(ticket_no="GD1")), RAW, NOW, settings())
    assert padded.appeal.appeal_id == plain.appeal.appeal_id
    assert padded.appeal.source_id == "GD1"


def test_id_of_only_invisible_characters_is_missing() -> None:
    with pytest.raises(IntakeError) as err:
        hotline.parse(hotline_bytes(ticket_no="\u200b "))
    assert err.value.code is ErrorCode.MISSING_FIELD
