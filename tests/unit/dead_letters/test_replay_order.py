"""The order a replay sends letters back in, filter values no letter has, and letters whose
``failed_at`` has no zone.

Each test failed on the code before its fix: a replay sent one case's letters back in the
order of the dead-letter partitions (close, reply, accept: the SLA stage rejected close and
reply as not signed for); a mistyped ``--code``, ``--stage`` or ``--source`` (or the full
topic name ``summary`` prints) matched nothing and the command said only that; a naive
``failed_at`` made ``summary`` and ``--since`` raise TypeError.
"""

from __future__ import annotations

import base64
import json
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import typer
from aiokafka.partitioner import DefaultPartitioner
from typer.testing import CliRunner

from dead_letters import selection
from dead_letters.selection import Filters, Letter, letter_id, plan_replay, summarize
from models.assignment import Assignment
from models.case_event import CaseEvent
from models.dead_letter import DeadLetter

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 28, 9, 0, tzinfo=TZ)
KNOWN = {"assignments.all", "cases.events", "raw.mailbox"}
DEAD_LETTER_PARTITIONS = 4


def _dead_letter(source: str, partition: int, offset: int, value: bytes, *, code: str,
                 failed_at: datetime, key: bytes | None = b"MB-1", stage: str = "sla",
                 channel: str = "case-event") -> DeadLetter:  # fmt: skip
    return DeadLetter(
        error_code=code, reason="r", source_topic=source, source_partition=partition,
        source_offset=offset, payload_b64=base64.b64encode(value).decode(),
        failed_at=failed_at, channel=channel, stage=stage,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
    )  # fmt: skip


def _as_read(records: list[DeadLetter]) -> list[Letter]:
    """The letters as ``hotline deadletter`` reads them off the dead-letter topic: each
    published under its source position (``streams.dead_letters.send_dead_letter``), so
    on the partition the producer's partitioner picks for that key, and read partition
    after partition (``stack.topic_read.read_to_end``)."""
    partitioner, everyone = DefaultPartitioner(), list(range(DEAD_LETTER_PARTITIONS))
    by_partition: dict[int, list[DeadLetter]] = {}
    for r in records:  # in the order they were dead-lettered
        key = f"{r.source_topic}/{r.source_partition}/{r.source_offset}".encode()
        by_partition.setdefault(partitioner(key, everyone, everyone), []).append(r)
    return [
        Letter(letter_id(p, offset), r)
        for p in sorted(by_partition)
        for offset, r in enumerate(by_partition[p])
    ]


def _event(offset: int, kind: str, hours: int, **fields) -> bytes:
    return json.dumps({"event_id": f"E{offset}", "appeal_id": "MB-1", "kind": kind,
                       "occurred_at": (T0 + timedelta(hours=hours)).isoformat(),
                       **fields}).encode()  # fmt: skip


def _case_letters() -> list[DeadLetter]:
    """One case's records as the SLA stage dead-lettered them: its assignment, whose time
    limits passed the calendar, then its accept, reply and close, which found no case (they
    waited for it first: later failures). Offsets 100-102 of cases.events/0 go to dead-letter
    partitions 2, 1, 0, and the assignment's letter to partition 3: read last."""
    assignment = Assignment(
        appeal_id="MB-1", assignment_id="MB-1#1", hop=1, lead_code="a3.zjj", lead_name="a3.zjj",
        rule_id="test", rule_explanation="test", confidence=1.0, fallback=False,
        assigned_at=T0 - timedelta(hours=1), appeal_type="投诉", district="A市A3区",
    ).dumps()  # fmt: skip
    failed = T0 + timedelta(days=1)
    return [
        _dead_letter("assignments.all", 2, 103, assignment, code="SLA_CALENDAR_RANGE",
                     failed_at=failed, channel="assignment"),  # fmt: skip
        *(
            _dead_letter("cases.events", 0, 100 + i, value, code="SLA_UNKNOWN_CASE",
                         failed_at=failed + timedelta(minutes=10, seconds=i))  # fmt: skip
            for i, value in enumerate([
                _event(100, "accept", 0, department="a3.zjj"),
                _event(101, "reply", 1, department="a3.zjj"),
                _event(102, "close", 2, actor="中心"),
            ])
        ),
    ]  # fmt: skip


