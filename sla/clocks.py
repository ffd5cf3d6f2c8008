"""The clocks of a case: pure state, no I/O.

Each case has a **case clock** (whole case, from the first assignment to 办结; it runs on
across returns and reassignments) and, for the current assignment hop, one **hop clock**:
the *sign-for* clock from assignment to 签收, then the *handling* clock from 签收 to 答复.
A return (退回) or reassignment (改派) ends the hop clock of one department; the next
hop starts a fresh one for the next department.

A clock counts either working time or wall time (its :class:`~sla.policies.ClockMode`)
and is stored as ``limit`` (allowed seconds, extensions included), ``used`` (seconds
consumed in earlier running segments) and ``since`` (start of the running segment, 0
when paused or stopped). Pausing folds the running segment into ``used``; resuming sets
``since`` again, so the remaining time after a pause is exactly what was left, counted
in the clock's own kind of time.

Each clock has four thresholds, fractions of ``limit`` consumed (configurable): warn50,
warn80 (yellow card), overdue (red card) and escalate. Eight threshold *slots* per case:
0–3 for the case clock, 4–7 for the hop clock. A bit per slot records which fired; a
new hop, phase or round clears the bits of the clock it replaces.
"""

from __future__ import annotations

import math
from collections.abc import Container
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from sla.policies import ClockMode
from sla.working_time import WorkingTime

THRESHOLD_NAMES = ("warn50", "warn80", "overdue", "escalate")
#: Slot offsets of the two clocks of a case.
CASE_SLOTS = 0
HOP_SLOTS = 4
#: Extensions counted in clock ids (and in ``t``, a nibble shared with the Lua scripts).
MAX_EXT_ID = 15
CASE_MASK = 0x0F
HOP_MASK = 0xF0


def share(fraction: float, limit: int) -> int:
    """Whole seconds of ``limit`` consumed at ``fraction``, rounded up.

    Float noise is dropped first: 1.1 × 7200 is 7920.000000000001, and rounding that up
    would put the threshold a second late, or past a whole break when 7920 s end a period.
    """
    return math.ceil(round(fraction * limit, 6))


class Threshold(IntEnum):
    """The four alert levels of a clock, in order."""

    WARN50 = 0
    WARN80 = 1
    OVERDUE = 2
    ESCALATE = 3

    @property
    def label(self) -> str:
        """``warn50``, ``warn80``, ``overdue`` or ``escalate``."""
        return THRESHOLD_NAMES[self]


class ClockKind(StrEnum):
    """Which obligation a clock measures."""

    CASE = "case"
    SIGN_FOR = "sign_for"
    HANDLING = "handling"


class CaseStatus(IntEnum):
    """Life-cycle of a case as the SLA engine sees it."""

    OPEN = 0
    PAUSED = 1  # 挂起: waiting for the citizen; every clock stands still
    CLOSED = 2  # 办结


class HopPhase(IntEnum):
    """Where the current assignment hop stands."""

    UNASSIGNED = 0  # returned (退回); waiting for the centre to reassign
    SIGN_FOR = 1  # assigned, waiting for 签收
    HANDLING = 2  # signed for, being handled
    REPLIED = 3  # department answered (答复); the centre still has to close


class Timebase:
    """Measures and advances time in either mode over one working-time axis."""

    def __init__(self, wt: WorkingTime) -> None:
        self.wt = wt

    def span(self, mode: ClockMode, t1: int, t2: int) -> int:
        """Seconds of ``mode`` time from ``t1`` to ``t2``."""
        if mode is ClockMode.WALL:
            return t2 - t1
        return self.wt.elapsed(t1, t2)

    def advance(self, mode: ClockMode, t: int, seconds: int) -> int:
        """The earliest instant ``seconds`` of ``mode`` time after ``t`` (may be negative)."""
        if mode is ClockMode.WALL:
            return t + seconds
        if seconds == 0:
            return t
        return self.wt.instant(self.wt.position(t) + seconds)


