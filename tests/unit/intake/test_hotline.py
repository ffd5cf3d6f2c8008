"""Hotline work orders: parse the JSON, normalise into an appeal plus a contact."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from intake import hotline
from intake.errors import ErrorCode, IntakeError
from intake.identity import appeal_id
from intake.normalise import MAX_APPEAL_BYTES
from models.appeal import Appeal
from tests.unit.intake._support import (
    NOW,
    RAW,
    TZ,
    hotline_bytes,
    hotline_obj,
    json_text,
    make_id18,
    settings,
)


def _normalise(**overrides):
    return hotline.normalise(hotline.parse(hotline_bytes(**overrides)), RAW, NOW, settings())


def _error(**overrides) -> IntakeError:
    with pytest.raises(IntakeError) as err:
        _normalise(**overrides)
    return err.value


# --- parse ------------------------------------------------------------------------------


def test_parse_reads_a_work_order() -> None:
    order = hotline.parse(hotline_bytes())
    assert order.ticket_no == "GD20240301000123"
    assert order.caller_number == "13812345678"


def test_parse_accepts_legacy_gbk_json() -> None:
    data = hotline_bytes().decode().encode("gbk")
    assert hotline.parse(data).title == "A3区某工地夜间施工扰民"


@pytest.mark.parametrize("data", [b"{not json", b"", b'{"ticket_no": "GD1",}', b"null,"])
def test_parse_rejects_broken_json(data: bytes) -> None:
    with pytest.raises(IntakeError) as err:
        hotline.parse(data)
    assert err.value.code is ErrorCode.BAD_JSON


def test_parse_rejects_a_json_array() -> None:
    with pytest.raises(IntakeError) as err:
        hotline.parse(b"[]")
    assert err.value.code is ErrorCode.WRONG_TYPE


def test_parse_reports_the_first_missing_field() -> None:
    with pytest.raises(IntakeError) as err:
        hotline.parse('{"ticket_no": "GD1", "title": "缺少字段"}'.encode())
    assert err.value.code is ErrorCode.MISSING_FIELD
    assert "call_id" in err.value.reason


def test_parse_rejects_binary() -> None:
    with pytest.raises(IntakeError) as err:
        hotline.parse(b"\xff\xfe\x00binary\x81\x82")
    assert err.value.code is ErrorCode.UNDECODABLE


# --- normalise --------------------------------------------------------------------------


def test_normalised_appeal_core_fields() -> None:
    n = _normalise()
    a = n.appeal
    assert isinstance(a, Appeal)
    assert a.channel == "hotline"
    assert a.source_id == "GD20240301000123"
    assert a.appeal_id == appeal_id("hotline", "GD20240301000123")
    assert a.appeal_type == "投诉"
    assert a.title == "A3区某工地夜间施工扰民"
    assert a.raw == RAW
    assert a.ingested_at == NOW
    assert a.contact_ref == n.contact.ref


def test_call_start_without_offset_is_shanghai_local_time() -> None:
    a = _normalise(call_start="2024-03-01T10:00:00", call_end="2024-03-01T10:04:00").appeal
    assert a.received_at.isoformat() == "2024-03-01T10:00:00+08:00"
    assert a.received_at.utcoffset() == timedelta(hours=8)
    assert b'"received_at":"2024-03-01T10:00:00+08:00"' in a.dumps()


def test_call_start_with_utc_offset_is_converted_to_shanghai() -> None:
    a = _normalise(call_start="2024-03-01T02:00:00Z", call_end="2024-03-01T02:05:00Z").appeal
    assert a.received_at.isoformat() == "2024-03-01T10:00:00+08:00"
    assert a.received_at.tzinfo is TZ


def test_appeal_id_is_stable_across_resends() -> None:
    first = _normalise().appeal
    again = _normalise(content="补充：噪音仍然存在").appeal
    assert first.appeal_id == again.appeal_id
    assert first.appeal_id != _normalise(ticket_no="GD20240301000124").appeal.appeal_id


def test_caller_details_go_to_the_contact_and_never_into_the_appeal() -> None:
    n = _normalise(caller_number="13812345678", caller_name="张三丰")
    published = n.appeal.dumps()
    text = json_text(published)
    assert b"13812345678" not in published
    assert "张三丰" not in text
    assert n.contact.phone == "13812345678"
    assert n.contact.identity == "13812345678"
    assert n.contact.name == "张三丰"
    assert n.contact.channel == "hotline"


def test_numbers_in_title_and_content_are_masked_and_recorded_in_the_contact() -> None:
    id18 = make_id18("430102", "19800101", "321")
    n = _normalise(
        title="回电13912345678",
        content=f"来电人身份证{id18}，要求回电：13912345678。",
    )
    published = n.appeal.dumps()
    assert n.appeal.title == "回电139****5678"
    assert n.appeal.content == f"来电人身份证430***********{id18[-4:]}，要求回电：139****5678。"
    assert b"13912345678" not in published and id18.encode() not in published
    found = n.contact.found_in_text[n.appeal.appeal_id]
    assert ("id_card", id18) in found
    assert found.count(("mobile", "13912345678")) == 2


def test_address_is_masked_too() -> None:
    a = _normalise(address="A市A3区某小区，电话13712345678").appeal
    assert a.address == "A市A3区某小区，电话137****5678"


@pytest.mark.parametrize(
    ("address", "title", "content", "district"),
    [
        ("A市A3区杜鹃路", "施工扰民", "噪音", "A市A3区"),
        (None, "K8县丁字街乱摆摊", "乱摆摊", "K市K8县"),
        (None, "施工扰民", "A市A5区朝晖路停电", "A市A5区"),
        ("A市A3区", "A5区的事", "A5区", "A市A3区"),  # the address decides first
        (None, "A市路灯不亮", "路灯不亮", "A市"),
        (None, "路灯不亮", "路灯不亮", None),
    ],
)
def test_district_is_extracted(address, title, content, district) -> None:
    assert _normalise(address=address, title=title, content=content).appeal.district == district


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [("咨询", "咨询"), ("求助类", "求助"), (" 建议 ", "建议"), ("表扬", "表扬"), ("感谢", "表扬")],
)
def test_recorded_appeal_type_is_normalised(recorded: str, expected: str) -> None:
    assert _normalise(appeal_type=recorded).appeal.appeal_type == expected


@pytest.mark.parametrize("bad", ["好评", "other"])
def test_unknown_appeal_type_is_bad_value(bad: str) -> None:
    assert _error(appeal_type=bad).code is ErrorCode.BAD_VALUE


@pytest.mark.parametrize(
    ("content", "inferred"), [("请问公积金怎么提取", "咨询"), ("举报工地夜间施工", "举报")]
)
def test_an_appeal_type_of_other_is_inferred_from_the_text(content: str, inferred: str) -> None:
    # 其他: the agent did not choose; the channels without a type infer it the same way
    assert _normalise(appeal_type="其他", title="", content=content).appeal.appeal_type == inferred


@pytest.mark.parametrize(
    ("marked", "expected"),
    [(None, None), ("一般", None), ("普通", None), ("", None), ("紧急", "urgent"),
     ("特急", "urgent"), (" 加急 ", "urgent"), ("urgent", "urgent"),
     # as other call-centre systems write them
     ("普通件", None), ("非紧急", None), ("Normal", None), ("急件", "urgent"),
     ("特急件", "urgent"), ("较急", "urgent"), ("URGENT", "urgent")],
)  # fmt: skip
def test_the_agents_urgency_mark_is_carried(marked: str | None, expected: str | None) -> None:
    # 紧急程度 as the call-centre agent marked it; the SLA policies read "urgent"
    overrides = {} if marked is None else {"urgency": marked}
    assert _normalise(**overrides).appeal.urgency == expected


def test_an_unknown_urgency_is_bad_value() -> None:
    err = _error(urgency="很急")
    assert err.code is ErrorCode.BAD_VALUE and "紧急" in err.reason


def test_call_end_before_call_start_is_bad_value() -> None:
    err = _error(call_start="2024-03-01T10:00:00", call_end="2024-03-01T09:59:59")
    assert err.code is ErrorCode.BAD_VALUE
    assert "call_end" in err.reason


def test_call_end_equal_to_call_start_is_accepted() -> None:
    assert _normalise(call_start="2024-03-01T10:00:00", call_end="2024-03-01T10:00:00").appeal


def test_call_start_in_the_future_is_future_timestamp() -> None:
    start = (NOW + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    end = (NOW + timedelta(hours=2)).replace(tzinfo=None).isoformat()
    assert _error(call_start=start, call_end=end).code is ErrorCode.FUTURE_TIMESTAMP


def test_call_start_within_the_clock_skew_is_accepted() -> None:
    start = (NOW + timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    assert _normalise(call_start=start, call_end=start).appeal.received_at == NOW + timedelta(
        minutes=5
    )


@pytest.mark.parametrize("value", ["not a time", "2024-13-01T00:00:00"])
def test_unreadable_call_start_is_bad_timestamp(value: str) -> None:
    assert _error(call_start=value).code is ErrorCode.BAD_TIMESTAMP


def test_unreadable_call_end_is_bad_timestamp() -> None:
    assert _error(call_end="soon").code is ErrorCode.BAD_TIMESTAMP


@pytest.mark.parametrize(("title", "content"), [("", ""), ("  ", " \n\t "), ("\u3000", "")])
def test_blank_title_and_content_is_empty_content(title: str, content: str) -> None:
    assert _error(title=title, content=content).code is ErrorCode.EMPTY_CONTENT


def test_oversized_content_is_rejected_above_the_limit() -> None:
    small = settings(max_content_chars=100)
    ok = hotline.normalise(hotline.parse(hotline_bytes(content="噪" * 100)), RAW, NOW, small)
    assert len(ok.appeal.content) == 100
    with pytest.raises(IntakeError) as err:
        hotline.normalise(hotline.parse(hotline_bytes(content="噪" * 101)), RAW, NOW, small)
    assert err.value.code is ErrorCode.OVERSIZED


def test_surrounding_whitespace_does_not_count_towards_the_limit() -> None:
    small = settings(max_content_chars=100)
    order = hotline.parse(hotline_bytes(content="  " + "噪" * 100 + "\n\n"))
    assert hotline.normalise(order, RAW, NOW, small).appeal.content == "噪" * 100


def test_published_appeal_round_trips_through_json() -> None:
    a = _normalise().appeal
    back = Appeal.loads(a.dumps())
    assert back.appeal_id == a.appeal_id
    assert back.received_at == a.received_at
    assert orjson.loads(a.dumps())["schema_version"] == 1


# --- an appeal too large to publish ------------------------------------------------------


def test_an_address_making_the_appeal_too_large_to_publish_is_oversized() -> None:
    # a GB18030 work order the broker takes (two bytes a character, ~720 KB) whose UTF-8
    # appeal would pass the producer's 1,000,000 bytes: refused, not a crashed agent
    address = "A市A3区" + "幸福路" * 120_000
    raw = orjson.dumps(hotline_obj(address=address)).decode().encode("gb18030")
    assert len(raw) < 1_000_000
    with pytest.raises(IntakeError) as err:
        hotline.normalise(hotline.parse(raw), RAW, NOW, settings())
    assert err.value.code is ErrorCode.OVERSIZED
    assert "address" in err.value.reason


def test_a_long_address_that_still_fits_is_kept_whole() -> None:
    address = "A市A3区" + "幸福路" * 20_000
    appeal = hotline.normalise(
        hotline.parse(hotline_bytes(address=address)), RAW, NOW, settings()
    ).appeal
    assert appeal.address == address
    assert len(appeal.dumps()) <= MAX_APPEAL_BYTES


def test_every_record_carrying_the_largest_appeal_fits_the_producer() -> None:
    from streams.app import app

    # the understand stage's records carry the appeal and their own fields
    assert app.conf.producer_max_request_size - MAX_APPEAL_BYTES >= 50_000
