"""Which dead letters to replay, in which order, and a summary of what the dead-letter
topic holds.

Pure logic over :class:`models.dead_letter.DeadLetter` records: no Kafka, no Redis. A
letter is identified by its own position on the dead-letter topic (``partition/offset``),
which is how a replay remembers what it already sent back.

A letter's ``failed_at`` is written with its zone; one without (hand-published, or from
another tool) is read as local time, ``zone`` (Asia/Shanghai unless told).
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from intake.errors import ErrorCode
from models.dead_letter import DeadLetter

#: Codes that say the record itself is wrong, whatever the configuration, calendar or
#: state: sent back unchanged it is only dead-lettered again (as a new letter, which a
#: later replay would pick up in turn). Such records are fixed and republished instead;
#: a replay sends them only when forced. Everything else (INTERNAL, SLA_CALENDAR_RANGE,
#: SLA_UNKNOWN_CASE, UNKNOWN_APPEAL, OVERSIZED, FUTURE_TIMESTAMP…) can pass on a retry.
INPUT_ERRORS = frozenset(
    str(c)
    for c in (
        ErrorCode.UNDECODABLE,
        ErrorCode.BAD_JSON,
        ErrorCode.BAD_XML,
        ErrorCode.MISSING_FIELD,
        ErrorCode.WRONG_TYPE,
        ErrorCode.BAD_VALUE,
        ErrorCode.EMPTY_CONTENT,
        ErrorCode.UNKNOWN_MSG_TYPE,
        ErrorCode.BAD_TIMESTAMP,
        "SLA_INVALID",
    )  # fmt: skip
)


#: Stages whose letters hold a record they built, not the bytes they read at the source
#: position: a WeChat session's letter holds its pieces (JSON) and the raw position of its
#: first message. Sent to the source topic (raw.wechat, XML) it could only become BAD_XML.
NOT_ORIGINAL_STAGES = frozenset({"wechat-session"})

#: The zone of a ``failed_at`` (or ``--since``) written without one.
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Letter:
    """One record of the dead-letter topic, parsed."""

    letter_id: str  # "<partition>/<offset>" on the dead-letter topic
    record: DeadLetter
    #: The broker's timestamp of the letter's record (ms). With the position it tells this
    #: letter from one at the same position of a dead-letter topic created again.
    stamp: int = 0


def letter_id(partition: int, offset: int) -> str:
    """The id of the dead letter at this position of the dead-letter topic."""
    return f"{partition}/{offset}"


def source_of(record: DeadLetter) -> tuple[str, str, int, int]:
    """The failure a letter is about: the stage and the position of the record it read.

    Two letters with one source were written for one delivery of one record: the worker
    stopped after writing the first and before committing its offsets, read the record
    again and wrote a second (at-least-once). A replayed record that fails again comes back
    at a new position, so its letter has a source of its own.
    """
    return (record.stage, record.source_topic, record.source_partition, record.source_offset)


def failed_at(record: DeadLetter, zone: tzinfo = SHANGHAI) -> datetime:
    """When the letter's record failed, with a zone: a naive ``failed_at`` is local time
    (comparing it with an aware one raised TypeError in ``summary`` and ``--since``)."""
    at = record.failed_at
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _position(letter: Letter) -> tuple[int, ...]:
    """The letter's own position on the dead-letter topic, for ties."""
    return tuple(int(part) for part in letter.letter_id.split("/") if part.isdigit())


def replay_order(letters: Iterable[Letter], zone: tzinfo = SHANGHAI) -> list[Letter]:
    """The letters in the order a replay sends them: as their records first came.

    Within one source partition, source-offset order (ties, the same record dead-lettered
    twice: ``failed_at``, then the letter's own position). That is the order a stage read
    them in, and the one that matters: a case's events are on one partition of
    ``cases.events``, and the SLA stage rejects a reply before its accept
    (``not_signed_for``) and an accept after a later pause (``out_of_order``, for good).
    The dead-letter topic does not keep it: a letter's key is its source position, so one
    case's consecutive events land on different dead-letter partitions, which are read one
    after the other.

    Between source partitions and topics, which no stage reads in a common order, the
    letter that failed first goes first (a merge of the partitions' sequences on the
    ``failed_at`` of their next letter; on a tie, the partition read first), so an
    assignment dead-lettered before its case's events (on ``assignments.all``, they on
    ``cases.events``) is sent back before them. An event that still overtakes its
    assignment (the two topics are read by different agents) waits for it, as any early
    case event does.
    """
    sources: dict[tuple[str, int], list[Letter]] = {}
    for letter in letters:
        r = letter.record
        sources.setdefault((r.source_topic, r.source_partition), []).append(letter)
    queues = [  # in the order their first letters were read: ties keep it
        sorted(
            group,
            key=lambda g: (g.record.source_offset, failed_at(g.record, zone), _position(g)),
        )
        for group in sources.values()
    ]
    heads = [(failed_at(queue[0].record, zone), q, 0) for q, queue in enumerate(queues)]
    heapq.heapify(heads)
    ordered: list[Letter] = []
    while heads:
        _, q, i = heapq.heappop(heads)
        queue = queues[q]
        ordered.append(queue[i])
        if i + 1 < len(queue):
            heapq.heappush(heads, (failed_at(queue[i + 1].record, zone), q, i + 1))
    return ordered


