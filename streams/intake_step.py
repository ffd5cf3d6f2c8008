"""One raw record through intake: convert, or a dead letter with the reason; never stop."""

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
from models.dead_letter import DeadLetter
from streams.dead_letters import LetterBatch, dead_letter_record
from streams.outages import until_reachable

log = logging.getLogger(__name__)
intake_settings = IntakeSettings()
TZ = ZoneInfo(intake_settings.timezone)
T = TypeVar("T")


def convert_or_letter(
    event: EventT,
    channel: str,
    convert: Callable[[bytes, RawRef, datetime], T],
    letters: list[DeadLetter],
) -> T | None:
    """Run ``convert`` on the event's bytes; on failure add its dead letter to ``letters``
    and return None. No I/O: the caller sends the letters once (``LetterBatch``), so a
    batch retried through an outage does not send them again.

    Unexpected exceptions become ``INTERNAL`` letters (with the traceback logged) so one
    bad record cannot stop the partition.
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
        letters.append(dead_letter_record(event, exc.code, exc.reason, channel))
    except Exception as exc:  # a bug of ours: keep the record for replay after the fix
        log.exception("intake failed on %s", ref.as_text())
        reason = f"{type(exc).__name__}: {exc}"
        letters.append(dead_letter_record(event, ErrorCode.INTERNAL, reason, channel))
    return None


def convert_all(
    events: list[EventT], channel: str, convert: Callable[[bytes, RawRef, datetime], T]
) -> tuple[list[T], LetterBatch]:
    """:func:`convert_or_letter` over a batch: the converted records, in order, and the
    dead letters of the others."""
    letters: list[DeadLetter] = []
    converted = [
        r for e in events if (r := convert_or_letter(e, channel, convert, letters)) is not None
    ]
    return converted, LetterBatch(letters)


async def publish_with_letters(
    what: str, letters: LetterBatch, publish: Callable[..., Awaitable[object]], *args: object
) -> None:
    """A converted batch out: its dead letters sent and counted once, then ``publish(*args)``,
    then the letters' acknowledgements; each step retried through an outage on its own,
    so a retry repeats nothing that is done."""
    await until_reachable(f"{what} (dead letters)", letters.send)
    await until_reachable(f"{what} (dead-letter count)", letters.count)
    await until_reachable(what, publish, *args)
    await until_reachable(f"{what} (dead letters)", letters.delivered)
