"""Which sample records to replay on which raw topics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from config.intake import IntakeSettings
from samples.appeal_rows import AppealRow
from samples.derive import emergency_calls, hotline_record, mailbox_record, wechat_messages

CHANNELS = ("mailbox", "hotline", "wechat")


def _now() -> datetime:
    """The time now in the intake's time zone (what the channels stamp records with)."""
    return datetime.now(ZoneInfo(IntakeSettings().timezone))


def records_for(
    rows: list[AppealRow], channels: tuple[str, ...], topic_of: dict[str, str]
) -> Iterator[tuple[str, bytes | None, bytes]]:
    """Raw records for each row on each chosen channel, keyed as the channel would key them."""
    now = _now()
    for row in rows:
        if "mailbox" in channels:
            yield topic_of["mailbox"], f"MB{row.id}".encode(), mailbox_record(row, now)
        if "hotline" in channels:
            yield topic_of["hotline"], f"HL{row.id}".encode(), hotline_record(row, now)
        if "wechat" in channels:
            for message in wechat_messages(row, now):
                yield topic_of["wechat"], f"wx{row.id}".encode(), message


#: Malformed records the demo adds so the dead-letter path is visible.
BAD_SAMPLES: tuple[tuple[str, bytes], ...] = (
    ("mailbox", b"{not json"),
    ("hotline", '{"ticket_no": "GD1", "title": "缺少字段"}'.encode()),
    ("wechat", b"<xml><MsgType>text</MsgType><Content>unclosed"),
    ("mailbox", b"\xff\xfe\x00binary\x81\x82"),
)


def emergency_records(
    channels: tuple[str, ...], topic_of: dict[str, str], now: datetime | None = None
) -> list[tuple[str, bytes | None, bytes]]:
    """The demo's two calls for help (:func:`samples.derive.emergency_calls`) on the chosen
    channels, timed ``now`` (default: the current time in the intake's time zone): they
    reach ``appeals.emergency`` within seconds."""
    now = now or _now()
    return [
        (topic_of[c], b"emergency-" + c.encode(), payload)
        for c, payload in emergency_calls(now)
        if c in channels
    ]