def _kinds(plan) -> list[str]:
    return [
        "assignment" if r.topic == "assignments.all" else CaseEvent.loads(r.value).kind
        for r in plan.resend
    ]


# --- the order a replay sends letters back in ------------------------------------------


def test_one_cases_letters_go_back_as_they_came_whatever_their_dead_letter_partitions():
    read = _as_read(_case_letters())
    assert [letter.letter_id for letter in read] == ["0/0", "1/0", "2/0", "3/0"]  # close first
    plan = plan_replay(read, Filters(stages={"sla"}), KNOWN, set())
    assert _kinds(plan) == ["assignment", "accept", "reply", "close"]
    # the events alone (``--code SLA_UNKNOWN_CASE``): source-offset order
    events = plan_replay(read, Filters(codes={"SLA_UNKNOWN_CASE"}), KNOWN, set())
    assert _kinds(events) == ["accept", "reply", "close"]


def test_the_sla_engine_closes_the_case_from_what_a_replay_sends():
    """What the reviewer saw with the real engine: sent back close, reply, accept, the case
    stayed open (close and reply rejected ``not_signed_for``)."""
    from sla.clocks import CaseStatus
    from sla.events import AssignmentIn, OutcomeKind, SlaEngine

    engine = SlaEngine.from_settings()
    plan = plan_replay(_as_read(_case_letters()), Filters(stages={"sla"}), KNOWN, set())
    state, outcomes = None, []
    for r in plan.resend:
        if r.topic == "assignments.all":  # as streams.agents.sla_clocks.assignment_in
            a = Assignment.loads(r.value)
            hop = AssignmentIn(a.appeal_id, a.assignment_id, a.hop, a.lead_code, a.assigned_at,
                               appeal_type=a.appeal_type, district=a.district)  # fmt: skip
            outcome, state = engine.assign(state, hop)
        else:
            outcome, state = engine.apply(state, CaseEvent.loads(r.value))
        outcomes.append(outcome)
    assert [o.kind for o in outcomes] == [OutcomeKind.APPLIED] * 4, outcomes
    assert state is not None and state.status == CaseStatus.CLOSED


def test_a_limit_sends_the_oldest_letters():
    read = _as_read(_case_letters())
    plan = plan_replay(read, Filters(codes={"SLA_UNKNOWN_CASE"}), KNOWN, set(), limit=1)
    assert _kinds(plan) == ["accept"]  # not the close, read first
    # the next run goes on where this one stopped
    replayed = {r.letter_id for r in plan.resend}
    rest = plan_replay(read, Filters(codes={"SLA_UNKNOWN_CASE"}), KNOWN, replayed, limit=1)
    assert _kinds(rest) == ["reply"]


def test_within_a_source_partition_the_offset_decides_across_them_the_failure_time():
    """An event that waited for its case (SLA_EARLY_EVENT_WAIT) fails after a later one of
    another case that failed at once: on one source partition the offset still decides.
    Across partitions and topics, the first to fail goes first."""

    def letter(lid: str, source: str, partition: int, offset: int, minutes: int) -> Letter:
        value = f"{source}/{partition}/{offset}".encode()
        at = T0 + timedelta(minutes=minutes)
        return Letter(lid, _dead_letter(source, partition, offset, value, code="X", failed_at=at))

    read = [
        letter("0/0", "cases.events", 0, 11, 1),  # failed at once
        letter("0/1", "assignments.all", 3, 5, 5),
        letter("1/0", "cases.events", 0, 10, 10),  # waited 10 minutes for its case
        letter("1/1", "cases.events", 2, 4, 3),
        letter("2/0", "raw.mailbox", 0, 1, 0),
        letter("2/1", "cases.events", 0, 12, 2),
    ]
    order = [lt.letter_id for lt in selection.replay_order(read)]
    # cases.events/0 in offset order (10, 11, 12), held back until 10's failure time
    assert order == ["2/0", "1/1", "0/1", "1/0", "0/0", "2/1"]
    # the same record dead-lettered twice (redelivered after a crash): both, oldest first
    twice = [letter("3/1", "cases.events", 0, 7, 2), letter("3/0", "cases.events", 0, 7, 1)]
    assert [lt.letter_id for lt in selection.replay_order(twice)] == ["3/0", "3/1"]
    assert selection.replay_order([]) == []


