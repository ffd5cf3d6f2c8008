"""Turn real appeal rows into raw channel records, as each channel would send them.

The mailbox record is the row itself. Hotline work orders and WeChat messages are
derived: an agent's summary of a call, or a citizen typing the appeal in a few
messages. Contact details are synthetic but well-formed, so masking can be seen working.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson

from intake.appeal_type import infer_appeal_type
from routing.district import extract_district
from samples.appeal_rows import AppealRow

TZ = ZoneInfo("Asia/Shanghai")
_SENTENCE = re.compile(r"(?<=[。！？!?；;])")


def _digits(seed: str, n: int) -> str:
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(h)[-n:].zfill(n)


def synthetic_mobile(seed: str) -> str:
    """A well-formed (not real) mainland mobile number, stable per seed."""
    return "139" + _digits(seed, 8)


def _subject(row: AppealRow) -> str:
    if row.subject:
        return row.subject
    # mars rows join subject and detail; the first clause stands in for the subject
    return re.split(r"[，。！？,!?\s]", row.detail, maxsplit=1)[0][:40] or row.detail[:20]


def _when(row: AppealRow, fallback: datetime) -> datetime:
    try:
        return datetime.strptime(row.time, "%Y/%m/%d %H:%M:%S").replace(tzinfo=TZ)
    except ValueError:
        return fallback


def mailbox_record(row: AppealRow, fallback_time: datetime) -> bytes:
    """The mailbox export's shape: message id, user, subject, local time, detail."""
    when = _when(row, fallback_time)
    return orjson.dumps(
        {
            "message_id": f"MB{row.id}", "user": row.user or f"U{_digits(row.id, 8)}",
            "subject": _subject(row), "time": f"{when.year}/{when.month}/{when.day} {when:%H:%M:%S}",
            "detail": row.detail, "phone": synthetic_mobile("mb" + row.id),
        }
    )  # fmt: skip


def hotline_record(row: AppealRow, fallback_time: datetime) -> bytes:
    """A call-centre work order: the agent's title and summary, with the caller's number."""
    start = _when(row, fallback_time)
    caller = synthetic_mobile("hl" + row.id)
    district = extract_district(row.subject, row.detail)
    content = f"{row.detail}（来电人要求回电：{caller}）"
    return orjson.dumps(
        {
            "ticket_no": f"GD{start:%Y%m%d}{row.id.zfill(6)}", "call_id": f"CALL-{_digits('c' + row.id, 10)}",
            "caller_number": caller, "caller_name": "市民", "agent_id": f"A{int(_digits(row.id, 3)) % 40:03d}",
            "call_start": start.isoformat(), "call_end": (start + timedelta(minutes=4)).isoformat(),
            "appeal_type": infer_appeal_type(_subject(row), row.detail), "title": _subject(row),
            "content": content, "address": district.name if district else None,
        }
    )  # fmt: skip


def _xml(fields: dict[str, str | int | float]) -> bytes:
    parts = []
    for name, value in fields.items():
        text = str(value) if isinstance(value, int | float) else f"<![CDATA[{value}]]>"
        parts.append(f"<{name}>{text}</{name}>")
    return ("<xml>" + "".join(parts) + "</xml>").encode()


def wechat_messages(row: AppealRow, fallback_time: datetime) -> list[bytes]:
    """A citizen typing the appeal into WeChat: a few text messages and maybe a location."""
    openid = "o" + hashlib.sha256(("wx" + row.id).encode()).hexdigest()[:27]
    start = int(_when(row, fallback_time).timestamp())
    sentences = [s for s in _SENTENCE.split(row.detail) if s.strip()] or [row.detail]
    chunks = [sentences[i : i + 3] for i in range(0, min(len(sentences), 9), 3)]
    base = {"ToUserName": "gh_12345hotline", "FromUserName": openid}
    out = [
        _xml({**base, "CreateTime": start, "MsgType": "text", "Content": _subject(row) + "。",
              "MsgId": int(_digits("m0" + row.id, 16))})
    ]  # fmt: skip
    for i, chunk in enumerate(chunks, start=1):
        out.append(
            _xml({**base, "CreateTime": start + 40 * i, "MsgType": "text", "Content": "".join(chunk),
                  "MsgId": int(_digits(f"m{i}" + row.id, 16))})
        )  # fmt: skip
    district = extract_district(row.subject, row.detail)
    if district and district.district:
        out.append(
            _xml({**base, "CreateTime": start + 40 * (len(chunks) + 1), "MsgType": "location",
                  "Location_X": 28.19, "Location_Y": 112.97, "Scale": 15, "Label": district.name,
                  "MsgId": int(_digits("loc" + row.id, 16))})
        )  # fmt: skip
    return out


def emergency_calls(now: datetime) -> list[tuple[str, bytes]]:
    """Two calls for help the demo adds so the emergency transfer is visible (invented, not
    from the shared data, which holds complaints): an agent's work order marked 紧急, and a
    WeChat user typing in three messages. ``(channel, record)`` pairs."""
    start = now - timedelta(minutes=3)
    caller = synthetic_mobile("emergency-hotline")
    order = orjson.dumps(
        {
            "ticket_no": f"GD{start:%Y%m%d}EMG001", "call_id": f"CALL-{_digits('emg', 10)}",
            "caller_number": caller, "caller_name": "市民", "agent_id": "A001",
            "call_start": start.isoformat(), "call_end": (start + timedelta(minutes=2)).isoformat(),
            "appeal_type": "求助", "title": "楼道燃气泄漏",
            "content": "来电人反映其所在小区3栋2单元楼道内燃气泄漏，气味很浓，楼上有老人在家，请求紧急处置。",
            "address": "A市A3区杜鹃路8号", "urgency": "紧急",
        }
    )  # fmt: skip
    openid = "o" + hashlib.sha256(b"emergency-wechat").hexdigest()[:27]
    base = {"ToUserName": "gh_12345hotline", "FromUserName": openid}
    sent = int(now.timestamp()) - 20
    messages = [
        _xml({**base, "CreateTime": sent + i * 5, "MsgType": "text", "Content": text,
              "MsgId": int(_digits(f"emg-wx-{i}", 16))})
        for i, text in enumerate(("你好", "救命，楼下着火了，浓烟很大", "地址是A市A5区雨花路12号"))
    ]  # fmt: skip
    return [("hotline", order), *(("wechat", m) for m in messages)]
