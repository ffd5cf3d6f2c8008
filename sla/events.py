"""Applying assignments and case events to a case's clocks, with an explicit outcome.

Every record gets one :class:`Outcome`: ``applied``, ``duplicate`` (already applied:
ignore), or ``rejected`` with a :class:`Reason` (the stream dead-letters it). Nothing here
raises on bad input and a rejected record never changes the state.

Rules (times are the record's ``occurred_at`` / ``assigned_at``):

* **Order.** A record older than the last applied one is ``out_of_order``; ties are
  fine. Duplicates are recognised by id among the last :data:`RING` records of the case
  (a re-sent record older than that is also older in time, so it is rejected as
  out-of-order rather than applied twice). The one gap: a record re-sent after
  ``RING`` or more others of its case applied *in the same second* is applied again. The ring
  stays at four so that the case's hash keeps Redis's compact encoding (values of at most
  64 bytes, see ``sla.redis_store``). A record rejected for the state it met (say a
  ``close`` that arrived before its ``accept``) may apply when it is delivered again
  after the state caught up, as a dead-letter replay would.
* **assignment** hop *n*: creates the case (case clock + sign-for clock) or starts hop
  *n* for its department, ending the previous hop's clock; the case clock runs on. A
  hop already started (e.g. by a ``reassign`` event) is a duplicate; an older hop is
  ``stale_hop``.
* **accept (签收)** by the current department: sign-for clock stops, handling starts.
* **return (退回)** by the current department within the policy's return window of the
  hop's assignment: the hop clock stops, the case waits for reassignment.
* **reassign (改派)** to ``target_department``: next hop starts at once.
* **extend_request / extend_approve (延期)**: after sign-for; at most ``max_extensions``
  per round, each at most ``max_extension_days`` working days; only the approval moves
  deadlines (case clock and handling clock), by the approved days (≤ requested).
* **pause (挂起) / resume**: every clock stands still in between.
* **reply (答复)**: handling clock stops; the case clock runs until 办结.
* **close (办结)**: only after sign-for (``not_signed_for`` otherwise); stops everything.
* **reopen (重办)**: a closed case starts a new round: fresh case clock and a new hop
  (sign-for) for ``department`` or the last one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sla.calendar import CalendarRangeError
from sla.clocks import CaseState, CaseStatus, Clock, HopPhase, Timebase
from sla.policies import ClockMode, Policy, PolicyBook, UnknownPolicyError
from sla.working_time import WorkingTime

#: How many recent record ids a case remembers for duplicate detection.
RING = 4


class OutcomeKind(StrEnum):
    """What happened to a record."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Reason(StrEnum):
    """Why a record was rejected (or, for duplicates, why it is one)."""

    UNKNOWN_CASE = "unknown_case"
    OUT_OF_ORDER = "out_of_order"
    CASE_CLOSED = "case_closed"
    NOT_CLOSED = "not_closed"
    NOT_ASSIGNED = "not_assigned"
    NOT_SIGNED_FOR = "not_signed_for"
    ALREADY_SIGNED_FOR = "already_signed_for"
    ALREADY_REPLIED = "already_replied"
    WRONG_DEPARTMENT = "wrong_department"
    SAME_DEPARTMENT = "same_department"
    RETURN_WINDOW_EXPIRED = "return_window_expired"
    EXTENSION_NOT_ALLOWED = "extension_not_allowed"
    EXTENSION_LIMIT = "extension_limit"
    EXTENSION_TOO_LONG = "extension_too_long"
    EXTENSION_PENDING = "extension_pending"
    NO_PENDING_EXTENSION = "no_pending_extension"
    ALREADY_PAUSED = "already_paused"
    NOT_PAUSED = "not_paused"
    STALE_HOP = "stale_hop"
    UNKNOWN_POLICY = "unknown_policy"
    INVALID = "invalid"
    CALENDAR_RANGE = "calendar_range"
    SEEN_ID = "seen_id"  # duplicate: the record id was applied before
    HOP_STARTED = "hop_started"  # duplicate: this hop already runs for this department


@dataclass(frozen=True)
class Outcome:
    """The result of applying one record."""

    kind: OutcomeKind
    reason: Reason | None = None
    detail: str = ""

    @property
    def applied(self) -> bool:
        """True if the state changed."""
        return self.kind is OutcomeKind.APPLIED

    def __str__(self) -> str:
        parts = [self.kind.value] + ([self.reason.value] if self.reason else [])
        return ":".join(parts) + (f" ({self.detail})" if self.detail else "")


