"""Monitoring questions: how much time a case has left, which cases are near due or overdue.

Levels of a clock at ``now`` (fraction of allowed time consumed): ``ok``, ``near_due``
(≥ the warn80 fraction: yellow card), ``overdue`` (≥ 100 %: red card), ``escalated``
(≥ 100 % + overrun). A case takes the worst level of its running or paused clocks.

Candidates come from Redis sets: by department the department's open set (complete); by
district, category or for the whole city the late sets the alert scanner fills when a
clock reaches warn80 (so those queries see what the scanner has seen). Every candidate
is re-evaluated at ``now`` from its stored state; closed or recovered cases drop out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sla.calendar import CalendarRangeError
from sla.clocks import CaseState, CaseStatus, ClockKind
from sla.events import SlaEngine
from sla.policies import ClockMode
from sla.redis_store import SlaStore

LEVELS = ("ok", "near_due", "overdue", "escalated")


@dataclass(frozen=True)
class ClockView:
    """One clock of a case at a moment."""

    kind: str
    clock_id: str
    mode: str  # "working" or "wall"
    limit: int  # allowed seconds of its time, extensions included
    consumed: int
    remaining: int  # negative once overdue
    due_at: int | None  # deadline instant while running (may be past), else None
    running: bool
    level: str
    #: the deadline is counted on a provisional calendar (its year is not declared yet)
    provisional: bool = False
    #: the deadline falls after the working-day calendar's last year (``due_at`` is then
    #: ``None`` while it runs): a case a recompute left on its old deadline, after the
    #: calendar shrank (``HOTLINE_SLA_PROVISIONAL_YEARS=0``)
    beyond_calendar: bool = False


@dataclass(frozen=True)
class CaseView:
    """A case's clocks at a moment, for operators."""

    appeal_id: str
    policy: str
    department: str
    district: str
    category: str
    status: str
    phase: str
    clocks: tuple[ClockView, ...]

    @property
    def level(self) -> str:
        """Worst level among the clocks (``ok`` for a closed case)."""
        if self.status == "closed" or not self.clocks:
            return "ok"
        return max((c.level for c in self.clocks), key=LEVELS.index)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        d = asdict(self)
        d["level"] = self.level
        return d


def level_of(consumed: int, limit: int, fractions: tuple[float, ...]) -> str:
    """Level of a clock that consumed ``consumed`` of ``limit`` seconds."""
    if limit <= 0:
        return "overdue"
    f = consumed / limit
    if f >= fractions[3]:
        return "escalated"
    if f >= 1.0:
        return "overdue"
    if f >= fractions[1]:
        return "near_due"
    return "ok"


def case_view(state: CaseState, engine: SlaEngine, now: int) -> CaseView:
    """Evaluate every clock of ``state`` at ``now`` (pure)."""
    clocks = []
    calendar, wt = engine.wt.calendar, engine.wt
    for kind, clock in state.clocks():
        consumed = clock.consumed(now, engine.tb)
        try:
            due_at, beyond = clock.due_at(engine.tb), False
        except CalendarRangeError:  # one such case must not break a whole listing
            due_at, beyond = None, True
        clocks.append(
            ClockView(
                kind=kind.value,
                clock_id=state.clock_id(kind),
                mode="working" if clock.mode.value == "w" else "wall",
                limit=clock.limit,
                consumed=consumed,
                remaining=clock.limit - consumed,
                due_at=due_at,
                running=clock.running,
                level=level_of(consumed, clock.limit, engine.fractions)
                if state.status != CaseStatus.CLOSED
                else "ok",
                provisional=due_at is not None
                and clock.mode is ClockMode.WORKING
                and calendar.is_provisional(wt.local_date(due_at)),
                beyond_calendar=beyond,
            )
        )
    return CaseView(
        appeal_id=state.appeal_id,
        policy=state.policy,
        department=state.department,
        district=state.district,
        category=state.category,
        status=state.status.name.lower(),
        phase=state.phase.name.lower(),
        clocks=tuple(clocks),
    )


async def remaining(store: SlaStore, appeal_id: str, now: int) -> CaseView | None:
    """The clocks of one case at ``now`` (``None`` if the case is unknown)."""
    state = await store.load(appeal_id)
    return case_view(state, store.engine, now) if state else None


async def late_cases(
    store: SlaStore,
    now: int,
    *,
    department: str | None = None,
    district: str | None = None,
    category: str | None = None,
    include_near: bool = False,
    chunk: int = 1000,
) -> list[CaseView]:
    """Overdue (and with ``include_near`` near-due) open cases matching every filter.

    Sorted worst first, then by earliest deadline.
    """
    if department:
        ids = await store.department_cases(department)
    else:
        ids = await store.late_candidates(district=district, category=category, until=now)
    wanted = {"overdue", "escalated"} | ({"near_due"} if include_near else set())
    out: list[CaseView] = []
    for i in range(0, len(ids), chunk):
        states = await store.load_many(ids[i : i + chunk])
        for s in states.values():
            if s.status == CaseStatus.CLOSED:
                continue
            if (department and s.department != department) or (district and s.district != district):
                continue
            if category and s.category != category:
                continue
            view = case_view(s, store.engine, now)
            if view.level in wanted:
                out.append(view)

    def order(v: CaseView) -> tuple[int, int]:
        # a deadline beyond the calendar sorts after every known one, as a paused clock does
        dues = [c.due_at for c in v.clocks if c.due_at is not None] or [2**62]
        return (-LEVELS.index(v.level), min(dues))

    return sorted(out, key=order)


def first_clock(view: CaseView, kind: ClockKind) -> ClockView | None:
    """The view's clock of ``kind``, if present."""
    return next((c for c in view.clocks if c.kind == kind.value), None)
