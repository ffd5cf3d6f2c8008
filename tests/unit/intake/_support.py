"""Helpers for the intake unit tests: fixed clock, settings, and generators of valid
ID and bank-card numbers whose check digits are computed here, independently of
``intake.pii``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from config.intake import IntakeSettings
from models.appeal import RawRef

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=TZ)
RAW = RawRef(topic="raw.test", partition=0, offset=42)
SECRET = "unit-test-secret"


def settings(**overrides: Any) -> IntakeSettings:
    """Explicit settings so the tests do not depend on HOTLINE_* environment variables."""
    values: dict[str, Any] = {
        "max_content_chars": 20_000,
        "max_future_skew_s": 600,
        "wechat_window_s": 600,
        "wechat_max_session_messages": 50,
        "wechat_idle_flush_s": 600,
        "wechat_emergency_idle_s": 30,
        "contact_secret": SECRET,
        "timezone": "Asia/Shanghai",
    }
    values.update(overrides)
    return IntakeSettings(**values)


# --- resident ID numbers (GB 11643, ISO 7064 MOD 11-2) ------------------------------


def id18_check(body17: str) -> str:
    """Check character for the first 17 digits: weights are 2^(17-i) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id18(area: str = "430102", birth: str = "19850315", seq: str = "123") -> str:
    body = area + birth + seq
    assert len(body) == 17
    return body + id18_check(body)


def id18_ok(number: str) -> bool:
    return len(number) == 18 and id18_check(number[:17]) == number[17].upper()


# --- bank cards (Luhn) -----------------------------------------------------------------


def luhn_check_digit(partial: str) -> str:
    """Digit that makes ``partial + digit`` pass Luhn."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_card(prefix: str = "622202", length: int = 16, filler: str = "0212345678901234") -> str:
    partial = (prefix + filler)[: length - 1]
    return partial + luhn_check_digit(partial)


def luhn(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


# --- raw records ------------------------------------------------------------------------


def hotline_obj(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "ticket_no": "GD20240301000123",
        "call_id": "CALL-0001",
        "caller_number": "13812345678",
        "caller_name": "张三",
        "agent_id": "A007",
        "call_start": "2024-03-01T10:00:00",
        "call_end": "2024-03-01T10:04:30",
        "appeal_type": "投诉",
        "title": "A3区某工地夜间施工扰民",
        "content": "市民反映A市A3区某工地每晚施工到凌晨，噪音严重影响休息。",
        "address": "A市A3区杜鹃路",
    }
    obj.update(overrides)
    return obj


def hotline_bytes(**overrides: Any) -> bytes:
    return orjson.dumps(hotline_obj(**overrides))


def mailbox_obj(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "message_id": "MB100026",
        "user": "U12345678",
        "subject": "K8县丁字街的商户乱摆摊",
        "time": "2019/4/25 9:32:09",
        "detail": "请问A市A3区丁字街的商户乱摆摊什么时候能管一管？",
        "phone": "13912345678",
        "email": "zhangsan@example.com",
    }
    obj.update(overrides)
    return obj


def mailbox_bytes(**overrides: Any) -> bytes:
    return orjson.dumps(mailbox_obj(**overrides))


OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"


def wx_xml(**fields: Any) -> bytes:
    """WeChat push XML; strings in CDATA, numbers bare, as WeChat sends them.

    Pass ``FieldName=None`` to leave an element out.
    """
    base: dict[str, Any] = {
        "ToUserName": "gh_12345hotline",
        "FromUserName": OPENID,
        "CreateTime": 1735700000,
        "MsgType": "text",
        "Content": "你好",
        "MsgId": "24000000000000001",
    }
    base.update(fields)
    parts = []
    for name, value in base.items():
        if value is None:
            continue
        text = str(value) if isinstance(value, int | float) else f"<![CDATA[{value}]]>"
        parts.append(f"<{name}>{text}</{name}>")
    return ("<xml>" + "".join(parts) + "</xml>").encode()


def json_text(appeal_bytes: bytes) -> str:
    """The published appeal as readable text (whatever the serializer escapes)."""
    return orjson.dumps(orjson.loads(appeal_bytes)).decode() + appeal_bytes.decode(
        "utf-8", "replace"
    )