@dataclass(frozen=True)
class Filters:
    """What to pick; an empty collection (or ``None``) does not filter.

    ``source_topics`` are full topic names, ``codes`` and ``stages`` exactly as the letters
    have them (:func:`resolve_filter` finds those). ``since`` compares with ``failed_at``;
    either one without a zone is in ``zone``.
    """

    codes: Collection[str] = ()
    stages: Collection[str] = ()
    source_topics: Collection[str] = ()
    since: datetime | None = None
    zone: tzinfo = SHANGHAI

    def matches(self, letter: DeadLetter) -> bool:
        """Whether one dead letter passes every filter."""
        since = self.since
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=self.zone)
        return (
            (not self.codes or letter.error_code in self.codes)
            and (not self.stages or letter.stage in self.stages)
            and (not self.source_topics or letter.source_topic in self.source_topics)
            and (since is None or failed_at(letter, self.zone) >= since)
        )


class UnknownFilterValue(ValueError):
    """A filter value that no letter on the dead-letter topic has: a typo (a code in the
    wrong case, a topic with a prefix too many) would otherwise match nothing and read as
    'nothing to replay'."""

    def __init__(self, option: str, missing: list[str], present: Collection[str]) -> None:
        self.option, self.missing, self.present = option, missing, sorted(present)
        super().__init__(
            f"no dead letter has {option} {', '.join(missing)} "
            f"(theirs: {', '.join(self.present) or 'none'})"
        )


def resolve_filter(
    option: str,
    given: Iterable[str],
    present: Collection[str],
    candidates: Callable[[str], Iterable[str]] = lambda value: (value,),
    fold: Callable[[str], str] = lambda value: value,
) -> set[str]:
    """The values of ``present`` (what the letters have) that the ``given`` filter values
    name, compared after ``fold`` (e.g. ``str.upper``: codes in any case). A given value
    may be spelt several ways, ``candidates`` (e.g. with the topic prefix, then as given):
    the first spelling that some letter has is the one taken.

    Raises :class:`UnknownFilterValue`, naming the values present, when a given value
    names none of them.
    """
    by_fold: dict[str, set[str]] = {}
    for value in present:
        by_fold.setdefault(fold(value), set()).add(value)
    chosen: set[str] = set()
    missing: list[str] = []
    for value in given:
        found = next((by_fold[f] for c in candidates(value) if (f := fold(c)) in by_fold), None)
        if found is None:
            missing.append(value)
        else:
            chosen |= found
    if missing:
        raise UnknownFilterValue(option, missing, present)
    return chosen


@dataclass(frozen=True, slots=True)
class Resend:
    """What a replay publishes for one letter: its original bytes, where they came from."""

    letter_id: str
    topic: str
    key: bytes | None
    value: bytes
    stamp: int = 0  # the letter's (:attr:`Letter.stamp`), to mark it replayed


@dataclass
class Plan:
    """The outcome of choosing: what to send, and why the other matching letters are not."""

    resend: list[Resend] = field(default_factory=list)
    already_replayed: list[str] = field(default_factory=list)
    unknown_topic: list[str] = field(default_factory=list)  # not a topic of this deployment
    missing_topic: list[str] = field(default_factory=list)  # one of ours, not on the broker
    not_original: list[str] = field(default_factory=list)  # NOT_ORIGINAL_STAGES
    unreadable: list[str] = field(default_factory=list)  # payload or key not base64
    no_payload: list[str] = field(default_factory=list)  # bytes empty, or too large to keep
    input_errors: list[str] = field(default_factory=list)  # INPUT_ERRORS, not forced
    #: a second letter of one failure (:func:`source_of`), its record replayed or chosen
    repeated: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """Counts, for the command's JSON summary: ``unknown_topic`` counts every letter
        with no topic to go to (``missing_topic`` too), ``unreadable`` every one without
        bytes to send back (``not_original`` and ``no_payload`` too)."""
        return {
            "selected": len(self.resend),
            "already_replayed": len(self.already_replayed),
            "unknown_topic": len(self.unknown_topic) + len(self.missing_topic),
            "unreadable": len(self.unreadable) + len(self.not_original) + len(self.no_payload),
            "input_errors": len(self.input_errors),
            "repeated": len(self.repeated),
        }


