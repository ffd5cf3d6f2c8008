"""Field-by-field validation of raw records against the faust records in models.raw."""

from __future__ import annotations

from typing import Any

import pytest

from intake.errors import ErrorCode, IntakeError
from intake.fields import build
from models.raw import HotlineWorkOrder, MailboxMessage, WeChatMessage
from tests.unit.intake._support import hotline_obj, mailbox_obj


def _wx(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "to_user": "gh_1",
        "from_user": "o1",
        "create_time": 1700000000,
        "msg_type": "text",
        "msg_id": "1",
    }
    obj.update(overrides)
    return obj


def _code(record: type, obj: Any) -> ErrorCode:
    with pytest.raises(IntakeError) as err:
        build(record, obj, "thing")
    return err.value.code


def test_valid_work_order_is_built_with_all_values() -> None:
    order = build(HotlineWorkOrder, hotline_obj(), "work order")
    assert isinstance(order, HotlineWorkOrder)
    assert order.ticket_no == "GD20240301000123"
    assert order.caller_name == "张三"
    assert order.address == "A市A3区杜鹃路"


def test_missing_optional_fields_become_none() -> None:
    obj = mailbox_obj()
    del obj["phone"], obj["email"]
    msg = build(MailboxMessage, obj, "mailbox message")
    assert msg.phone is None and msg.email is None


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_optional_text_becomes_none(blank: str) -> None:
    assert build(MailboxMessage, mailbox_obj(email=blank), "m").email is None
    assert build(WeChatMessage, _wx(location_x=blank), "m").location_x is None


@pytest.mark.parametrize("field", ["ticket_no", "caller_number", "call_start", "content"])
def test_missing_required_field_is_missing_field(field: str) -> None:
    obj = hotline_obj()
    del obj[field]
    with pytest.raises(IntakeError) as err:
        build(HotlineWorkOrder, obj, "work order")
    assert err.value.code is ErrorCode.MISSING_FIELD
    assert f"'{field}'" in err.value.reason


def test_null_required_field_is_missing_field() -> None:
    assert _code(HotlineWorkOrder, hotline_obj(title=None)) is ErrorCode.MISSING_FIELD


@pytest.mark.parametrize("value", [["a"], {"a": 1}, True, False])
def test_wrong_type_for_text_is_wrong_type(value: Any) -> None:
    with pytest.raises(IntakeError) as err:
        build(HotlineWorkOrder, hotline_obj(title=value), "work order")
    assert err.value.code is ErrorCode.WRONG_TYPE
    assert "work order.title" in err.value.reason


@pytest.mark.parametrize("value", ["abc", "1.7e9", [1], True])
def test_wrong_type_for_number_is_wrong_type(value: Any) -> None:
    assert _code(WeChatMessage, _wx(create_time=value)) is ErrorCode.WRONG_TYPE


@pytest.mark.parametrize(("value", "expected"), [(20240301123, "20240301123"), (1.5, "1.5")])
def test_numbers_are_accepted_as_text(value: Any, expected: str) -> None:
    order = build(HotlineWorkOrder, hotline_obj(ticket_no=value, caller_number=13812345678), "w")
    assert order.ticket_no == expected
    assert order.caller_number == "13812345678"


def test_numeric_strings_are_accepted_as_numbers() -> None:
    msg = build(
        WeChatMessage, _wx(create_time=" 1700000000 ", location_x="28.19", location_y="112.97"), "m"
    )
    assert msg.create_time == 1700000000 and isinstance(msg.create_time, int)
    assert msg.location_x == pytest.approx(28.19) and isinstance(msg.location_x, float)
    assert msg.location_y == pytest.approx(112.97)


def test_integer_is_accepted_where_a_float_is_expected() -> None:
    msg = build(WeChatMessage, _wx(location_x=28), "m")
    assert msg.location_x == 28.0 and isinstance(msg.location_x, float)


def test_unknown_extra_fields_are_ignored() -> None:
    order = build(HotlineWorkOrder, hotline_obj(priority="high", extra={"x": 1}), "w")
    assert not hasattr(order, "priority")


@pytest.mark.parametrize("obj", [[hotline_obj()], "text", 42, None, True])
def test_non_object_is_wrong_type(obj: Any) -> None:
    with pytest.raises(IntakeError) as err:
        build(HotlineWorkOrder, obj, "work order")
    assert err.value.code is ErrorCode.WRONG_TYPE
    assert "JSON object" in err.value.reason


def test_error_message_starts_with_the_code() -> None:
    with pytest.raises(IntakeError, match=r"^MISSING_FIELD: "):
        build(MailboxMessage, {}, "mailbox message")


@pytest.mark.parametrize("field", ["ticket_no", "appeal_type", "call_start"])
def test_blank_required_id_or_time_is_missing(field: str) -> None:
    # blank ids would all map to one appeal id; only free-text fields may be blank here
    with pytest.raises(IntakeError) as err:
        build(HotlineWorkOrder, hotline_obj(**{field: "  "}), "work order")
    assert err.value.code is ErrorCode.MISSING_FIELD