APPLIED = Outcome(OutcomeKind.APPLIED)


def rejected(reason: Reason, detail: str = "") -> Outcome:
    """A rejected outcome."""
    return Outcome(OutcomeKind.REJECTED, reason, detail)


def duplicate(reason: Reason, detail: str = "") -> Outcome:
    """A duplicate outcome."""
    return Outcome(OutcomeKind.DUPLICATE, reason, detail)


class EventKind(StrEnum):
    """Case event kinds (see ``models.case_event.CASE_EVENT_KINDS``)."""

    ACCEPT = "accept"
    RETURN = "return"
    REASSIGN = "reassign"
    EXTEND_REQUEST = "extend_request"
    EXTEND_APPROVE = "extend_approve"
    PAUSE = "pause"
    RESUME = "resume"
    REPLY = "reply"
    CLOSE = "close"
    REOPEN = "reopen"


class CaseEventLike(Protocol):
    """What the engine reads from a case event (``models.case_event.CaseEvent`` fits)."""

    event_id: str
    appeal_id: str
    kind: str
    occurred_at: datetime
    department: str | None
    extension_days: int | None
    target_department: str | None


@dataclass(frozen=True)
class AssignmentIn:
    """An assignment hop as the SLA engine needs it (plain values, no Kafka record).

    ``policy`` names the policy directly; without it, the policy rules pick one from
    ``appeal_type``, ``category``, ``urgency`` and ``tags``.
    """

    appeal_id: str
    assignment_id: str
    hop: int
    department: str
    assigned_at: datetime
    policy: str | None = None
    appeal_type: str | None = None
    category: str | None = None
    urgency: str | None = None
    district: str | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, rec: Any) -> AssignmentIn:
        """Build from any record with the assignment's attribute names (duck-typed)."""
        tags = getattr(rec, "tags", None) or ()
        department = next(
            (
                getattr(rec, name)
                for name in ("department", "lead_department", "lead_department_code")
                if getattr(rec, name, None)
            ),
            "",
        )
        return cls(
            appeal_id=rec.appeal_id,
            assignment_id=rec.assignment_id,
            hop=int(rec.hop),
            department=department,
            assigned_at=rec.assigned_at,
            policy=getattr(rec, "policy", None),
            appeal_type=getattr(rec, "appeal_type", None),
            category=getattr(rec, "category", None),
            urgency=getattr(rec, "urgency", None),
            district=getattr(rec, "district", None),
            tags=tuple(tags),
        )

    @property
    def record_id(self) -> str:
        """Id used for duplicate detection."""
        return "a:" + self.assignment_id


def digest(record_id: str) -> int:
    """40-bit digest of a record id, as kept in the case's recent-ids ring."""
    return int.from_bytes(hashlib.blake2b(record_id.encode(), digest_size=5).digest(), "big")


def record_time(rec: AssignmentIn | CaseEventLike) -> datetime:
    """When a record happened (assignment time or event time)."""
    return rec.assigned_at if isinstance(rec, AssignmentIn) else rec.occurred_at


