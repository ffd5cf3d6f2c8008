"""Publishing a raw record that failed, with its reason, to the dead-letter topic."""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from faust.types import EventT

from intake.errors import ErrorCode
from models.dead_letter import DeadLetter
from streams import topics
from streams.outages import all_delivered, kafka_down
from streams.stores import intake_counters

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _b64(data: bytes | str | None) -> str | None:
    if data is None:
        return None
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


async def dead_letter(
    event: EventT,
    code: ErrorCode | str,
    reason: str,
    channel: str | None,
    stage: str = "intake",
    pending: list[Awaitable] | None = None,
) -> None:
    """Send the event's original bytes and where they came from to the dead-letter topic
    (``pending``: see :func:`send_dead_letter`)."""
    await send_dead_letter(dead_letter_record(event, code, reason, channel, stage), pending)


def dead_letter_record(
    event: EventT, code: ErrorCode | str, reason: str, channel: str | None, stage: str = "intake"
) -> DeadLetter:
    """The dead letter of an event: its original bytes, key and position, and the reason."""
    msg = event.message
    payload = event.value if isinstance(event.value, bytes | str) else msg.value
    return DeadLetter(
        error_code=str(code), reason=reason, source_topic=msg.topic, source_partition=msg.partition,
        source_offset=msg.offset, payload_b64=_b64(payload) or "", failed_at=datetime.now(SHANGHAI),
        channel=channel, key_b64=_b64(msg.key), stage=stage,
    )  # fmt: skip


#: Room left in a producer request besides the letter's key and value (record and batch
#: headers are under 100 bytes).
REQUEST_OVERHEAD = 1024


def fitting(record: DeadLetter, key: str) -> DeadLetter:
    """``record``, or, when it is too large for the producer, the same letter without the
    record's bytes, its reason saying how many there were and where they are.

    Base64 makes a letter a third larger than its record, so a record of more than about
    740 KB, which the broker takes (1 MB), has no letter within the producer's limit (1 MB).
    Refused, the letter crashed its agent and faust moved past the rest of the batch: the
    good records in it were lost.
    """
    limit = topics.dead_letters.app.conf.producer_max_request_size - REQUEST_OVERHEAD
    if len(key.encode()) + len(record.dumps()) <= limit:
        return record
    size = len(base64.b64decode(record.payload_b64)) if record.payload_b64 else 0
    reason = (
        f"{record.reason} (the record's {size} bytes are too large to keep in a dead letter: "
        f"read them at {key} while the topic retains them)"
    )
    return record.derive(payload_b64="", key_b64=None, reason=reason)


async def send_dead_letter(record: DeadLetter, pending: list[Awaitable] | None = None) -> None:
    """Publish a prepared dead letter (:func:`publish_dead_letter`) and count it."""
    await publish_dead_letter(record, pending)
    await intake_counters().add(Counter({counter_of(record): 1}))


def counter_of(record: DeadLetter) -> str:
    """The intake counter a dead letter adds to (``<channel>.dead_lettered``)."""
    return f"{record.channel or 'unknown'}.dead_lettered"


async def publish_dead_letter(record: DeadLetter, pending: list[Awaitable] | None = None) -> None:
    """Publish a prepared dead letter, keyed by its source position (without the record's
    bytes if they do not fit, see :func:`fitting`); Kafka only, not counted.

    The failed record's offset may be acknowledged once this returns, so the broker's
    acknowledgement is awaited here; a batch passes ``pending`` instead, gets the
    acknowledgement added to it and awaits all of them at once (one wait per dead letter
    made a flood of bad records twelve times slower).
    """
    key = f"{record.source_topic}/{record.source_partition}/{record.source_offset}"
    record = fitting(record, key)
    log.warning("dead-letter %s %s: %s", key, record.error_code, record.reason)
    ack = await topics.dead_letters.send(key=key, value=record)
    if pending is None:
        await ack
    else:
        pending.append(ack)


@dataclass
class LetterBatch:
    """The dead letters of a batch, made once and then sent and counted once, however
    often a step of the batch is retried through an outage.

    Retried whole, a batch sent its letters again at each attempt: nine copies of one
    bad record after a Redis outage of 45 s, while the counter said one."""

    letters: list[DeadLetter]
    sent: int = 0  # letters handed to the producer
    acks: list = field(default_factory=list)
    counted: bool = False

    async def send(self) -> None:
        """Send the letters not sent yet (a retry goes on from the first of them)."""
        while self.sent < len(self.letters):
            await publish_dead_letter(self.letters[self.sent], self.acks)
            self.sent += 1

    async def count(self) -> None:
        """Add the letters to the intake counters, once."""
        if self.letters and not self.counted:
            await intake_counters().add(Counter(counter_of(letter) for letter in self.letters))
            self.counted = True

    async def delivered(self) -> None:
        """Wait for the broker's acknowledgements. When the broker stayed away longer
        than the producer's retries, the letters are sent again and the error raised, for
        :func:`streams.outages.until_reachable` to wait out and call this again."""
        try:
            await all_delivered(self.acks)
        except Exception as exc:
            if kafka_down(exc):
                self.sent, self.acks = 0, []
                await self.send()
            raise
