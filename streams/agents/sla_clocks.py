"""SLA clocks: assignments start them, case events move them; rejected events are dead-lettered.

An event the engine rejects (out of order, close before sign-for, extension beyond the
limit, …) goes to the dead-letter topic with the engine's reason; a duplicate is logged
and dropped, and a record delivered again after a crash or a rebalance is left out
before the engine sees it (``streams/processed_marks.py``). An event for a case whose assignment has not arrived yet waits for it
(``stores/early_case_events.py``, ``HOTLINE_SLA_EARLY_EVENT_WAIT``) and is dead-lettered
as ``SLA_UNKNOWN_CASE`` only if it never comes. A reassignment (改派) or a reopen (重办)
also publishes the next hop's assignment, with the appeal the earlier hop carried, so the
department receives the case on its topic.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime

from intake.errors import ErrorCode, IntakeError
from intake.fields import parse_json_record
from models.assignment import Assignment, assignment_id_for
from models.case_event import CASE_EVENT_KINDS, CaseEvent
from models.dead_letter import DeadLetter
from routing.catalogue import load_catalogue
from sla.events import AssignmentIn, Outcome, OutcomeKind, Reason
from streams import topics
from streams.agent_guard import stop_worker_on_error
from streams.app import app, settings
from streams.dead_letters import SHANGHAI, dead_letter, dead_letter_record, send_dead_letter
from streams.outages import all_delivered, until_reachable
from streams.processed_marks import once_each
from streams.publish_outcomes import publish_assignment
from streams.stores import (
    case_dossiers,
    early_case_events,
    sla_processed_positions,
    sla_store,
)

log = logging.getLogger(__name__)


def assignment_in(a: Assignment) -> AssignmentIn:
    """What the SLA engine needs of an assignment (the policy follows type, category, urgency)."""
    category = "/".join(p for p in (a.category, a.subcategory, a.topic) if p) or None
    return AssignmentIn(
        appeal_id=a.appeal_id, assignment_id=a.assignment_id, hop=a.hop, department=a.lead_code,
        assigned_at=a.assigned_at, appeal_type=a.appeal_type, category=category, urgency=a.urgency,
        district=a.district, tags=tuple(a.tags or ()),
    )  # fmt: skip


@app.agent(topics.assignment_records)
async def start_clocks(stream):
    """Every assignment starts (or moves on) its case's clocks."""
    what = "SLA assignments"
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        async with stop_worker_on_error(what):
            await until_reachable(what, _processed_once, what, _start, events)


async def _processed_once(what: str, step, events) -> None:
    """``step`` on the records not processed before (a redelivery after a crash or a
    rebalance is left out: ``streams/processed_marks.py``)."""
    await once_each(step, events, sla_processed_positions(), what)


def parse_assignment(data: bytes) -> Assignment:
    """Validate an assignment's JSON (its own checks too: hop ≥ 1, a zoned time)."""
    try:
        return parse_json_record(data, Assignment, "assignment")
    except IntakeError:
        raise
    except ValueError as exc:  # Assignment.__post_init__
        raise IntakeError(ErrorCode.BAD_VALUE, f"assignment: {exc}") from None


async def _start(events) -> None:
    """Apply a batch of assignments. One that is not a valid assignment is dead-lettered
    with the reason. A rejected one (no policy, a deadline past the working-day calendar,
    ...) would leave its case without clocks: it is dead-lettered with the engine's
    reason, to be replayed once the cause is mended."""
    batch: list[Assignment] = []
    valid, dead = [], []
    for event in events:
        try:
            batch.append(parse_assignment(event.value or b""))
        except IntakeError as exc:
            await dead_letter(event, exc.code, exc.reason, "assignment", "sla", pending=dead)
            continue
        valid.append(event)
    outcomes = await sla_store().apply_batch([assignment_in(a) for a in batch]) if batch else []
    known = []
    for event, a, outcome in zip(valid, batch, outcomes, strict=True):
        if outcome.kind == OutcomeKind.REJECTED:
            code = rejection_code(outcome)
            await dead_letter(event, code, str(outcome), "assignment", "sla", pending=dead)
        else:
            known.append(a)
    # kept before the waiting case events are applied: a waiting 改派 needs the appeal
    await case_dossiers().remember(known)
    await apply_waiting([a.appeal_id for a in known])
    await all_delivered(dead)


def rejection_code(outcome: Outcome) -> str:
    """The dead-letter error code of a record the SLA engine rejected: ``SLA_<REASON>``."""
    return f"SLA_{outcome.reason.name}" if outcome.reason else "SLA_REJECTED"


def parse_case_event(data: bytes) -> CaseEvent:
    """Validate a case event's JSON; an unknown kind is a bad value."""
    event = parse_json_record(data, CaseEvent, "case event")
    if event.kind not in CASE_EVENT_KINDS:
        raise IntakeError(
            ErrorCode.BAD_VALUE, f"kind {event.kind!r} is not one of {', '.join(CASE_EVENT_KINDS)}"
        )
    return event


#: Case events that hand the case to a department (a new hop), and their Chinese names.
HOP_EVENTS = {"reassign": "改派", "reopen": "重办"}


def _hop_department(event: CaseEvent, state) -> str | None:
    """The department the event hands the case to (as the SLA engine decides it)."""
    if event.kind == "reassign":
        return event.target_department
    return event.department or (state.department if state is not None else None)