# --- filter values no letter has ---------------------------------------------------------


PREFIX = "prod."


def _cli(records: list[DeadLetter], replayed: set[str] | None = None):
    """``hotline deadletter`` on these letters, with a prefix, no broker and no Redis."""
    from cli import deadletter
    from dead_letters import replay

    sent: list = []

    class Client:
        async def aclose(self) -> None:
            pass

    class Store:
        client = Client()

        async def replayed(self, letters) -> set[str]:
            return {lid for lid, _ in letters} & set(replayed or ())

        async def mark(self, ids) -> None:
            pass

        async def forget_before(self, stamp: int) -> int:
            return 0

        @asynccontextmanager
        async def exclusive(self):
            yield

    class Settings:
        broker = "127.0.0.1:19092"

        def topic(self, name: str) -> str:
            return f"{PREFIX}{name}"

    known = {f"{PREFIX}{t}" for t in KNOWN}

    async def read_letters(bootstrap, topic):
        return [Letter(letter_id(0, i), r) for i, r in enumerate(records)], 0

    async def existing_topics(bootstrap):
        return {*known, f"{PREFIX}deadletter"}

    async def send_back(bootstrap, resend, store, progress=iter):
        sent.extend(resend)
        return len(resend)

    app = typer.Typer()
    app.add_typer(deadletter.app, name="deadletter")

    def run(*args: str):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(
                deadletter, "_context", lambda: (Settings(), f"{PREFIX}deadletter", known, Store())
            )
            mp.setattr(replay, "read_letters", read_letters)
            mp.setattr(replay, "existing_topics", existing_topics)
            mp.setattr(replay, "send_back", send_back)
            return CliRunner().invoke(app, ["deadletter", *args])

    return run, sent


def _letters() -> list[DeadLetter]:
    value = b'{"a": 1}'
    return [
        _dead_letter(
            f"{PREFIX}assignments.all", 0, 1, value, code="SLA_CALENDAR_RANGE", failed_at=T0
        ),  # fmt: skip
        _dead_letter(
            f"{PREFIX}raw.mailbox",
            0,
            2,
            value,
            code="INTERNAL",
            stage="intake",
            failed_at=T0,
            channel="mailbox",
        ),  # fmt: skip
    ]


def _summary(done) -> dict:
    assert done.exit_code == 0, done.output
    return json.loads(done.output.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("option", "value", "theirs"),
    [
        ("--code", "SLA_CALENDAR_RANG", "INTERNAL, SLA_CALENDAR_RANGE"),
        ("--stage", "slaa", "intake, sla"),
        ("--source", "assignment.all", "prod.assignments.all, prod.raw.mailbox"),
    ],
)
def test_a_filter_value_no_letter_has_is_a_one_line_error_naming_theirs(option, value, theirs):
    run, sent = _cli(_letters())
    for extra in ((), ("--dry-run",)):
        done = run("replay", option, value, "-q", *extra)
        assert done.exit_code == 2, done.output
        assert done.output == (
            f"error: no dead letter on prod.deadletter has {option} {value} (theirs: {theirs})\n"
        )
    assert sent == []


def test_codes_in_any_case_and_sources_with_or_without_the_prefix():
    run, sent = _cli(_letters())
    for args in (
        ("--code", "sla_calendar_range"),
        ("--code", "Sla_Calendar_Range", "--stage", "SLA"),
        ("--source", "assignments.all"),
        ("--source", "prod.assignments.all"),  # as `summary` prints it
    ):
        summary = _summary(run("replay", *args, "--dry-run", "-q"))
        assert (summary["selected"], summary["sent"]) == (1, 0), args
    summary = _summary(
        run("replay", "--source", "prod.raw.mailbox", "--source", "assignments.all", "-q")
    )
    assert (summary["selected"], summary["sent"]) == (2, 2)
    assert [r.topic for r in sent] == ["prod.assignments.all", "prod.raw.mailbox"]


