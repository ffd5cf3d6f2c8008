"""Mayor's-mailbox messages: the export's JSON to appeal plus contact."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake import mailbox
from intake.errors import ErrorCode, IntakeError
from intake.identity import appeal_id
from tests.unit.intake._support import NOW, RAW, json_text, mailbox_bytes, settings


def _normalise(**overrides):
    return mailbox.normalise(mailbox.parse(mailbox_bytes(**overrides)), RAW, NOW, settings())


def _error(**overrides) -> IntakeError:
    with pytest.raises(IntakeError) as err:
        _normalise(**overrides)
    return err.value


def test_export_time_is_read_as_shanghai_local_time() -> None:
    a = _normalise(time="2019/4/25 9:32:09").appeal
    assert a.received_at.isoformat() == "2019-04-25T09:32:09+08:00"
    assert a.received_at.utcoffset() == timedelta(hours=8)


def test_appeal_fields() -> None:
    a = _normalise(message_id="MB100026").appeal
    assert a.channel == "mailbox"
    assert a.source_id == "MB100026"
    assert a.appeal_id == appeal_id("mailbox", "MB100026")
    assert a.appeal_id.startswith("MB-")
    assert a.title == "K8县丁字街的商户乱摆摊"
    assert a.raw == RAW


def test_same_source_id_on_other_channel_gives_another_appeal_id() -> None:
    assert _normalise(message_id="100026").appeal.appeal_id != appeal_id("hotline", "100026")


def test_phone_email_and_user_stay_in_the_contact() -> None:
    n = _normalise(user="U88886666", phone="13912345678", email="zhangsan@example.com")
    published = n.appeal.dumps()
    text = json_text(published)
    for secret in ("13912345678", "zhangsan@example.com", "zhangsan", "U88886666"):
        assert secret not in text
    assert n.contact.phone == "13912345678"
    assert n.contact.email == "zhangsan@example.com"
    assert n.contact.identity == "U88886666"
    assert n.contact.channel == "mailbox"
    assert n.appeal.contact_ref == n.contact.ref


def test_contact_ref_is_per_user_not_per_message() -> None:
    a = _normalise(message_id="MB1", user="U1").appeal
    b = _normalise(message_id="MB2", user="U1").appeal
    c = _normalise(message_id="MB3", user="U2").appeal
    assert a.contact_ref == b.contact_ref != c.contact_ref


def test_optional_phone_and_email_may_be_absent() -> None:
    n = _normalise(phone=None, email=None)
    assert n.contact.phone is None and n.contact.email is None


def test_personal_data_in_subject_and_detail_is_masked() -> None:
    n = _normalise(subject="请回电13812345678", detail="我的邮箱wang@163.com，座机0731-88889999")
    assert n.appeal.title == "请回电138****5678"
    assert n.appeal.content == "我的邮箱w***@163.com，座机0731-****9999"
    kinds = sorted(k for k, _ in n.contact.found_in_text[n.appeal.appeal_id])
    assert kinds == ["email", "landline", "mobile"]


def test_district_comes_from_the_text() -> None:
    assert _normalise(subject="路灯", detail="A市A3区杜鹃路路灯不亮").appeal.district == "A市A3区"


@pytest.mark.parametrize(
    ("subject", "detail", "kind"),
    [
        ("请问A市乘坐地铁是否可以使用爱心卡？", "看媒体报道。", "咨询"),
        ("举报某工地偷排污水", "", "举报"),
        ("路灯不亮", "晚上施工扰民", "投诉"),
        ("路灯不亮", "已经三个月了", "求助"),
    ],
)
def test_appeal_type_is_inferred(subject: str, detail: str, kind: str) -> None:
    assert _normalise(subject=subject, detail=detail).appeal.appeal_type == kind


def test_empty_subject_takes_the_start_of_the_detail_as_title() -> None:
    detail = "A市A3区杜鹃路和雷峰大道交界处的路灯已经坏了三个月，晚上出行很不安全。"
    a = _normalise(subject="", detail=detail).appeal
    assert a.title == detail[:30]
    assert a.content == detail


def test_subject_only_message_uses_subject_as_content() -> None:
    a = _normalise(subject="丁字街乱摆摊", detail="   ").appeal
    assert a.title == "丁字街乱摆摊"
    assert a.content == "丁字街乱摆摊"


def test_blank_subject_and_detail_is_empty_content() -> None:
    assert _error(subject=" ", detail="\n").code is ErrorCode.EMPTY_CONTENT


def test_oversized_detail() -> None:
    msg = mailbox.parse(mailbox_bytes(detail="长" * 101))
    with pytest.raises(IntakeError) as err:
        mailbox.normalise(msg, RAW, NOW, settings(max_content_chars=100))
    assert err.value.code is ErrorCode.OVERSIZED


@pytest.mark.parametrize(
    ("time", "code"),
    [
        ("2025/1/2 9:00:00", ErrorCode.FUTURE_TIMESTAMP),
        ("1999/12/31 9:00:00", ErrorCode.BAD_TIMESTAMP),
        ("去年", ErrorCode.BAD_TIMESTAMP),
    ],
)
def test_bad_times(time: str, code: ErrorCode) -> None:
    assert _error(time=time).code is code


def test_missing_detail_is_missing_field() -> None:
    with pytest.raises(IntakeError) as err:
        mailbox.parse(
            b'{"message_id": "MB1", "user": "U1", "subject": "s", "time": "2019/4/25 9:32:09"}'
        )
    assert err.value.code is ErrorCode.MISSING_FIELD


def test_bad_json() -> None:
    with pytest.raises(IntakeError) as err:
        mailbox.parse(b"{not json")
    assert err.value.code is ErrorCode.BAD_JSON
