"""One raw record through intake: convert, or dead-letter with the reason; never stop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from faust.types import EventT

from config.intake import IntakeSettings
from intake.errors import ErrorCode, IntakeError
from models.appeal import RawRef
from streams.dead_letters import dead_letter

log = logging.getLogger(__name__)
intake_settings = IntakeSettings()
TZ = ZoneInfo(intake_settings.timezone)
T = TypeVar("T")


async def convert_or_dead_letter(
    event: EventT,
    channel: str,
    convert: Callable[[bytes, RawRef, datetime], T],
    pending: list[Awaitable],
) -> T | None:
    """Run ``convert`` on the event's bytes; on failure publish a dead letter and return None.

    Unexpected exceptions are dead-lettered as ``INTERNAL`` (with the traceback logged)
    so one bad record cannot stop the partition. The dead letter's acknowledgement is
    added to ``pending``, for the batch to await before its offsets are acknowledged.
    """
    msg = event.message
    ref = RawRef(topic=msg.topic, partition=msg.partition, offset=msg.offset)
    data = event.value
    try:
        if not data:
            raise IntakeError(
                ErrorCode.EMPTY_CONTENT, "the record has no value (empty or tombstone)"
            )
        return convert(data, ref, datetime.now(TZ))
    except IntakeError as exc:
        await dead_letter(event, exc.code, exc.reason, channel, pending=pending)
    except Exception as exc:  # a bug of ours: keep the record for replay after the fix
        log.exception("intake failed on %s", ref.as_text())
        reason = f"{type(exc).__name__}: {exc}"
        await dead_letter(event, ErrorCode.INTERNAL, reason, channel, pending=pending)
    return None


async def convert_all(
    events: list[EventT],
    channel: str,
    convert: Callable[[bytes, RawRef, datetime], T],
    pending: list[Awaitable],
) -> list[T]:
    """:func:`convert_or_dead_letter` over a batch: the converted records, in order."""
    return [
        r
        for e in events
        if (r := await convert_or_dead_letter(e, channel, convert, pending)) is not None
    ]