class SlaEngine:
    """Pure SLA logic: policies + working time + thresholds. Returns new states."""

    def __init__(
        self,
        wt: WorkingTime,
        book: PolicyBook,
        fractions: tuple[float, ...],
        handover_skew_s: int = 0,
    ) -> None:
        self.wt = wt
        self.tb = Timebase(wt)
        self.book = book
        self.fractions = tuple(fractions)
        #: see :meth:`_in_order`
        self.handover_skew_s = handover_skew_s

    @classmethod
    def from_settings(cls, settings: Any = None) -> SlaEngine:
        """Engine configured by :class:`config.sla.SlaSettings` (defaults if ``None``)."""
        from config.sla import DEFAULTS
        from sla.policies import load_policies
        from sla.working_time import working_time_for

        s = settings or DEFAULTS
        return cls(
            working_time_for(s), load_policies(s.policy_file), s.fractions, s.handover_skew_s
        )

    # -- helpers --------------------------------------------------------------------------

    def _seconds(self, d: Any) -> int:
        return d.seconds(self.wt.day_seconds)

    def _epoch(self, dt: datetime) -> int:
        return self.wt.epoch(dt)

    def _new_clock(self, duration: Any, at: int, paused: bool) -> Clock:
        return Clock(duration.mode, self._seconds(duration), 0, 0 if paused else at)

    def _start_hop(self, s: CaseState, pol: Policy, hop: int, dept: str, at: int) -> None:
        s.hop = hop
        s.department = dept
        s.hop_assigned_at = at
        s.phase = HopPhase.SIGN_FOR
        s.hop_clock = self._new_clock(pol.sign_for, at, s.status == CaseStatus.PAUSED)

    def thresholds(self, state: CaseState, before: CaseState | None = None) -> tuple[int, ...]:
        """The eight threshold instants of a state (see :mod:`sla.clocks`)."""
        return state.thresholds(self.fractions, self.tb, before)

    @staticmethod
    def _finish(s: CaseState, rid_digest: int, at: int) -> None:
        s.last_at = max(s.last_at, at)
        s.recent = (s.recent + (rid_digest,))[-RING:]
        s.version += 1

    # -- assignments ----------------------------------------------------------------------

    def assign(self, state: CaseState | None, a: AssignmentIn) -> tuple[Outcome, CaseState | None]:
        """Apply an assignment hop; returns the outcome and the (new or unchanged) state."""
        return _guarded(self._assign, state, a)

    def _assign(self, state: CaseState | None, a: AssignmentIn) -> tuple[Outcome, CaseState | None]:
        if not a.department or a.hop < 1:
            return rejected(Reason.INVALID, "assignment needs a department and hop >= 1"), state
        at = self._epoch(a.assigned_at)
        self.wt.position(at)  # range check before touching anything
        rid = digest(a.record_id)
        if state is None:
            if a.policy:
                if a.policy not in self.book.policies:
                    return rejected(Reason.UNKNOWN_POLICY, a.policy), None
                pol = self.book.get(a.policy)
            else:
                pol = self.book.select(a.appeal_type, a.category, a.urgency, a.tags)
            s = CaseState(
                appeal_id=a.appeal_id,
                policy=pol.key,
                department=a.department,
                district=a.district or "",
                category=a.category or "",
                case_clock=self._new_clock(pol.case, at, False),
            )
            self._start_hop(s, pol, a.hop, a.department, at)
            self._check(s)
            self._finish(s, rid, at)
            return APPLIED, s
        if rid in state.recent:
            return duplicate(Reason.SEEN_ID), state
        if state.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED), state
        if a.hop < state.hop:
            return rejected(Reason.STALE_HOP, f"hop {a.hop} < current hop {state.hop}"), state
        if a.hop == state.hop:
            if a.department == state.department:
                return duplicate(Reason.HOP_STARTED, f"hop {a.hop} runs for {a.department}"), state
            return rejected(
                Reason.STALE_HOP, f"hop {a.hop} already assigned to {state.department!r}"
            ), state
        if at < state.last_at:
            return rejected(Reason.OUT_OF_ORDER), state
        s = state.copy()
        self._start_hop(s, self.book.get(s.policy), a.hop, a.department, at)
        self._check(s, state)
        self._finish(s, rid, at)
        return APPLIED, s

    # -- case events ----------------------------------------------------------------------

    def apply(self, state: CaseState | None, ev: CaseEventLike) -> tuple[Outcome, CaseState | None]:
        """Apply a case event; returns the outcome and the (new or unchanged) state."""
        return _guarded(self._apply, state, ev)

    def _apply(
        self, state: CaseState | None, ev: CaseEventLike
    ) -> tuple[Outcome, CaseState | None]:
        try:
            kind = EventKind(ev.kind)
        except ValueError:
            return rejected(Reason.INVALID, f"unknown event kind {ev.kind!r}"), state
        if not ev.event_id:
            return rejected(Reason.INVALID, "event without event_id"), state
        if state is None:
            return rejected(Reason.UNKNOWN_CASE), state
        rid = digest("e:" + ev.event_id)
        if rid in state.recent:
            return duplicate(Reason.SEEN_ID), state
        at = self._epoch(ev.occurred_at)
        self.wt.position(at)
        counted = self._in_order(state, at)
        if counted is None:
            return rejected(
                Reason.OUT_OF_ORDER,
                f"{kind.value} at {at} is older than the last applied record ({state.last_at})",
            ), state
        at = counted
        handler = getattr(self, "_on_" + kind.value)
        s = state.copy()
        outcome = handler(s, ev, at)
        if not outcome.applied:
            return outcome, state
        self._check(s, state)
        self._finish(s, rid, at)
        return outcome, s

    def _in_order(self, state: CaseState, at: int) -> int | None:
        """The instant a case event counts at, or ``None`` if it is older than the last
        applied record (out of order).

        One exception: a department's first event of a hop stamped up to
        ``handover_skew_s`` before the hop's assignment counts as made at the assignment.
        The centre stamps ``assigned_at`` and the department's system its own events, and
        a clock a little behind made its 签收 "older" than the assignment: rejected, the
        case stayed unsigned and went overdue. Only there: later, a redelivered event
        older than the last record may be one applied already whose id has left the
        case's ring of recent ids, which must not be applied twice.
        """
        if at >= state.last_at:
            return at
        handover = state.last_at == state.hop_assigned_at
        return state.last_at if handover and state.last_at - at <= self.handover_skew_s else None

    def _check(self, s: CaseState, before: CaseState | None = None) -> None:
        # Computing thresholds raises CalendarRangeError when a deadline would fall past
        # the calendar: better to reject now than to store a clock that cannot be scanned.
        # Kept on the state: the store writes them without computing them again.
        s.times = self.thresholds(s, before)

    def _dept_mismatch(self, s: CaseState, ev: CaseEventLike) -> Outcome | None:
        if ev.department and ev.department != s.department:
            return rejected(
                Reason.WRONG_DEPARTMENT,
                f"{ev.department!r} acted on a case held by {s.department or 'nobody'!r}",
            )
        return None

    def _on_accept(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED)
        if s.phase == HopPhase.UNASSIGNED:
            return rejected(Reason.NOT_ASSIGNED, "case was returned and not reassigned")
        if s.phase != HopPhase.SIGN_FOR:
            return rejected(Reason.ALREADY_SIGNED_FOR)
        if bad := self._dept_mismatch(s, ev):
            return bad
        pol = self.book.get(s.policy)
        s.phase = HopPhase.HANDLING
        s.hop_clock = self._new_clock(pol.handling, at, s.status == CaseStatus.PAUSED)
        return APPLIED

    def _on_return(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED)
        if s.phase == HopPhase.UNASSIGNED:
            return rejected(Reason.NOT_ASSIGNED, "case is already returned")
        if s.phase == HopPhase.REPLIED:
            return rejected(Reason.ALREADY_REPLIED)
        if bad := self._dept_mismatch(s, ev):
            return bad
        window = self.book.get(s.policy).return_window
        used = self.tb.span(window.mode, s.hop_assigned_at, at)
        if used > self._seconds(window):
            return rejected(
                Reason.RETURN_WINDOW_EXPIRED,
                f"{used}s of {window} used since assignment; returns allowed within {window}",
            )
        s.phase = HopPhase.UNASSIGNED
        s.hop_clock = None
        s.department = ""
        s.ext_requested = 0
        return APPLIED

    def _on_reassign(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED)
        target = ev.target_department
        if not target:
            return rejected(Reason.INVALID, "reassign needs target_department")
        if target == s.department:
            return rejected(Reason.SAME_DEPARTMENT, f"case is already with {target!r}")
        self._start_hop(s, self.book.get(s.policy), s.hop + 1, target, at)
        s.ext_requested = 0
        return APPLIED

    def _on_extend_request(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if bad := self._extension_precheck(s, ev):
            return bad
        pol = self.book.get(s.policy)
        days = ev.extension_days
        if not isinstance(days, int) or days <= 0:
            return rejected(Reason.INVALID, "extension_days must be a positive integer")
        if days > pol.max_extension_days:
            return rejected(
                Reason.EXTENSION_TOO_LONG, f"{days} > {pol.max_extension_days} working days"
            )
        if s.ext_requested:
            return rejected(Reason.EXTENSION_PENDING, f"{s.ext_requested} days awaiting approval")
        s.ext_requested = days
        return APPLIED

    def _on_extend_approve(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if bad := self._extension_precheck(s, ev, check_department=False):
            return bad
        if not s.ext_requested:
            return rejected(Reason.NO_PENDING_EXTENSION)
        pol = self.book.get(s.policy)
        days = ev.extension_days if ev.extension_days is not None else s.ext_requested
        if not isinstance(days, int) or days <= 0:
            return rejected(Reason.INVALID, "extension_days must be a positive integer")
        if days > s.ext_requested or days > pol.max_extension_days:
            return rejected(
                Reason.EXTENSION_TOO_LONG,
                f"{days} days > requested {s.ext_requested} or limit {pol.max_extension_days}",
            )
        for clock in (s.case_clock, s.hop_clock):
            if clock is not None:
                per_day = self.wt.day_seconds if clock.mode is ClockMode.WORKING else 86400
                clock.limit += days * per_day
        s.ext_used += 1
        s.ext_requested = 0
        return APPLIED

    def _extension_precheck(
        self, s: CaseState, ev: CaseEventLike, check_department: bool = True
    ) -> Outcome | None:
        if s.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED)
        if s.phase in (HopPhase.UNASSIGNED, HopPhase.SIGN_FOR):
            return rejected(Reason.NOT_SIGNED_FOR, "extensions need a signed-for case")
        if s.phase == HopPhase.REPLIED:
            return rejected(Reason.ALREADY_REPLIED)
        if check_department and (bad := self._dept_mismatch(s, ev)):
            return bad
        pol = self.book.get(s.policy)
        if pol.max_extensions == 0:
            return rejected(Reason.EXTENSION_NOT_ALLOWED, f"policy {pol.key} allows none")
        if s.ext_used >= pol.max_extensions:
            return rejected(
                Reason.EXTENSION_LIMIT, f"{s.ext_used} of {pol.max_extensions} already used"
            )
        return None

    def _on_pause(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED)
        if s.status == CaseStatus.PAUSED:
            return rejected(Reason.ALREADY_PAUSED)
        s.case_clock.pause(at, self.tb)
        if s.hop_clock:
            s.hop_clock.pause(at, self.tb)
        s.status = CaseStatus.PAUSED
        return APPLIED

    def _on_resume(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status != CaseStatus.PAUSED:
            return rejected(Reason.NOT_PAUSED)
        s.case_clock.resume(at)
        if s.hop_clock:
            s.hop_clock.resume(at)
        s.status = CaseStatus.OPEN
        return APPLIED

    def _on_reply(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED)
        if s.phase in (HopPhase.UNASSIGNED, HopPhase.SIGN_FOR):
            return rejected(Reason.NOT_SIGNED_FOR, "reply before sign-for")
        if s.phase == HopPhase.REPLIED:
            return rejected(Reason.ALREADY_REPLIED)
        if bad := self._dept_mismatch(s, ev):
            return bad
        s.phase = HopPhase.REPLIED
        s.hop_clock = None
        s.ext_requested = 0
        return APPLIED

    def _on_close(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status == CaseStatus.CLOSED:
            return rejected(Reason.CASE_CLOSED, "already closed")
        if s.phase in (HopPhase.UNASSIGNED, HopPhase.SIGN_FOR):
            return rejected(Reason.NOT_SIGNED_FOR, "close before sign-for")
        s.case_clock.pause(at, self.tb)
        if s.hop_clock:
            s.hop_clock.pause(at, self.tb)
        s.status = CaseStatus.CLOSED
        s.ext_requested = 0
        return APPLIED

    def _on_reopen(self, s: CaseState, ev: CaseEventLike, at: int) -> Outcome:
        if s.status != CaseStatus.CLOSED:
            return rejected(Reason.NOT_CLOSED)
        dept = ev.department or s.department
        if not dept:
            return rejected(Reason.INVALID, "reopen needs a department")
        pol = self.book.get(s.policy)
        s.status = CaseStatus.OPEN
        s.round += 1
        s.case_clock = self._new_clock(pol.case, at, False)
        s.ext_used = 0
        s.ext_requested = 0
        self._start_hop(s, pol, s.hop + 1, dept, at)
        return APPLIED

    # -- several records ------------------------------------------------------------------

    def apply_record(
        self, state: CaseState | None, rec: AssignmentIn | CaseEventLike
    ) -> tuple[Outcome, CaseState | None]:
        """Apply an assignment or a case event."""
        if isinstance(rec, AssignmentIn):
            return self.assign(state, rec)
        return self.apply(state, rec)

    def replay(
        self, records: Iterable[AssignmentIn | CaseEventLike]
    ) -> tuple[CaseState | None, list[Outcome]]:
        """Apply records of one case in order, from nothing (handy in tests)."""
        state: CaseState | None = None
        outcomes = []
        for rec in records:
            out, state = self.apply_record(state, rec)
            outcomes.append(out)
        return state, outcomes


def _guarded(step, state: CaseState | None, record) -> tuple[Outcome, CaseState | None]:
    """Run one engine step; a date beyond the calendar or a malformed record is a rejection
    with its reason, never an exception that would stop the stream."""
    try:
        return step(state, record)
    except CalendarRangeError as e:
        return rejected(Reason.CALENDAR_RANGE, str(e)), state
    except UnknownPolicyError as e:  # a stored case's policy left the file: not a crash
        return rejected(Reason.UNKNOWN_POLICY, e.args[0]), state
    except (ValueError, TypeError, AttributeError) as e:
        return rejected(Reason.INVALID, str(e)), state