def plan_replay(
    letters: Iterable[Letter],
    filters: Filters,
    known_topics: Collection[str],
    replayed: Collection[str],
    limit: int | None = None,
    force: bool = False,
    existing_topics: Collection[str] | None = None,
) -> Plan:
    """Choose the letters to send back, in :func:`replay_order` (as their records first
    came: source-offset order within a source partition, the first to fail first across
    them), at most ``limit``: the oldest ones.

    A letter already replayed (its id in ``replayed``) is left out, so running a replay
    twice sends each letter once; one whose source is not in ``known_topics`` is never
    sent (a replay must not create or feed another deployment's topics), nor one whose
    source is not in ``existing_topics`` (the broker's topics, when given: sending would
    create it); one whose code is in :data:`INPUT_ERRORS` only with ``force``. Letters
    without bytes to send (empty, or too large to keep) and those of
    :data:`NOT_ORIGINAL_STAGES` are never sent. A second letter of one failure
    (:func:`source_of`: written again after a crash) is not sent when its record was
    replayed or is chosen already: the record goes back once.
    """
    plan = Plan()
    letters = list(letters)
    sent = {source_of(x.record) for x in letters if x.letter_id in replayed}
    chosen = [letter for letter in letters if filters.matches(letter.record)]
    for letter in replay_order(chosen, filters.zone):
        record = letter.record
        if letter.letter_id in replayed:
            plan.already_replayed.append(letter.letter_id)
        elif source_of(record) in sent:
            plan.repeated.append(letter.letter_id)
        elif record.source_topic not in known_topics:
            plan.unknown_topic.append(letter.letter_id)
        elif existing_topics is not None and record.source_topic not in existing_topics:
            plan.missing_topic.append(letter.letter_id)
        elif record.stage in NOT_ORIGINAL_STAGES:
            plan.not_original.append(letter.letter_id)
        elif record.error_code in INPUT_ERRORS and not force:
            plan.input_errors.append(letter.letter_id)
        elif limit is not None and len(plan.resend) >= limit:
            continue
        else:
            try:
                value = base64.b64decode(record.payload_b64, validate=True)
                key = base64.b64decode(record.key_b64, validate=True) if record.key_b64 else None
            except (binascii.Error, ValueError):
                plan.unreadable.append(letter.letter_id)
                continue
            if not value:  # every stage rejects an empty record: nothing worth sending
                plan.no_payload.append(letter.letter_id)
                continue
            plan.resend.append(
                Resend(letter.letter_id, record.source_topic, key, value, letter.stamp)
            )
            sent.add(source_of(record))
    return plan


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """Dead letters of one stage, error code and source topic."""

    stage: str
    error_code: str
    source_topic: str
    count: int
    #: distinct failures among them (:func:`source_of`); fewer than ``count`` when a worker
    #: wrote a letter again after a crash
    records: int
    replayed: int
    first_failed_at: datetime
    last_failed_at: datetime
    example_reason: str  # of the latest failure


def summarize(
    letters: Iterable[Letter], replayed: Collection[str], zone: tzinfo = SHANGHAI
) -> list[SummaryRow]:
    """One row per (stage, error code, source topic), the largest groups first (a naive
    ``failed_at`` counts as ``zone`` time)."""
    groups: dict[tuple[str, str, str], list[Letter]] = {}
    for letter in letters:
        r = letter.record
        groups.setdefault((r.stage, r.error_code, r.source_topic), []).append(letter)
    rows = [
        SummaryRow(
            stage=stage,
            error_code=code,
            source_topic=topic,
            count=len(group),
            records=len({source_of(g.record) for g in group}),
            replayed=sum(g.letter_id in replayed for g in group),
            first_failed_at=min(failed_at(g.record, zone) for g in group),
            last_failed_at=max(failed_at(g.record, zone) for g in group),
            example_reason=max(group, key=lambda g: failed_at(g.record, zone)).record.reason,
        )
        for (stage, code, topic), group in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r.count, r.stage, r.error_code, r.source_topic))
