"""Edge cases a 12345 centre meets: odd start times, pauses over holidays, the calendar's
end, other UTC offsets, configured fractions, and policy files written slightly wrong."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from models.case_event import CaseEvent
from sla.clocks import (
    CASE_MASK,
    HOP_MASK,
    HOP_SLOTS,
    CaseState,
    Clock,
    ClockKind,
    Timebase,
    reset_mask,
)
from sla.events import AssignmentIn, OutcomeKind, Reason, SlaEngine
from sla.policies import ClockMode, load_policies, parse_policies
from sla.queries import level_of
from sla.working_time import WorkingTime

from .conftest import POLICIES, at


def assign(when: datetime, dept: str = "zjj", hop: int = 1, **kw) -> AssignmentIn:
    return AssignmentIn("A1", f"as{hop}", hop, dept, when, **kw)


def ev(kind: str, when: datetime, event_id: str, dept: str | None = None, **kw) -> CaseEvent:
    return CaseEvent(
        event_id=event_id, appeal_id="A1", kind=kind, occurred_at=when, department=dept, **kw
    )


def epoch(when: datetime) -> int:
    return int(when.timestamp())


# -- thresholds with configured fractions ------------------------------------------------


def test_escalate_threshold_is_not_pushed_by_float_noise(wt: WorkingTime) -> None:
    # HOTLINE_SLA_ESCALATE_OVERRUN=0.1 makes the escalate fraction 1.0 + 0.1, and
    # 1.1 * 7200 is 7920.000000000001 in floats: 2 h 12 min of working time, not a second
    # more. From Monday 09:48 that is 12:00 sharp, not 13:30:01 after the lunch break.
    fractions = (0.5, 0.8, 1.0, 1.0 + 0.1)
    tb = Timebase(wt)
    sign_for = Clock(ClockMode.WORKING, 7200, 0, epoch(at(2025, 3, 3, 9, 48)))
    times = sign_for.threshold_times(fractions, tb)
    assert times[3] == epoch(at(2025, 3, 3, 12))
    # the same through the engine, and in agreement with the operators' level
    engine = SlaEngine(wt, load_policies(POLICIES), fractions)
    out, s = engine.assign(None, assign(at(2025, 3, 3, 9, 48)))
    assert out.applied
    assert engine.thresholds(s)[7] == epoch(at(2025, 3, 3, 12))
    assert level_of(7920, 7200, fractions) == "escalated"  # what `hotline sla` shows at 12:00
    # wall clocks too: 1.1 × 30 min of an emergency's sign-for is 33 min
    wall = Clock(ClockMode.WALL, 1800, 0, epoch(at(2025, 3, 3, 22)))
    assert wall.threshold_times(fractions, tb)[3] == epoch(at(2025, 3, 3, 22, 33))


# -- policies file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "value"),
    [("urgencies", "emergency"), ("tags", "complex"), ("categories", "城乡建设/安全生产")],
)
def test_rule_criterion_written_as_a_string_is_an_error(criterion: str, value: str) -> None:
    # `urgencies = "emergency"` instead of `["emergency"]` read as the characters
    # e, m, e, r, …: the rule never matched and emergencies silently got 5 working days.
    doc = {
        "default": "general",
        "policy": {
            "general": {"case": "5wd", "sign_for": "2wh", "handling": "5wd"},
            "emergency": {"case": "2h", "sign_for": "30m", "handling": "2h"},
        },
        "rule": [{"policy": "emergency", criterion: value}],
    }
    with pytest.raises(ValueError, match=rf"rule\[0\]: {criterion} must be a list of strings"):
        parse_policies(doc)


# -- behaviours probed and kept (no bug): pinned so they stay -----------------------------


@pytest.mark.parametrize(
    ("start", "kwargs", "expected"),
    [
        (at(2025, 3, 3, 12, 30), {"days": 1}, at(2025, 3, 4, 12)),  # lunch: from 12:00
        (at(2025, 3, 3, 13, 30), {"days": 1}, at(2025, 3, 4, 12)),  # same position as 12:00
        (at(2025, 3, 3, 18), {"days": 1}, at(2025, 3, 4, 17, 30)),  # evening
        (at(2025, 10, 11, 10), {"days": 1}, at(2025, 10, 13, 10)),  # 调休 Saturday works
        (at(2025, 10, 1, 10), {"days": 1}, at(2025, 10, 9, 17, 30)),  # National Day
        # 10:00 at UTC-05:00 is 23:00 in Beijing
        (
            datetime(2025, 3, 3, 10, tzinfo=timezone(timedelta(hours=-5))),
            {"hours": 1},
            at(2025, 3, 4, 10),
        ),
    ],
)
def test_start_times(wt: WorkingTime, start, kwargs, expected) -> None:
    assert wt.after(start, **kwargs) == expected


def test_pause_over_national_day_keeps_the_time_left(engine: SlaEngine) -> None:
    s, outs = engine.replay(
        [
            assign(at(2025, 9, 29, 9)),
            ev("accept", at(2025, 9, 29, 9), "a", dept="zjj"),
            ev("pause", at(2025, 9, 30, 10), "p"),  # 8 h used
            ev("resume", at(2025, 10, 9, 14), "r"),
        ]
    )
    assert all(o.applied for o in outs)
    # 27 h left from Thu Oct 9 14:00: 3.5 + Fri 7 + 调休 Sat Oct 11 7 + Mon 7 + 2.5
    assert s.hop_clock.due_at(engine.tb) == epoch(at(2025, 10, 14, 11, 30))


def test_resume_past_the_calendar_is_a_clear_rejection(engine: SlaEngine) -> None:
    last = engine.wt.calendar.last_year  # 2026 with today's chinese-calendar
    s, _ = engine.replay(
        [
            assign(at(last, 12, 1, 9)),
            ev("accept", at(last, 12, 1, 9), "a", dept="zjj"),
            ev("pause", at(last, 12, 1, 10), "p"),
        ]
    )
    # almost 5 working days left on Dec 29: the deadline would be in the unknown year
    out, same = engine.apply(s, ev("resume", at(last, 12, 29, 9), "r"))
    assert (out.kind, out.reason) == (OutcomeKind.REJECTED, Reason.CALENDAR_RANGE)
    assert same is s
    # a wall-clock emergency needs no calendar to run into the new year
    out, e = engine.assign(None, assign(at(last, 12, 31, 23), urgency="emergency"))
    assert out.applied
    assert e.case_clock.due_at(engine.tb) == epoch(at(last + 1, 1, 1, 1))


def test_a_case_whose_policy_left_the_file_is_rejected_not_a_crash(wt: WorkingTime) -> None:
    book = load_policies(POLICIES)
    engine = SlaEngine(wt, book, (0.5, 0.8, 1.0, 1.25))
    out, s = engine.assign(None, assign(at(2025, 3, 3, 10)))
    assert out.applied and s.policy == book.default
    # the operator renamed the policy in policies.toml; the stored case still names it
    renamed = dict(book.policies)
    renamed["一般"] = renamed.pop(s.policy)
    later = SlaEngine(wt, type(book)(renamed, (), "一般"), (0.5, 0.8, 1.0, 1.25))
    out, after = later.apply(s, ev("accept", at(2025, 3, 3, 11), "e1", "zjj"))
    assert out.kind is OutcomeKind.REJECTED and out.reason is Reason.UNKNOWN_POLICY
    assert repr(s.policy) in out.detail and after is s
    out, _ = later.assign(s, assign(at(2025, 3, 4, 10), dept="cgj", hop=2))
    assert out.reason is Reason.UNKNOWN_POLICY


def _accepted(wt: WorkingTime) -> tuple[SlaEngine, CaseState]:
    """A general case assigned and signed for on Monday 2025-03-03 09:00."""
    engine = SlaEngine(wt, load_policies(POLICIES), (0.5, 0.8, 1.0, 1.25))
    _, s = engine.assign(None, assign(at(2025, 3, 3, 9)))
    _, s = engine.apply(s, ev("accept", at(2025, 3, 3, 9), "e1", "zjj"))
    return engine, s


def test_an_approved_extension_rearms_the_thresholds_ahead_under_new_clock_ids(
    wt: WorkingTime,
) -> None:
    engine, s = _accepted(wt)
    _, s = engine.apply(s, ev("extend_request", at(2025, 3, 7, 9), "e2", "zjj", extension_days=5))
    assert s.clock_id(ClockKind.HANDLING) == "h1"
    out, extended = engine.apply(s, ev("extend_approve", at(2025, 3, 10, 10), "e3"))
    assert out.applied
    assert extended.clock_id(ClockKind.HANDLING) == "h1x1"
    assert extended.clock_id(ClockKind.CASE) == "c1x1"
    times = engine.thresholds(extended)
    mask = reset_mask(s, extended, times)
    approved = epoch(at(2025, 3, 10, 10))
    ahead = {i for i, t in enumerate(times) if t > approved}
    assert ahead and {i for i in range(8) if mask >> i & 1} == ahead
    assert not mask & 1 << (HOP_SLOTS + 0)  # the handling clock's 50 % was behind: stays fired
    # without the instants, every threshold is re-armed
    assert reset_mask(s, extended) == CASE_MASK | HOP_MASK
    # an event that is no extension re-arms nothing
    _, paused = engine.apply(extended, ev("pause", at(2025, 3, 10, 11), "e4"))
    assert reset_mask(extended, paused, engine.thresholds(paused)) == 0


def test_an_extension_approved_while_paused_rearms_what_it_would_while_running(
    wt: WorkingTime,
) -> None:
    # a department asks for more time around its yellow card while the case waits on the
    # citizen (paused); the extended deadline must still raise its yellow and red cards
    engine, s = _accepted(wt)
    fractions = engine.fractions
    _, s = engine.apply(s, ev("extend_request", at(2025, 3, 7, 9), "e2", "zjj", extension_days=5))
    s.fired = (1 << 8) - 1  # every card of the first deadline was raised
    _, running = engine.apply(s, ev("extend_approve", at(2025, 3, 10, 10), "e3"))
    rearmed_running = reset_mask(s, running, engine.thresholds(running), fractions)
    _, paused = engine.apply(s, ev("pause", at(2025, 3, 10, 10), "p1"))
    _, extended = engine.apply(paused, ev("extend_approve", at(2025, 3, 10, 10), "e3"))
    times = engine.thresholds(extended)
    assert times == (0,) * 8  # paused: no instants to compare with
    rearmed_paused = reset_mask(paused, extended, times, fractions)
    assert rearmed_paused and rearmed_paused == rearmed_running
    # once it runs again the re-armed thresholds fall due at their new instants, later
    _, resumed = engine.apply(extended, ev("resume", at(2025, 3, 10, 10), "r1"))
    assert reset_mask(extended, resumed, engine.thresholds(resumed), fractions) == 0
    after = engine.thresholds(resumed)
    assert all(after[i] > epoch(at(2025, 3, 10, 10)) for i in range(8) if rearmed_paused >> i & 1)


def test_a_clock_overdue_before_a_pause_shows_its_red_card_instant_once_resumed(
    wt: WorkingTime,
) -> None:
    engine, s = _accepted(wt)
    running_due = s.case_clock.due_at(engine.tb)
    _, s = engine.apply(s, ev("pause", at(2025, 4, 1, 10), "p1"))  # long past its deadline
    _, s = engine.apply(s, ev("resume", at(2025, 4, 15, 10), "r1"))
    resumed = epoch(at(2025, 4, 15, 10))
    assert running_due < epoch(at(2025, 4, 1, 10))
    # not an instant counted back into the pause: the resume, where its overdue card falls
    assert s.case_clock.due_at(engine.tb) == resumed == engine.thresholds(s)[2]
