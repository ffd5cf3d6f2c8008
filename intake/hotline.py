"""12345 phone-hotline work orders (工单), JSON published by the call-centre system."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from config.intake import IntakeSettings
from intake.appeal_type import recorded_appeal_type
from intake.errors import ErrorCode, IntakeError
from intake.fields import parse_json_record
from intake.normalise import AppealDraft, Normalised, finish
from intake.timestamps import check_not_future, parse_local
from models.appeal import APPEAL_TYPES, RawRef
from models.raw import HotlineWorkOrder


def parse(data: bytes) -> HotlineWorkOrder:
    """Decode and validate one work order."""
    return parse_json_record(data, HotlineWorkOrder, "work order")


def normalise(
    order: HotlineWorkOrder, raw: RawRef, now: datetime, settings: IntakeSettings
) -> Normalised:
    """Turn a work order into an appeal; the caller number goes to the contact store only."""
    tz = ZoneInfo(settings.timezone)
    start = check_not_future(
        parse_local(order.call_start, tz, "call_start"),
        now,
        settings.max_future_skew_s,
        "call_start",
    )
    end = parse_local(order.call_end, tz, "call_end")
    if end < start:
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"call_end {order.call_end} is before call_start {order.call_start}",
        )
    kind = recorded_appeal_type(order.appeal_type, order.title or "", order.content or "")
    if kind is None:
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"appeal_type {order.appeal_type!r} is not one of {'/'.join(APPEAL_TYPES)} "
            f"(or 意见 for 建议, 其他 to infer it from the text)",
        )
    draft = AppealDraft(
        channel="hotline", source_id=order.ticket_no, received_at=start, appeal_type=kind,
        title=order.title, content=order.content, identity=order.caller_number,
        address=order.address, name=order.caller_name, phone=order.caller_number,
        urgency=urgency_of(order.urgency),
    )  # fmt: skip
    return finish(draft, raw, now, settings)


#: 紧急程度 marks of call-centre systems: routine ones, and those the SLA policies read as
#: "urgent" (a safety appeal marked so gets the emergency time limits). Systems write them
#: with or without 件 (急件, 普通件) and grade them 一般/较急/紧急/特急; 较急 counts as urgent:
#: it only shortens the time limits of safety appeals, and rejecting it would hold the
#: appeal back.
_ROUTINE = frozenset(
    {"", "一般", "普通", "正常", "平", "常规", "非紧急", "不紧急", "normal", "low", "routine"}
)
_URGENT = frozenset(
    {"紧急", "特急", "加急", "较急", "急", "特别紧急", "非常紧急", "urgent", "high"}
)


def urgency_of(marked: str | None) -> str | None:
    """``"urgent"`` for an urgent mark, ``None`` for a routine or missing one."""
    value = (marked or "").strip().lower()
    if value.endswith("件"):
        value = value[:-1]
    if value in _ROUTINE:
        return None
    if value in _URGENT:
        return "urgent"
    raise IntakeError(
        ErrorCode.BAD_VALUE,
        f"urgency {marked!r} is not one of {'/'.join(sorted(_ROUTINE - {''}))} (routine) "
        f"or {'/'.join(sorted(_URGENT))} (urgent), with or without 件",
    )
