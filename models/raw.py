"""Raw channel events as call-centre systems publish them, before normalisation.

These records document (and validate) the wire formats; intake parses raw bytes into
them field by field so that a wrong type becomes a dead letter with a reason, not a crash.
"""

import faust

_OPTS = dict(serializer="json", include_metadata=False)


class HotlineWorkOrder(faust.Record, **_OPTS):
    """A 12345 phone-hotline work order (工单) typed up by a call-centre agent.

    Times are ISO 8601; without an offset they are read as Asia/Shanghai local time.
    """

    ticket_no: str  # 工单编号
    call_id: str
    caller_number: str
    agent_id: str
    call_start: str
    call_end: str
    appeal_type: str  # 咨询/求助/投诉/举报/建议/表扬 (意见 = 建议, 感谢 = 表扬; 其他: inferred)
    title: str
    content: str
    caller_name: str | None = None
    address: str | None = None
    urgency: str | None = None  # 紧急程度 as the agent marked it: 一般/紧急/特急


class MailboxMessage(faust.Record, **_OPTS):
    """A mayor's-mailbox (市长信箱) web-form message, as the mailbox exports it.

    ``time`` is local time in the export's format, e.g. ``2019/4/25 9:32:09``.
    """

    message_id: str
    user: str
    subject: str
    time: str
    detail: str
    phone: str | None = None
    email: str | None = None


class WeChatMessage(faust.Record, **_OPTS):
    """One WeChat official-account push message (parsed from WeChat's XML).

    ``msg_type`` is text, voice (with ``recognition``, else kept as a recording), location,
    or image, video, shortvideo (kept as attachments by ``media_id``).
    """

    to_user: str
    from_user: str
    create_time: int  # Unix seconds
    msg_type: str
    msg_id: str
    content: str | None = None
    recognition: str | None = None
    location_x: float | None = None
    location_y: float | None = None
    label: str | None = None
    pic_url: str | None = None
    media_id: str | None = None
