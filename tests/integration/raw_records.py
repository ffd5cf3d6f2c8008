"""Records as the pipeline's producers publish them, for integration tests: raw channel
records (mailbox JSON, WeChat XML) and appeals as intake publishes them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import orjson

from config.intake import IntakeSettings
from intake import mailbox
from models.appeal import Appeal, RawRef
from models.assignment import Assignment


def mailbox_json(
    message_id: str, subject: str, detail: str, user: str = "U1",
    time: str = "2020/1/6 12:09:38", **extra,
) -> bytes:  # fmt: skip
    """A mayor's-mailbox message (JSON); ``extra`` adds or replaces fields."""
    record = {"message_id": message_id, "user": user, "subject": subject, "time": time,
              "detail": detail, **extra}  # fmt: skip
    return orjson.dumps(record)


def received_appeal(message_id: str, subject: str, detail: str) -> Appeal:
    """The appeal intake publishes on appeals.received for that mailbox message."""
    raw = mailbox_json(message_id, subject, detail)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    return mailbox.normalise(mailbox.parse(raw), RawRef("t", 0, 0), now, IntakeSettings()).appeal


def wechat_xml(openid: str, msg_id: int, create_time: int, msg_type: str, **fields) -> bytes:
    """A WeChat push message (XML) from ``openid``; ``fields`` become CDATA elements."""
    parts = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[gh_12345]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{parts}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def assignment_json(
    appeal_id: str, department: str, assigned_at: datetime, appeal_type: str = "投诉", **appeal
) -> bytes:
    """Hop 1 of an appeal to ``department``, as the understand stage publishes it
    (``appeal``: more of its fields, e.g. the text)."""
    return Assignment(
        appeal_id=appeal_id, assignment_id=f"{appeal_id}#1", hop=1, lead_code=department, lead_name=department,
        rule_id="test", rule_explanation="test", confidence=1.0, fallback=False, assigned_at=assigned_at,
        appeal_type=appeal_type, district=appeal.pop("district", "A市A3区"), **appeal,
    ).dumps()  # fmt: skip
