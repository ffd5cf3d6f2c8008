"""Mayor's-mailbox (市长信箱) messages, JSON in the shape of the mailbox export."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from config.intake import IntakeSettings
from intake.appeal_type import infer_appeal_type
from intake.fields import parse_json_record
from intake.normalise import AppealDraft, Normalised, finish
from intake.timestamps import check_not_future, parse_local
from models.appeal import RawRef
from models.raw import MailboxMessage


def parse(data: bytes) -> MailboxMessage:
    """Decode and validate one mailbox message."""
    return parse_json_record(data, MailboxMessage, "mailbox message")


def normalise(
    msg: MailboxMessage, raw: RawRef, now: datetime, settings: IntakeSettings
) -> Normalised:
    """Turn a mailbox message into an appeal; phone and e-mail go to the contact store only."""
    tz = ZoneInfo(settings.timezone)
    received = check_not_future(
        parse_local(msg.time, tz, "time"), now, settings.max_future_skew_s, "time"
    )
    draft = AppealDraft(
        channel="mailbox", source_id=msg.message_id, received_at=received,
        appeal_type=infer_appeal_type(msg.subject, msg.detail), title=msg.subject,
        content=msg.detail, identity=msg.user, phone=msg.phone, email=msg.email,
    )  # fmt: skip
    return finish(draft, raw, now, settings)