def test_values_the_letters_have_that_match_nothing_together_are_not_an_error():
    run, _ = _cli(_letters())
    done = run("replay", "--code", "INTERNAL", "--stage", "sla", "--dry-run", "-q")
    assert "no dead letter on prod.deadletter matches" in done.output
    assert _summary(done)["selected"] == 0
    # on an empty topic nothing is checked: there is nothing to send whatever was typed
    run, _ = _cli([])
    assert _summary(run("replay", "--code", "NOPE", "-q"))["dead_letters"] == 0


def test_resolve_filter_names_what_is_missing_and_what_there_is():
    resolve_filter, UnknownFilterValue = selection.resolve_filter, selection.UnknownFilterValue
    present = {"SLA_CALENDAR_RANGE", "INTERNAL"}
    assert resolve_filter("--code", [], present) == set()
    assert resolve_filter("--code", ["internal"], present, fold=str.upper) == {"INTERNAL"}
    with pytest.raises(UnknownFilterValue) as err:
        resolve_filter("--code", ["internal", "X", "Y"], present)
    assert (err.value.missing, err.value.present) == (
        ["internal", "X", "Y"], ["INTERNAL", "SLA_CALENDAR_RANGE"]
    )  # fmt: skip
    # the first spelling some letter has is taken: the prefixed topic before the bare name
    topics = {"p.assignments.all", "assignments.all"}
    prefixed = resolve_filter("--source", ["assignments.all"], topics,
                              candidates=lambda s: (f"p.{s}", s))  # fmt: skip
    assert prefixed == {"p.assignments.all"}


# --- failed_at without a zone --------------------------------------------------------------


def _naive_and_aware(topic: str = "raw.mailbox") -> list[Letter]:
    naive = DeadLetter.loads(
        json.dumps(
            {
                "error_code": "INTERNAL",
                "reason": "naive",
                "source_topic": topic,
                "source_partition": 0,
                "source_offset": 1,
                "payload_b64": "e30=",
                "failed_at": "2026-12-28T10:00:00",
            }
        ).encode()  # fmt: skip
    )
    assert naive.failed_at.tzinfo is None  # as a hand-published letter reads
    aware = _dead_letter(topic, 1, 1, b"{}", code="INTERNAL", stage="intake",
                         failed_at=T0, channel="mailbox")  # 09:00  # fmt: skip
    return [Letter("0/0", naive), Letter("1/0", aware)]


def test_a_naive_failed_at_is_local_time_for_since_order_and_summary():
    letters = _naive_and_aware()

    def ids(since: datetime) -> list[str]:
        return [
            r.letter_id for r in plan_replay(letters, Filters(since=since), KNOWN, set()).resend
        ]

    assert ids(T0) == ["1/0", "0/0"]  # 09:00 failed before the naive 10:00
    assert ids(datetime(2026, 12, 28, 2, 0, 1, tzinfo=UTC)) == []  # 10:00:01 in Shanghai
    assert ids(datetime(2026, 12, 28, 2, 0, 0, tzinfo=UTC)) == ["0/0"]
    [row] = summarize(letters, set())
    assert (row.first_failed_at, row.last_failed_at) == (T0, T0 + timedelta(hours=1))
    assert row.example_reason == "naive"


def test_summary_and_replay_since_on_a_naive_letter_do_not_crash():
    run, _ = _cli([letter.record for letter in _naive_and_aware(f"{PREFIX}raw.mailbox")])
    summary = _summary(run("summary", "--json"))
    [group] = summary["groups"]
    assert group["last_failed_at"] == "2026-12-28T10:00:00+08:00"
    done = run("replay", "--code", "INTERNAL", "--since", "2026-12-28T09:30", "--dry-run", "-q")
    assert _summary(done)["selected"] == 1
