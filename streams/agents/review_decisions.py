"""Reviewers' decisions → assignment (after the emergency transfer a reviewer confirmed, if
any) + corrections file; malformed ones, and a second decision of a decided appeal → dead
letters."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from config.sla import SlaSettings
from intake.errors import ErrorCode, IntakeError
from intake.fields import parse_json_record
from models.review import ReviewDecision
from routing.catalogue import load_catalogue
from routing.dispatch import for_emergency, route
from sla.policies import load_policies
from streams import topics
from streams.agent_guard import stop_worker_on_error
from streams.app import app
from streams.dead_letters import dead_letter
from streams.intake_step import TZ
from streams.outages import until_reachable, waited_out
from streams.publish_outcomes import publish_assignment
from streams.stores import pending_reviews, unsaved_corrections
from triage.outcome import after_review, review_transfer
from triage.review_queue import check_decision
from understand.refinement import refine

log = logging.getLogger(__name__)


@app.agent(topics.review_decisions)
async def apply_review_decisions(stream):
    """Apply each decision once: the assignment it implies, then the corrections file."""
    catalogue = load_catalogue()
    tags = load_policies(SlaSettings().policy_file).tags  # the tags a decision may set
    store = pending_reviews()
    async for event in stream.events():
        async with stop_worker_on_error("review decision"):
            await until_reachable("review decision", _apply_decision, event, catalogue, store, tags)


async def _apply_decision(event, catalogue, store, tags=frozenset()) -> None:
    """One decision: dead-lettered if malformed, skipped if applied before, else applied.

    Applied means: the appeal claimed for this decision (a second decision of the appeal,
    read at the same time by another worker, is refused), its assignment acknowledged by
    the broker, its correction written (or kept in Redis while the corrections file
    cannot take it: dispatch never waits for training data), then the decision marked and
    its appeal taken off the queue in one Redis transaction. A crash anywhere before that
    transaction leaves the appeal waiting, claimed by this decision, so the redelivered
    decision is applied again (the same assignment id; the correction once); a decision
    redelivered after it is skipped, not dead-lettered as an unknown appeal. Applied is
    per appeal: a decision id another appeal's decision had is applied too. A broker or
    Redis outage is no bug of the decision: raised, so that :func:`until_reachable` applies
    it again once the service is back (dead-lettered, its offset was acknowledged and the
    appeal left waiting). The claim is written before anything is published, so while
    Redis refuses writes a retry publishes nothing.
    """
    try:
        decision = parse_json_record(event.value or b"", ReviewDecision, "review decision")
        lead = check_decision(decision, catalogue, tags)
        # this appeal's decision: another appeal's decision of the same id is not it
        if await store.applied(decision.decision_id, decision.appeal_id):
            log.info("review decision %s of %s already applied", decision.decision_id,
                     decision.appeal_id)  # fmt: skip
            return
        refusal = await store.claim(decision.decision_id, decision.appeal_id)
        if refusal is not None:
            raise IntakeError(ErrorCode.UNKNOWN_APPEAL, refusal.reason(decision.appeal_id))
        appeal = await store.get(decision.appeal_id)
        if appeal is None:
            await store.release(decision.decision_id, decision.appeal_id)
            raise IntakeError(
                ErrorCode.UNKNOWN_APPEAL,
                f"appeal {decision.appeal_id} is not waiting for review",
            )
    except IntakeError as exc:
        await dead_letter(event, exc.code, exc.reason, "review", stage="review")
        return
    try:
        refinement = refine(appeal.title, appeal.content, decision.category, decision.subcategory)
        now = datetime.now(TZ)
        assignment = after_review(
            appeal,
            decision,
            route,
            now,
            lead=lead,
            refinement=refinement,
            emergency_route=for_emergency,
        )
        transfer = review_transfer(appeal, decision, refinement, now)
        await publish_assignment(assignment, transfer)
    except Exception as exc:  # a bug: keep the decision for replay, let a replay apply it
        if waited_out(exc):
            raise  # an outage, not a bug: until_reachable waits it out and applies it again
        log.exception("applying review decision %s failed", decision.decision_id)
        # the reviewer's next decision (or this one, replayed) can take the appeal
        await store.release(decision.decision_id, decision.appeal_id)
        await dead_letter(
            event, ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}", "review", stage="review"
        )
        return
    await _save_correction(decision, appeal.title, appeal.content)
    await store.settle(decision.decision_id, decision.appeal_id)
    if transfer is not None:
        log.warning("emergency %s → %s (%s), confirmed by reviewer %s", decision.appeal_id,
                    transfer.service, transfer.reason, decision.reviewer)  # fmt: skip
    log.info("review %s: %s → %s", decision.decision_id, decision.appeal_id, assignment.lead_code)


async def _save_correction(decision: ReviewDecision, title: str, content: str) -> None:
    """Write the decision's correction to the corrections file, after those kept back
    before it; keep it in Redis when the file cannot take it (a full disk, a file someone
    saved into a shape the writer refuses, a permission gone)."""
    from understand import append_correction
    from understand.dataset import DatasetError

    unsaved = unsaved_corrections()
    try:
        for earlier in await unsaved.all():
            # in a thread: it waits for the file lock and reads the file, which would hold
            # up every other agent of the worker
            await asyncio.to_thread(append_correction, earlier.decision, earlier.title,
                                    earlier.content)  # fmt: skip
            await unsaved.drop(earlier)
            log.info("review decision %s: its correction kept back is in the corrections "
                     "file now", earlier.decision.decision_id)  # fmt: skip
        await asyncio.to_thread(append_correction, decision, title, content)
        return
    except (OSError, DatasetError) as exc:
        cause = " ".join(f"{type(exc).__name__}: {exc}".split())
    await unsaved.keep(decision, title, content)
    log.error(
        "review decision %s applied, but the corrections file cannot take its correction "
        "(%s): kept in Redis with %d others until it can (written before the next decision's)",
        decision.decision_id, cause, await unsaved.count() - 1,
    )  # fmt: skip
