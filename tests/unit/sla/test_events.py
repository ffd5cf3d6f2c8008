"""Case clocks driven by assignments and case events, with explicit outcomes for bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from models.case_event import CaseEvent
from sla.clocks import (
    CASE_MASK,
    HOP_MASK,
    CaseStatus,
    ClockKind,
    HopPhase,
    Threshold,
    fire_due,
    next_due,
    reset_mask,
)
from sla.events import AssignmentIn, OutcomeKind, Reason, SlaEngine
from sla.policies import load_policies

from .conftest import FRACTIONS, POLICIES, TZ, at

_ids = count(1)


def assign(when: datetime, dept: str = "zjj", hop: int = 1, aid: str = "A1", **kw) -> AssignmentIn:
    return AssignmentIn(
        appeal_id=aid,
        assignment_id=kw.pop("assignment_id", f"as{hop}-{dept}"),
        hop=hop,
        department=dept,
        assigned_at=when,
        district=kw.pop("district", "A市A3区"),
        category=kw.pop("category", "城乡建设/物业管理/物业服务"),
        **kw,
    )


def ev(kind: str, when: datetime, dept: str | None = "zjj", aid: str = "A1", **kw) -> CaseEvent:
    return CaseEvent(
        event_id=kw.pop("event_id", f"e{next(_ids)}"),
        appeal_id=aid,
        kind=kind,
        occurred_at=when,
        department=dept,
        **kw,
    )


def dt(engine: SlaEngine, t: int | None) -> datetime | None:
    return engine.wt.to_datetime(t) if t else None


def run(engine: SlaEngine, *records):
    state, outcomes = engine.replay(records)
    return state, outcomes


def test_assignment_starts_case_and_sign_for_clocks(engine: SlaEngine) -> None:
    state, [out] = run(engine, assign(at(2025, 1, 27, 16)))
    assert out.kind is OutcomeKind.APPLIED
    assert state.policy == "general" and state.phase is HopPhase.SIGN_FOR
    times = [dt(engine, t) for t in engine.thresholds(state)]
    # case clock 5wd over the 2025 Spring Festival
    assert times[:4] == [
        at(2025, 2, 7, 11),
        at(2025, 2, 8, 16),  # Sat Feb 8 is a make-up working day
        at(2025, 2, 10, 16),
        at(2025, 2, 12, 9, 15),  # escalate at 125 %
    ]
    # sign-for clock 2wh: 1h, 1.6h, 2h, 2.5h of working time
    assert times[4:] == [
        at(2025, 1, 27, 17),
        at(2025, 2, 5, 9, 6),
        at(2025, 2, 5, 9, 30),
        at(2025, 2, 5, 10),
    ]


def test_accept_stops_sign_for_and_starts_handling(engine: SlaEngine) -> None:
    s, outs = run(engine, assign(at(2025, 3, 3, 9)), ev("accept", at(2025, 3, 3, 10)))
    assert [o.kind for o in outs] == [OutcomeKind.APPLIED] * 2
    assert s.phase is HopPhase.HANDLING and s.hop_kind is ClockKind.HANDLING
    assert dt(engine, s.hop_clock.due_at(engine.tb)) == at(2025, 3, 10, 10)
    # from 09:00 sharp, 5 wd end with the 5th working day (earliest instant)
    assert dt(engine, s.case_clock.due_at(engine.tb)) == at(2025, 3, 7, 17, 30)
    assert s.clock_id(ClockKind.HANDLING) == "h1"


def test_return_within_window_then_reassignment(engine: SlaEngine) -> None:
    s, outs = run(
        engine,
        assign(at(2025, 3, 3, 16)),
        ev("return", at(2025, 3, 4, 9, 20), reason="不属于本单位职责"),  # 1h50 working
        assign(at(2025, 3, 4, 10), dept="sjj", hop=2),
    )
    assert [o.kind for o in outs] == [OutcomeKind.APPLIED] * 3
    assert (s.hop, s.department, s.phase) == (2, "sjj", HopPhase.SIGN_FOR)
    # case clock runs on from the first assignment; the new department starts afresh
    assert s.case_clock.since == int(at(2025, 3, 3, 16).timestamp())
    assert dt(engine, s.hop_clock.due_at(engine.tb)) == at(2025, 3, 4, 12)


def test_return_after_window_rejected(engine: SlaEngine) -> None:
    s0, _ = run(engine, assign(at(2025, 3, 3, 16)))
    out, s1 = engine.apply(s0, ev("return", at(2025, 3, 4, 9, 31)))  # 2h01 working
    assert (out.kind, out.reason) == (OutcomeKind.REJECTED, Reason.RETURN_WINDOW_EXPIRED)
    assert s1 is s0


def test_returned_case_state(engine: SlaEngine) -> None:
    s, _ = run(engine, assign(at(2025, 3, 3, 9)), ev("return", at(2025, 3, 3, 9, 30)))
    assert s.phase is HopPhase.UNASSIGNED and s.hop_clock is None and s.department == ""
    out, _ = engine.apply(s, ev("accept", at(2025, 3, 3, 10)))
    assert out.reason is Reason.NOT_ASSIGNED


def test_reassign_event_then_assignment_record_is_duplicate(engine: SlaEngine) -> None:
    s, outs = run(
        engine,
        assign(at(2025, 3, 3, 9)),
        ev("reassign", at(2025, 3, 3, 10), dept=None, target_department="sjj"),
        assign(at(2025, 3, 3, 10), dept="sjj", hop=2),
        assign(at(2025, 3, 3, 9), dept="zjj", hop=1, assignment_id="other"),
    )
    assert [str(o) for o in outs[:2]] == ["applied", "applied"]
    assert (outs[2].kind, outs[2].reason) == (OutcomeKind.DUPLICATE, Reason.HOP_STARTED)
    assert outs[3].reason is Reason.STALE_HOP
    assert (s.hop, s.department) == (2, "sjj")


def test_pause_resume_keeps_remaining_working_time(engine: SlaEngine) -> None:
    s, _ = run(
        engine,
        assign(at(2025, 3, 3, 9)),
        ev("accept", at(2025, 3, 3, 9, 30)),
        ev("pause", at(2025, 3, 5, 11), dept=None),  # handling used 1 wd + 1.5 h
    )
    assert s.status is CaseStatus.PAUSED
    assert all(t == 0 for t in engine.thresholds(s))  # nothing can fire while paused
    remaining = s.hop_clock.remaining(int(at(2025, 3, 20).timestamp()), engine.tb)
    assert remaining == 5 * 25200 - (2 * 25200 + 5400)
    out, s2 = engine.apply(s, ev("resume", at(2025, 3, 12, 14), dept=None))
    assert out.applied and s2.status is CaseStatus.OPEN
    # 2 wd + 1.5 h were used; 19.5 h remain from Wed Mar 12 14:00: 3.5 + 7 + 7 + 2
    assert dt(engine, s2.hop_clock.due_at(engine.tb)) == at(2025, 3, 17, 11)


def test_pause_resume_wall_clock(engine: SlaEngine) -> None:
    s, _ = run(
        engine,
        assign(at(2025, 3, 3, 22), urgency="emergency"),
        ev("accept", at(2025, 3, 3, 22, 10)),
        ev("pause", at(2025, 3, 3, 23), dept=None),
        ev("resume", at(2025, 3, 4, 1, 30), dept=None),
    )
    assert s.policy == "emergency"
    # 50 min used of 2 h; 70 min remain after 01:30, night or not
    assert dt(engine, s.hop_clock.due_at(engine.tb)) == at(2025, 3, 4, 2, 40)
    assert dt(engine, s.case_clock.due_at(engine.tb)) == at(2025, 3, 4, 2, 30)


def test_extension_only_counts_when_approved(engine: SlaEngine) -> None:
    s, outs = run(
        engine,
        assign(at(2025, 3, 3, 9)),
        ev("accept", at(2025, 3, 3, 9)),
        ev("extend_request", at(2025, 3, 4, 9), extension_days=11),
        ev("extend_request", at(2025, 3, 4, 9), extension_days=5),
    )
    assert outs[2].reason is Reason.EXTENSION_TOO_LONG and outs[3].applied
    before = s.hop_clock.due_at(engine.tb)
    assert dt(engine, before) == at(2025, 3, 7, 17, 30)  # request alone moves nothing
    out, s2 = engine.apply(s, ev("extend_approve", at(2025, 3, 5, 9), dept=None))
    assert out.applied
    assert dt(engine, s2.hop_clock.due_at(engine.tb)) == at(2025, 3, 14, 17, 30)  # +5 wd
    assert dt(engine, s2.case_clock.due_at(engine.tb)) == at(2025, 3, 14, 17, 30)
    out, _ = engine.apply(s2, ev("extend_request", at(2025, 3, 6, 9), extension_days=1))
    assert out.reason is Reason.EXTENSION_LIMIT


def test_extension_bad_inputs(engine: SlaEngine) -> None:
    s, _ = run(engine, assign(at(2025, 3, 3, 9)))
    out, _ = engine.apply(s, ev("extend_request", at(2025, 3, 3, 10), extension_days=3))
    assert out.reason is Reason.NOT_SIGNED_FOR
    s, _ = run(engine, assign(at(2025, 3, 3, 9)), ev("accept", at(2025, 3, 3, 9)))
    out, _ = engine.apply(s, ev("extend_approve", at(2025, 3, 3, 10), dept=None))
    assert out.reason is Reason.NO_PENDING_EXTENSION
    _, s = engine.apply(s, ev("extend_request", at(2025, 3, 3, 10), extension_days=3))
    out, _ = engine.apply(s, ev("extend_approve", at(2025, 3, 3, 11), extension_days=4))
    assert out.reason is Reason.EXTENSION_TOO_LONG  # more than requested
    out, _ = engine.apply(s, ev("extend_request", at(2025, 3, 3, 11), extension_days=2))
    assert out.reason is Reason.EXTENSION_PENDING
    s, _ = run(
        engine,
        assign(at(2025, 3, 3, 9), urgency="emergency"),
        ev("accept", at(2025, 3, 3, 9)),
    )
    out, _ = engine.apply(s, ev("extend_request", at(2025, 3, 3, 10), extension_days=1))
    assert out.reason is Reason.EXTENSION_NOT_ALLOWED


def test_close_rules_and_reopen(engine: SlaEngine) -> None:
    s, outs = run(
        engine,
        assign(at(2025, 3, 3, 9)),
        ev("close", at(2025, 3, 3, 10), dept=None),
        ev("accept", at(2025, 3, 3, 10)),
        ev("reply", at(2025, 3, 4, 10)),
        ev("close", at(2025, 3, 5, 10), dept=None),
        ev("accept", at(2025, 3, 5, 11)),
    )
    assert (outs[1].kind, outs[1].reason) == (OutcomeKind.REJECTED, Reason.NOT_SIGNED_FOR)
    assert all(o.applied for o in outs[2:5])
    assert outs[5].reason is Reason.CASE_CLOSED
    assert s.status is CaseStatus.CLOSED and engine.thresholds(s) == (0,) * 8
    out, s2 = engine.apply(s, ev("reopen", at(2025, 3, 10, 9), dept=None))
    assert out.applied
    assert (s2.round, s2.hop, s2.department, s2.phase) == (2, 2, "zjj", HopPhase.SIGN_FOR)
    assert s2.clock_id(ClockKind.CASE) == "c2"
    assert dt(engine, s2.case_clock.due_at(engine.tb)) == at(2025, 3, 14, 17, 30)
    assert reset_mask(s, s2) == CASE_MASK | HOP_MASK


def test_a_first_event_stamped_a_little_before_its_assignment_counts_at_the_assignment(
    wt,
) -> None:
    """A department's clock a little behind the centre's made its 签收 older than the
    assignment: rejected SLA_OUT_OF_ORDER, the case stayed unsigned and went overdue."""
    engine = SlaEngine(wt, load_policies(POLICIES), FRACTIONS, handover_skew_s=120)
    start = at(2025, 3, 3, 9, 10)
    s, _ = run(engine, assign(start))
    out, signed = engine.apply(s, ev("accept", start - timedelta(seconds=90), event_id="k1"))
    assert out.applied and signed.phase is HopPhase.HANDLING
    assert signed.last_at == s.last_at  # as made at the assignment
    again, same = engine.apply(signed, ev("accept", start - timedelta(seconds=90), event_id="k1"))
    assert again.kind is OutcomeKind.DUPLICATE and same == signed
    # more than the tolerance, or not at the hand-over: out of order as before
    late, _ = engine.apply(s, ev("accept", start - timedelta(seconds=121)))
    assert late.reason is Reason.OUT_OF_ORDER
    later = start + timedelta(minutes=30)
    out, paused = engine.apply(signed, ev("pause", later, reason="等待"))
    assert out.applied
    out, _ = engine.apply(paused, ev("resume", later - timedelta(seconds=10), dept=None))
    assert out.reason is Reason.OUT_OF_ORDER
    # and without a tolerance (the engine's default), as before
    strict = SlaEngine(wt, load_policies(POLICIES), FRACTIONS)
    out, _ = strict.apply(s, ev("accept", start - timedelta(seconds=1)))
    assert out.reason is Reason.OUT_OF_ORDER


def test_bad_input_outcomes(engine: SlaEngine) -> None:
    out, state = engine.apply(None, ev("accept", at(2025, 3, 3, 10)))
    assert (out.kind, out.reason, state) == (OutcomeKind.REJECTED, Reason.UNKNOWN_CASE, None)
    s, _ = run(engine, assign(at(2025, 3, 3, 9)), ev("accept", at(2025, 3, 3, 10), event_id="x"))
    out, same = engine.apply(s, ev("accept", at(2025, 3, 3, 10), event_id="x"))
    assert (out.kind, out.reason, same) == (OutcomeKind.DUPLICATE, Reason.SEEN_ID, s)
    out, _ = engine.apply(s, ev("reply", at(2025, 3, 3, 9, 59)))
    assert out.reason is Reason.OUT_OF_ORDER
    out, _ = engine.apply(s, ev("reply", at(2025, 3, 3, 11), dept="other"))
    assert out.reason is Reason.WRONG_DEPARTMENT
    out, _ = engine.apply(s, ev("accept", at(2025, 3, 3, 11)))
    assert out.reason is Reason.ALREADY_SIGNED_FOR
    out, _ = engine.apply(s, ev("resume", at(2025, 3, 3, 11), dept=None))
    assert out.reason is Reason.NOT_PAUSED
    out, _ = engine.apply(s, ev("reopen", at(2025, 3, 3, 11), dept=None))
    assert out.reason is Reason.NOT_CLOSED
    out, _ = engine.apply(s, ev("teleport", at(2025, 3, 3, 11)))
    assert out.reason is Reason.INVALID
    naive = CaseEvent(
        event_id="n", appeal_id="A1", kind="reply", occurred_at=datetime(2025, 3, 3, 11)
    )
    out, _ = engine.apply(s, naive)
    assert out.reason is Reason.INVALID and "time zone" in out.detail
    out, _ = engine.apply(s, ev("reply", datetime(2031, 3, 3, 11, tzinfo=TZ)))
    assert out.reason is Reason.CALENDAR_RANGE
    # a deadline past the end of the calendar is refused up front, not stored half-done
    last = engine.wt.calendar.last_year
    out, st = engine.assign(None, assign(datetime(last, 12, 30, 10, tzinfo=TZ)))
    assert (out.reason, st) == (Reason.CALENDAR_RANGE, None)
    out, _ = engine.assign(None, assign(at(2025, 3, 3, 9), policy="nope"))
    assert out.reason is Reason.UNKNOWN_POLICY
    out, _ = engine.apply(s, ev("pause", at(2025, 3, 3, 12), dept=None))
    assert out.applied


def test_duplicate_of_older_record_is_not_reapplied(engine: SlaEngine) -> None:
    recs = [
        assign(at(2025, 3, 3, 9)),
        ev("accept", at(2025, 3, 3, 10), event_id="a"),
        ev("pause", at(2025, 3, 3, 11), dept=None, event_id="b"),
    ]
    s, _ = run(engine, *recs)
    for rec in recs:  # Kafka redelivers the whole batch after a crash
        out, s2 = engine.apply_record(s, rec)
        assert out.kind is OutcomeKind.DUPLICATE and s2 is s


def test_fire_due_once_per_threshold(engine: SlaEngine) -> None:
    s, _ = run(engine, assign(at(2025, 3, 3, 9)))
    times = engine.thresholds(s)
    res = fire_due(s, times, int(at(2025, 3, 3, 10, 40).timestamp()))
    assert [(f.clock, f.threshold) for f in res.fired] == [
        (ClockKind.SIGN_FOR, Threshold.WARN50),
        (ClockKind.SIGN_FOR, Threshold.WARN80),
    ]
    assert res.late and res.fired[1].alert_id == "A1/s1/warn80"
    assert fire_due(s, times, int(at(2025, 3, 3, 10, 40).timestamp())).fired == []
    assert next_due(times, s.fired) == int(at(2025, 3, 3, 11).timestamp())
    res = fire_due(s, times, int(at(2025, 3, 3, 11).timestamp()))
    assert [f.threshold for f in res.fired] == [Threshold.OVERDUE]
    assert res.fired[0].due_at == int(at(2025, 3, 3, 11).timestamp())