@dataclass(slots=True)
class Clock:
    """One running, paused or stopped clock (see module docstring)."""

    mode: ClockMode
    limit: int
    used: int = 0
    since: int = 0

    @property
    def running(self) -> bool:
        """True while the clock counts."""
        return self.since > 0

    def consumed(self, now: int, tb: Timebase) -> int:
        """Seconds of its time consumed up to ``now``."""
        if not self.running:
            return self.used
        return self.used + max(0, tb.span(self.mode, self.since, now))

    def remaining(self, now: int, tb: Timebase) -> int:
        """Seconds left at ``now``; negative once overdue."""
        return self.limit - self.consumed(now, tb)

    def due_at(self, tb: Timebase) -> int | None:
        """Deadline instant if running (in the past once overdue), else ``None``.

        A clock whose time ran out before a pause has, once resumed, no instant of its
        own left (only the time used is kept): the resume instant, as its red card says.
        Counting back from it would land inside the pause, when the clock did not run."""
        if not self.running:
            return None
        left = self.limit - self.used
        return tb.advance(self.mode, self.since, left) if left > 0 else self.since

    def pause(self, at: int, tb: Timebase) -> None:
        """Stop counting at ``at``, keeping what was consumed."""
        if self.running:
            self.used += max(0, tb.span(self.mode, self.since, at))
            self.since = 0

    def resume(self, at: int) -> None:
        """Start counting again at ``at`` with the remaining time."""
        if not self.running:
            self.since = at

    def threshold_times(self, fractions: tuple[float, ...], tb: Timebase) -> tuple[int, ...]:
        """Instant each threshold is reached (0 = none while not running).

        A threshold already passed in an earlier segment is due at the segment start, so
        a warning missed during a pause is raised as soon as the clock runs again.
        """
        if not self.running:
            return (0,) * len(fractions)
        lefts = [share(f, self.limit) - self.used for f in fractions]
        if self.mode is ClockMode.WALL:
            return tuple(self.since + x if x > 0 else self.since for x in lefts)
        # one position lookup for the four instants: this runs for every record applied
        pos = tb.wt.position(self.since)
        return tuple(tb.wt.instant(pos + x) if x > 0 else self.since for x in lefts)


@dataclass(slots=True)
class CaseState:
    """Everything the SLA engine keeps about one case (one Redis hash)."""

    appeal_id: str
    policy: str
    department: str  # current department code; "" while unassigned after a return
    district: str
    category: str
    case_clock: Clock
    status: CaseStatus = CaseStatus.OPEN
    round: int = 1  # 1, then +1 per reopen (重办): the case clock restarts
    hop: int = 1
    hop_assigned_at: int = 0
    phase: HopPhase = HopPhase.SIGN_FOR
    hop_clock: Clock | None = None
    ext_used: int = 0
    ext_requested: int = 0  # working days asked for and not yet approved; 0 = none
    last_at: int = 0  # occurred_at of the last applied record
    recent: tuple[int, ...] = ()  # digests of the last applied record ids (dedupe)
    version: int = 0  # writes (applied records, deadline recomputes): compare-and-set guard
    fired: int = 0  # threshold bits already claimed (owned by the alert scanner)
    #: thresholds computed by the engine for this state (a cache, not state)
    times: tuple[int, ...] | None = field(default=None, compare=False, repr=False)

    def copy(self) -> CaseState:
        """An independent copy (clocks included)."""
        # Hand-written rather than dataclasses.replace: this runs for every record.
        c, h = self.case_clock, self.hop_clock
        return CaseState(
            self.appeal_id,
            self.policy,
            self.department,
            self.district,
            self.category,
            Clock(c.mode, c.limit, c.used, c.since),
            self.status,
            self.round,
            self.hop,
            self.hop_assigned_at,
            self.phase,
            Clock(h.mode, h.limit, h.used, h.since) if h else None,
            self.ext_used,
            self.ext_requested,
            self.last_at,
            self.recent,
            self.version,
            self.fired,
        )

    @property
    def hop_kind(self) -> ClockKind | None:
        """Kind of the hop clock, if any."""
        if self.hop_clock is None:
            return None
        return ClockKind.SIGN_FOR if self.phase == HopPhase.SIGN_FOR else ClockKind.HANDLING

    def clock_id(self, kind: ClockKind) -> str:
        """Stable id of a clock: ``c<round>``, ``s<hop>`` or ``h<hop>``, then ``x<n>`` once
        ``n`` extensions were approved: an extended deadline is a new one, whose alerts
        (its own overdue, say) must not be taken for those of the deadline before."""
        ext = f"x{min(self.ext_used, MAX_EXT_ID)}" if self.ext_used else ""
        if kind is ClockKind.CASE:
            return f"c{self.round}{ext}"
        return ("s" if kind is ClockKind.SIGN_FOR else "h") + str(self.hop) + ext

    def clocks(self) -> list[tuple[ClockKind, Clock]]:
        """The case clock, then the hop clock if there is one."""
        out = [(ClockKind.CASE, self.case_clock)]
        if self.hop_clock is not None and self.hop_kind is not None:
            out.append((self.hop_kind, self.hop_clock))
        return out

    def thresholds(
        self, fractions: tuple[float, ...], tb: Timebase, before: CaseState | None = None
    ) -> tuple[int, ...]:
        """Eight threshold instants: case clock slots 0–3, hop clock slots 4–7 (0 = none).

        ``before`` is the previous state with its thresholds: those of a clock that did
        not change are reused rather than recomputed.
        """
        if self.status == CaseStatus.CLOSED:
            return (0,) * 8
        prev = before.times if before is not None and before.status != CaseStatus.CLOSED else None
        if prev and before.case_clock == self.case_clock:  # type: ignore[union-attr]
            case = prev[:4]
        else:
            case = self.case_clock.threshold_times(fractions, tb)
        hop = self.hop_clock.threshold_times(fractions, tb) if self.hop_clock else (0,) * 4
        return case + hop


