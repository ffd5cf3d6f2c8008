"""``hotline review …``: the human-review queue for reviewers (人工复核).

``list`` shows the appeals waiting for a decision with what the classifier suggested;
``decide`` checks a decision (category, department code, appeal still waiting), publishes
it on ``appeals.review.decisions`` and, by default, waits for the assignment it leads to.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

app = typer.Typer(
    help="Human review (人工复核): list waiting appeals, decide their category and department.",
    no_args_is_help=True,
)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _store():
    """(settings, the worker's pending-reviews store: same Redis, same keys)."""
    from streams.app import settings
    from streams.stores import pending_reviews

    return settings, pending_reviews()


@app.command("list")
def list_waiting(
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 20,
    offset: Annotated[
        int, typer.Option(min=0, help="Skip this many of the most urgent first (paging).")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Appeals waiting for a reviewer, most urgent first (earliest review deadline), with
    the suggested categories."""
    asyncio.run(_list(limit, as_json, offset))


async def _list(limit: int, as_json: bool, offset: int = 0) -> None:
    from streams.review_requests import review_requests
    from triage.review_queue import waiting_list
    from understand.emergency_model import POSSIBLE_EMERGENCY
    from understand.outage import reports_outage

    settings, store = _store()
    now = time.time()
    try:
        # the page in the queue's order, with the whole queue's totals: the most urgent
        # may have been parked last, behind any number of routine appeals
        page = await store.page(now, offset, limit)
        waiting, deadlines = page.appeals, page.deadlines
        # appeals parked by an older version have their request on the topic only
        requests, undecodable = await review_requests(
            store, list(waiting), settings.broker, settings.topic("appeals.review")
        )
    finally:
        await store.client.aclose()
    late = {aid for aid, due in deadlines.items() if due <= now}
    if undecodable:  # a hand-published or foreign record must not hide the queue
        typer.echo(f"skipped {undecodable} undecodable record(s) on appeals.review", err=True)
    items = waiting_list(waiting, requests, deadlines)  # urgent first within the page too
    for w in items:
        a, r = w.appeal, w.request
        due = deadlines.get(a.appeal_id)
        due_at = datetime.fromtimestamp(due, SHANGHAI) if due is not None else None
        overdue = a.appeal_id in late
        outage = reports_outage(a.title, a.content)  # the case would get the outage limits
        if as_json:
            typer.echo(json.dumps({
                "appeal_id": a.appeal_id, "channel": a.channel, "requested_at": w.requested_at.isoformat(),
                "due_at": due_at.isoformat() if due_at else None, "overdue": overdue,
                "title": a.title, "content": a.content,
                "suggested_category": r.suggested_category if r else None,
                "confidence": r.confidence if r else None, "reason": r.reason if r else None,
                "alternatives": (r.alternatives or []) if r else [],
                "emergency": r.emergency if r else None, "outage": outage,
            }, ensure_ascii=False))  # fmt: skip
            continue
        suggestion = (
            f"{r.suggested_category} ({r.confidence:.2f}; {r.reason}); also "
            f"{', '.join((r.alternatives or [])[1:]) or '-'}"
            if r
            else "no request on the topic"
        )
        deadline = (
            f"  {'OVERDUE since' if overdue else 'due'} {due_at:%Y-%m-%d %H:%M}" if due_at else ""
        )
        urgent = (
            f"  紧急 {r.emergency} (transferred; if it is none, decide with --dismiss emergency)"
            if r and r.emergency
            else "  疑似紧急 (reads like a call for help; not transferred: if it is one, decide "
            "with --emergency 110/119/120/122)"
            if r and r.reason == POSSIBLE_EMERGENCY
            else ""
        )
        if outage:
            urgent += "  停供 (outage time limits; if no supply is cut, --dismiss outage)"
        typer.echo(
            f"{a.appeal_id}  waiting since {w.requested_at:%Y-%m-%d %H:%M}{deadline}  [{a.channel}]{urgent}\n"
            f"    {a.title or '(no title)'}: {' '.join(a.content[:80].split())}\n    suggested {suggestion}"
        )
    if not as_json:
        typer.echo(
            f"{page.total} waiting for review"
            + (f", {page.overdue} overdue" if page.overdue else "")
            + (_shown(offset, len(items), page.total) if len(items) < page.total else "")
        )


def _shown(offset: int, shown: int, total: int) -> str:
    """Which of the queue's ``total`` a page of ``shown`` from ``offset`` holds."""
    if not shown:
        return f", none shown from --offset {offset}"
    more = f" (--offset {offset + shown} for more)" if offset + shown < total else ""
    return f", {offset + 1}-{offset + shown} shown{more}"


@app.command()
def decide(
    appeal_id: Annotated[str, typer.Argument(help="The appeal's id, as `review list` shows it.")],
    category: Annotated[str, typer.Option(help="First-level category (一级标签), e.g. 城乡建设.")],
    reviewer: Annotated[str, typer.Option(help="Who decides (kept in the audit trail).")],
    department: Annotated[
        str | None,
        typer.Option(help="Lead department code (e.g. a3.zjj); default: the catalogue's rules."),
    ] = None,
    subcategory: Annotated[str | None, typer.Option(help="Second-level category.")] = None,
    note: Annotated[str | None, typer.Option(help="A note for the record.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            help="SLA policy tag (repeatable), e.g. complex for a 疑难复杂 case: its time "
            "limits become the complex policy's (sla/data/policies.toml); outage for a cut "
            "in supply the text did not make plain (one it does is tagged already)."
        ),
    ] = None,
    emergency: Annotated[
        str | None,
        typer.Option(
            help="The appeal is an emergency for this service (110, 119, 120 or 122), as "
            "you found a possible emergency to be: the worker transfers it on "
            "appeals.emergency before assigning it, and the case gets the emergency time "
            "limits."
        ),
    ] = None,
    emergency_reason: Annotated[
        str | None,
        typer.Option(help="What you found, for the emergency desk, e.g. 老人倒地叫不醒."),
    ] = None,
    dismiss: Annotated[
        list[str] | None,
        typer.Option(
            help="A flag read from the text that is wrong (repeatable): outage (no cut in "
            "supply: not the 24-hour outage limits) or emergency (no emergency: the time "
            "limits and department of any appeal; a transfer made already stays made)."
        ),
    ] = None,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for the assignment (0: do not wait).")
    ] = 30.0,
) -> None:
    """Publish a reviewer's decision; the worker assigns the appeal and learns from it.

    Last line: a JSON summary with the decision id and, unless --wait 0, the assignment.

    Exit status: 0 assigned (with --wait 0: published); 1 the appeal is not waiting for
    review (not published) or the worker refused the decision; 2 a bad value, or a file or
    service that cannot be used (not published); 3 published, no outcome seen yet: a
    worker applies it when it runs; do not decide again.
    """
    from cli.routing import catalogue_or_exit
    from config.sla import SlaSettings
    from intake.errors import IntakeError
    from models.review import ReviewDecision
    from sla.policies import load_policies
    from triage.review_queue import check_decision

    decision = ReviewDecision(
        appeal_id=appeal_id, decision_id=f"D-{uuid.uuid4().hex[:16]}", reviewer=reviewer,
        category=category, decided_at=datetime.now(SHANGHAI), subcategory=subcategory,
        department_code=department, note=note, tags=sorted(set(tag)) if tag else None,
        emergency_service=emergency, emergency_reason=emergency_reason,
        dismissed=sorted(set(dismiss)) if dismiss else None,
    )  # fmt: skip
    catalogue = catalogue_or_exit(None)  # unreadable: one line, as `routing route` says it
    policy_file = SlaSettings().policy_file
    try:
        tags = load_policies(policy_file).tags
    except (OSError, ValueError) as exc:  # missing, a folder, not TOML, not valid policies
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        typer.echo(f"{policy_file}: cannot read the SLA policies ({reason})", err=True)
        raise typer.Exit(2) from None
    try:  # the worker's own check: a decision it would refuse is not published
        check_decision(decision, catalogue, tags)
    except IntakeError as exc:
        raise typer.BadParameter(exc.reason) from None
    asyncio.run(_decide(decision, wait))


async def _decide(decision, wait: float) -> None:
    from aiokafka import AIOKafkaProducer

    from stack.topic_stats import partition_ends

    settings, store = _store()
    try:
        appeal = await store.get(decision.appeal_id)
    finally:
        await store.client.aclose()
    if appeal is None:
        typer.secho(
            f"{decision.appeal_id} is not waiting for review (decided already, or no such id); "
            "see `hotline review list`",
            fg=typer.colors.RED, err=True,
        )  # fmt: skip
        raise typer.Exit(1)
    watched = [settings.topic("assignments.all"), settings.topic("deadletter")]
    start = await partition_ends(settings.broker, watched) if wait else {}
    value = decision.dumps()
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker, acks="all")
    try:
        await producer.start()  # in the try: one that could not start is stopped too
        await producer.send_and_wait(
            settings.topic("appeals.review.decisions"), value=value, key=decision.appeal_id.encode()
        )
    finally:
        await producer.stop()
    typer.echo(
        f"decision {decision.decision_id} published: {decision.appeal_id} → {decision.category}"
        + (f"; emergency for {decision.emergency_service}" if decision.emergency_service else "")
        + (f"; dismissed: {', '.join(decision.dismissed)}" if decision.dismissed else "")
    )
    assignment, letter = await _outcome(
        settings.broker, start, watched[1], decision.decision_id, value, wait
    )
    if assignment is not None:
        typer.echo(
            f"assigned to {assignment.lead_name} ({assignment.lead_code}): {assignment.rule_explanation}"
        )
    elif letter is not None:  # e.g. another reviewer decided first: the worker names it
        typer.secho(
            f"the worker refused the decision: {letter.error_code} {letter.reason}",
            fg=typer.colors.RED, err=True,
        )  # fmt: skip
    elif wait:
        typer.secho(
            f"decision {decision.decision_id} is published; no outcome within {wait:.0f} s. A "
            "worker with the understand stage applies it when it runs and can reach Kafka and "
            f"Redis; do not decide {decision.appeal_id} again (a second decision would be "
            "refused)",
            fg=typer.colors.YELLOW, err=True,
        )  # fmt: skip
    typer.echo(json.dumps({
        "appeal_id": decision.appeal_id, "decision_id": decision.decision_id, "published": True,
        "emergency_service": decision.emergency_service, "dismissed": decision.dismissed or [],
        "assignment": None if assignment is None else {
            "assignment_id": assignment.assignment_id, "lead_code": assignment.lead_code,
            "lead_name": assignment.lead_name, "rule_id": assignment.rule_id,
            "tags": assignment.tags or [], "urgency": assignment.urgency},
        "refused": None if letter is None else {"error_code": letter.error_code, "reason": letter.reason},
    }, ensure_ascii=False))  # fmt: skip
    if letter is not None:
        raise typer.Exit(1)
    if wait and assignment is None:
        raise typer.Exit(NO_OUTCOME_YET)


#: ``review decide``'s exit status for a decision published whose outcome did not come
#: within the wait: a worker applies it later; deciding again would be refused.
NO_OUTCOME_YET = 3


async def _outcome(
    bootstrap: str, start: dict, dead_topic: str, decision_id: str, decision: bytes, wait: float
):
    """``(assignment, None)`` for the assignment this decision made (published after
    ``start``; another reviewer's assignment of the same appeal is not it),
    ``(None, dead_letter)`` if the decision was dead-lettered, ``(None, None)`` when
    neither came within ``wait`` seconds."""
    import base64

    from aiokafka import AIOKafkaConsumer

    from models.assignment import Assignment
    from models.dead_letter import DeadLetter

    if not start:
        return None, None
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for r in records:
                    if tp.topic == dead_topic:
                        letter = DeadLetter.loads(r.value)
                        if base64.b64decode(letter.payload_b64) == decision:
                            return None, letter
                        continue
                    a = Assignment.loads(r.value)
                    if a.decision_id == decision_id:
                        return a, None
        return None, None
    finally:
        await consumer.stop()