async def _next_hop(event: CaseEvent, again: bool) -> None:
    """After an applied 改派 or 重办, hand the case to its department on its topic, with
    the appeal as the earlier hop carried it (``stores/case_dossiers.py``). ``again``: the
    event was applied before (a redelivery); sent again only while the case is still
    with that department (the same assignment id: consumers drop it if it went out)."""
    state = await sla_store().load(event.appeal_id)
    code = _hop_department(event, state)
    if not code or (again and (state is None or state.department != code)):
        return
    try:
        name = load_catalogue().department(code).name
    except KeyError:
        name = code
    before = await case_dossiers().recall(event.appeal_id)
    if before is None:
        log.warning("%s of %s: no earlier assignment kept, the next hop carries no appeal text",
                    HOP_EVENTS[event.kind], event.appeal_id)  # fmt: skip
    hop = state.hop if state is not None else 2
    await publish_assignment(
        Assignment(
            appeal_id=event.appeal_id, assignment_id=assignment_id_for(event.appeal_id, hop), hop=hop,
            lead_code=code, lead_name=name, rule_id=event.kind,
            rule_explanation=f"{HOP_EVENTS[event.kind]}：{event.actor or '中心'}，{event.reason or '未注明原因'}",
            confidence=1.0, fallback=False, assigned_at=event.occurred_at,
            **(before or {}),
        )
    )  # fmt: skip


@app.agent(topics.case_events)
async def apply_case_events(stream):
    """Case events → SLA clocks; each gets applied, duplicate, or a dead letter with the reason."""
    what = "SLA case events"
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        async with stop_worker_on_error(what):
            await until_reachable(what, _processed_once, what, _case_events, events)


async def _case_events(events) -> None:
    parsed, dead = [], []
    for event in events:
        try:
            case_event = parse_case_event(event.value or b"")
        except IntakeError as exc:
            await dead_letter(event, exc.code, exc.reason, "case-event", "sla", pending=dead)
            continue
        letter = dead_letter_record(event, "SLA_UNKNOWN_CASE", "", "case-event", "sla")
        parsed.append((letter, case_event))
    await _apply(parsed, park_unknown=True)
    await all_delivered(dead)


async def apply_waiting(appeal_ids: list[str]) -> None:
    """Apply the case events waiting for these appeals (their assignment has come, or
    their wait is over: then what still has no case is dead-lettered).

    They are applied first and removed after, so an event arriving meanwhile still sees
    the queue and waits behind them (per-case order); what it added is applied next round.
    """
    early = early_case_events()
    while appeal_ids:
        parked = await early.peek(appeal_ids)
        if not parked:
            return
        await _apply_parked(parked, park_unknown=False)
        left = await early.drop(parked)
        appeal_ids = [aid for aid, n in left.items() if n]


async def _apply_parked(parked: dict[str, list[bytes]], park_unknown: bool) -> None:
    """Apply case events taken back from the waiting area, each case's in arrival order."""
    items = []
    for records in parked.values():
        for raw in records:
            letter = DeadLetter.loads(raw)
            items.append((letter, parse_case_event(base64.b64decode(letter.payload_b64))))
    await _apply(items, park_unknown)


async def _apply(items: list[tuple[DeadLetter, CaseEvent]], park_unknown: bool) -> None:
    """Apply case events in order. Rejected ones are dead-lettered with the engine's
    reason, except that an event for a case not assigned yet waits (``park_unknown``)."""
    early = early_case_events()
    parked: set[str] = set()
    rejected: list = []  # dead letters' acknowledgements
    hops: dict[str, tuple[CaseEvent, bool]] = {}  # appeal id → its last hop event, redelivered
    closed: dict[str, bool] = {}  # appeal id → whether its last applied event closed it
    if park_unknown:
        # behind a parked event of the same case, later events wait too: order per case
        waiting = await early.waiting(sorted({ce.appeal_id for _, ce in items}))
        for letter, ce in items:
            if ce.appeal_id in waiting:
                await early.park(ce.appeal_id, letter.dumps())
                parked.add(ce.appeal_id)
        items = [(letter, ce) for letter, ce in items if ce.appeal_id not in waiting]
    outcomes = await sla_store().apply_batch([ce for _, ce in items]) if items else []
    for (letter, ce), outcome in zip(items, outcomes, strict=True):
        if outcome.kind == OutcomeKind.REJECTED:
            if park_unknown and outcome.reason == Reason.UNKNOWN_CASE:
                log.info("case event %s waits for the assignment of %s", ce.event_id, ce.appeal_id)
                await early.park(ce.appeal_id, letter.dumps())
                parked.add(ce.appeal_id)
                continue
            letter.error_code, letter.reason = rejection_code(outcome), str(outcome)
            letter.failed_at = datetime.now(SHANGHAI)
            await send_dead_letter(letter, rejected)
        elif outcome.kind == OutcomeKind.DUPLICATE:
            log.info("case event %s already applied (%s)", ce.event_id, outcome)
            if ce.kind in HOP_EVENTS:
                # a redelivery: the hop may not have gone out before a crash (same id)
                hops[ce.appeal_id] = (ce, True)
        else:
            closed[ce.appeal_id] = ce.kind == "close"
            if ce.kind in HOP_EVENTS:
                hops[ce.appeal_id] = (ce, False)
    # a case's last hop of the batch only: an earlier one's department lost it already
    for ce, again in hops.values():
        await _next_hop(ce, again)
    if closing := [aid for aid, c in closed.items() if c]:
        await case_dossiers().closed(closing, sla_store().settings.closed_ttl)
    await all_delivered(rejected)
    if parked:
        # the assignment may have come, and found nothing waiting, between our look and our
        # park; parked first, checked second, so either it sees our events or we see its case
        arrived = await sla_store().load_many(sorted(parked))
        await apply_waiting(sorted(arrived))