def reset_mask(
    old: CaseState | None,
    new: CaseState,
    times: tuple[int, ...] | None = None,
    fractions: tuple[float, ...] | None = None,
) -> int:
    """Fired bits to clear when ``new`` replaces ``old``: those of clocks that were
    replaced, and, after an approved extension, those of thresholds that now lie ahead
    (``times``: ``new``'s threshold instants; without them every threshold is re-armed).
    Thresholds still behind stay fired, so an extension does not repeat old warnings.

    A clock paused when the extension is approved has no instants (0): with ``fractions``
    its thresholds ahead are those above the time it has used, re-armed now so that they
    are raised once it runs again (without, the extended deadline raised no card at all).
    """
    if old is None:
        return CASE_MASK | HOP_MASK
    mask = 0
    if old.ext_used != new.ext_used:
        if times is None:
            mask |= CASE_MASK | HOP_MASK
        else:
            mask |= _ahead(new, times, fractions)
    if old.round != new.round:
        mask |= CASE_MASK
    if (old.hop, old.phase) != (new.hop, new.phase):
        mask |= HOP_MASK
    return mask


def _ahead(new: CaseState, times: tuple[int, ...], fractions: tuple[float, ...] | None) -> int:
    """Bits of the thresholds not yet reached in ``new``: a running clock's instant after
    its last event, a paused clock's share of its limit above what it has used."""
    mask = 0
    for i, t in enumerate(times):
        clock = new.case_clock if i < HOP_SLOTS else new.hop_clock
        if t:
            ahead = t > new.last_at
        else:  # not running: paused (or closed, or no hop clock)
            ahead = (
                fractions is not None
                and clock is not None
                and new.status != CaseStatus.CLOSED
                and share(fractions[i % HOP_SLOTS], clock.limit) > clock.used
            )
        if ahead:
            mask |= 1 << i
    return mask


@dataclass(frozen=True)
class FiredThreshold:
    """A threshold reached by a clock: what an alert is made of."""

    appeal_id: str
    clock: ClockKind
    clock_id: str
    threshold: Threshold
    threshold_at: int
    due_at: int
    department: str
    district: str
    category: str

    @property
    def alert_id(self) -> str:
        """Deterministic id: one alert per threshold per clock, whoever raises it."""
        return f"{self.appeal_id}/{self.clock_id}/{self.threshold.label}"


@dataclass
class ScanResult:
    """What :func:`fire_due` found for one case."""

    fired: list[FiredThreshold] = field(default_factory=list)
    late: bool = False  # a warn80-or-worse threshold fired: case joins the late index
    next_due: int | None = None


def fire_due(
    state: CaseState,
    times: tuple[int, ...],
    now: int,
    mark: bool = True,
    published: Container[str] | None = None,
) -> ScanResult:
    """Thresholds due at ``now`` and not yet fired; sets their bits in ``state.fired``.

    ``times`` are the stored threshold instants (:meth:`CaseState.thresholds`). This is
    the pure twin of ``sla/lua/claim.lua``, used by the rebuild; both must agree. With
    ``published`` (alert ids already on ``sla.alerts``) a due threshold whose alert is not
    among them is left pending: the rebuild must not swallow an alert that was never sent.
    """
    res = ScanResult()
    kinds = [ClockKind.CASE] * 4 + [state.hop_kind or ClockKind.HANDLING] * 4
    for slot, t in enumerate(times):
        bit = 1 << slot
        if t == 0 or state.fired & bit:
            continue
        if t <= now:
            thr = Threshold(slot % 4)
            kind = kinds[slot]
            base = slot - slot % 4
            fired = FiredThreshold(
                appeal_id=state.appeal_id,
                clock=kind,
                clock_id=state.clock_id(kind),
                threshold=thr,
                threshold_at=t,
                due_at=times[base + Threshold.OVERDUE],
                department=state.department,
                district=state.district,
                category=state.category,
            )
            if published is not None and fired.alert_id not in published:
                if res.next_due is None or t < res.next_due:
                    res.next_due = t  # still to be raised: the scanner claims it at once
                continue
            if mark:
                state.fired |= bit
            res.fired.append(fired)
            if thr >= Threshold.WARN80:
                res.late = True
        elif res.next_due is None or t < res.next_due:
            res.next_due = t
    return res


def next_due(times: tuple[int, ...], fired: int) -> int | None:
    """Earliest threshold instant not yet fired (what the due zset scores the case by)."""
    pending = [t for slot, t in enumerate(times) if t and not fired & (1 << slot)]
    return min(pending) if pending else None
