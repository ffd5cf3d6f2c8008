"""Choosing dead letters to replay, and summarising the dead-letter topic."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dead_letters.selection import Filters, Letter, letter_id, plan_replay, summarize
from models.dead_letter import DeadLetter

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 24, 10, 0, tzinfo=TZ)
KNOWN = {"p.assignments.all", "p.raw.mailbox", "p.cases.events"}


def _letter(offset: int, code: str = "SLA_CALENDAR_RANGE", *, stage: str = "sla",
            topic: str = "p.assignments.all", minutes: int = 0, payload: bytes | None = None,
            key: bytes | None = b"k", partition: int = 0) -> Letter:  # fmt: skip
    record = DeadLetter(
        error_code=code, reason=f"reason {offset}", source_topic=topic, source_partition=1,
        source_offset=100 + offset,
        payload_b64=base64.b64encode(payload or f"value {offset}".encode()).decode(),
        failed_at=T0 + timedelta(minutes=minutes), channel="assignment", stage=stage,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
    )  # fmt: skip
    return Letter(letter_id(partition, offset), record)


def test_selected_letters_carry_their_original_bytes_key_and_topic_in_topic_order():
    letters = [_letter(0, payload="派单 ✓".encode()), _letter(1, key=None), _letter(2)]
    plan = plan_replay(letters, Filters(codes={"SLA_CALENDAR_RANGE"}), KNOWN, replayed=set())
    assert [r.letter_id for r in plan.resend] == ["0/0", "0/1", "0/2"]
    first, second, _ = plan.resend
    assert first.value == "派单 ✓".encode() and first.key == b"k"
    assert first.topic == "p.assignments.all"
    assert second.key is None


def test_filters_combine_code_stage_source_and_time():
    letters = [
        _letter(0),
        _letter(1, "SLA_UNKNOWN_CASE", topic="p.cases.events"),
        _letter(2, "INTERNAL", stage="intake", topic="p.raw.mailbox", minutes=30),
        _letter(3, "INTERNAL", stage="understand", topic="p.raw.mailbox", minutes=30),
        _letter(4, "INTERNAL", stage="intake", topic="p.raw.mailbox", minutes=-30),
    ]

    def ids(filters: Filters) -> list[str]:
        return [r.letter_id for r in plan_replay(letters, filters, KNOWN, set()).resend]

    assert ids(Filters(codes={"INTERNAL"})) == ["0/2", "0/3", "0/4"]
    assert ids(Filters(codes={"INTERNAL"}, stages={"intake"})) == ["0/2", "0/4"]
    assert ids(Filters(codes={"INTERNAL"}, stages={"intake"}, since=T0)) == ["0/2"]
    assert ids(Filters(source_topics={"p.cases.events"})) == ["0/1"]
    assert ids(Filters()) == ["0/0", "0/1", "0/2", "0/3", "0/4"]


def test_already_replayed_unknown_topics_and_unreadable_bytes_are_not_sent():
    letters = [_letter(0), _letter(1, topic="other.assignments.all"), _letter(2), _letter(3)]
    broken = letters[3].record
    broken.payload_b64 = "not base64!"
    plan = plan_replay(letters, Filters(), KNOWN, replayed={"0/2"})
    assert [r.letter_id for r in plan.resend] == ["0/0"]
    assert plan.already_replayed == ["0/2"]
    assert plan.unknown_topic == ["0/1"]
    assert plan.unreadable == ["0/3"]
    assert plan.as_dict() == {"selected": 1, "already_replayed": 1, "unknown_topic": 1,
                              "unreadable": 1, "input_errors": 0, "repeated": 0}  # fmt: skip


def _again(letter: Letter, offset: int) -> Letter:
    """A second letter, at ``offset`` of the dead-letter topic, for the same failure."""
    record = DeadLetter(**{**letter.record.asdict(), "reason": "written again"})
    return Letter(letter_id(0, offset), record)


def test_a_failure_written_twice_after_a_crash_is_sent_back_once():
    first, other = _letter(0), _letter(1)
    letters = [first, other, _again(first, 7)]
    plan = plan_replay(letters, Filters(), KNOWN, replayed=set())
    assert [r.letter_id for r in plan.resend] == ["0/0", "0/1"]
    assert plan.repeated == ["0/7"] and plan.as_dict()["repeated"] == 1
    # its twin replayed by an earlier run: not sent again either
    later = plan_replay(letters, Filters(), KNOWN, replayed={"0/0"})
    assert [r.letter_id for r in later.resend] == ["0/1"]
    assert (later.already_replayed, later.repeated) == (["0/0"], ["0/7"])
    # the same record failing in another stage is another failure
    elsewhere = _again(first, 8)
    elsewhere.record.stage = "understand"
    assert [r.letter_id for r in plan_replay([first, elsewhere], Filters(), KNOWN, set()).resend] == [
        "0/0", "0/8",
    ]  # fmt: skip


def test_the_summary_counts_failures_apart_from_letters():
    first = _letter(0)
    rows = summarize([first, _letter(1), _again(first, 7)], replayed=set(), zone=TZ)
    assert [(r.count, r.records) for r in rows] == [(3, 2)]


def test_letters_whose_record_itself_is_wrong_are_sent_only_when_forced():
    letters = [_letter(0, "BAD_JSON", stage="intake", topic="p.raw.mailbox"), _letter(1)]
    plan = plan_replay(letters, Filters(), KNOWN, set())
    assert [r.letter_id for r in plan.resend] == ["0/1"]
    assert plan.input_errors == ["0/0"]
    forced = plan_replay(letters, Filters(), KNOWN, set(), force=True)
    assert [r.letter_id for r in forced.resend] == ["0/0", "0/1"]


def test_limit_caps_what_is_sent_but_not_what_is_counted_as_replayed():
    letters = [_letter(i) for i in range(5)]
    plan = plan_replay(letters, Filters(), KNOWN, replayed={"0/0"}, limit=2)
    assert [r.letter_id for r in plan.resend] == ["0/1", "0/2"]
    assert plan.already_replayed == ["0/0"]


def test_summary_groups_by_stage_code_and_source_with_counts_and_times():
    letters = [
        _letter(0, minutes=5),
        _letter(1, minutes=-5),
        _letter(2, minutes=1),
        _letter(3, "INTERNAL", stage="intake", topic="p.raw.mailbox"),
    ]
    rows = summarize(letters, replayed={"0/1", "0/3"})
    assert [(r.stage, r.error_code, r.count, r.replayed) for r in rows] == [
        ("sla", "SLA_CALENDAR_RANGE", 3, 1),
        ("intake", "INTERNAL", 1, 1),
    ]
    big = rows[0]
    assert big.first_failed_at == T0 - timedelta(minutes=5)
    assert big.last_failed_at == T0 + timedelta(minutes=5)
    assert big.example_reason == "reason 0"  # of the latest failure
    assert summarize([], set()) == []
