"""appeals.received → classification, emergency transfer, review queue or assignment."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import cache

from intake.errors import ErrorCode
from models.appeal import Appeal
from routing.dispatch import route
from streams import topics
from streams.app import app, settings
from streams.dead_letters import dead_letter
from streams.intake_step import TZ
from streams.stores import pending_reviews
from triage.outcome import Outcome, classification_of, decide

log = logging.getLogger(__name__)


@cache
def _classifier():
    """The current classifier, loaded once per worker process."""
    from understand import load_classifier

    return load_classifier()


def _triage(appeals: list[Appeal]) -> list[Outcome]:
    """CPU-bound part (segmentation, features, predict, rules), run off the event loop."""
    classifier = _classifier()
    results = classifier.classify_batch([(a.title, a.content) for a in appeals])
    now = datetime.now(TZ)
    return [
        decide(appeal, classification_of(appeal, result, classifier.version, now), route, now)
        for appeal, result in zip(appeals, results, strict=True)
    ]


async def publish_outcome(appeal: Appeal, outcome: Outcome) -> None:
    """Emergency transfer first, then the classification, then review request or assignment."""
    key = appeal.appeal_id
    if outcome.emergency is not None:
        log.warning(
            "emergency %s → %s (%s)", key, outcome.emergency.service, outcome.emergency.reason
        )
        await topics.emergencies.send(key=key, value=outcome.emergency)
    await topics.classified.send(key=key, value=outcome.classification)
    if outcome.review is not None:
        await topics.reviews.send(key=key, value=outcome.review)
    if outcome.assignment is not None:
        await publish_assignment(outcome.assignment)


async def publish_assignment(assignment) -> None:
    """On the all-assignments topic and on the lead department's own topic."""
    await topics.assignments.send(key=assignment.appeal_id, value=assignment)
    await topics.department_topic(assignment.lead_code).send(
        key=assignment.appeal_id, value=assignment
    )


async def _triage_or_dead_letter(events) -> list[tuple[Appeal, Outcome]]:
    """Triage a batch; if it fails, retry one by one and dead-letter the appeals that still fail."""
    appeals = [e.value for e in events]
    try:
        return list(zip(appeals, await asyncio.to_thread(_triage, appeals), strict=True))
    except Exception:
        log.exception("triage failed for a batch of %d; retrying one by one", len(appeals))
    done = []
    for event, appeal in zip(events, appeals, strict=True):
        try:
            done.append((appeal, (await asyncio.to_thread(_triage, [appeal]))[0]))
        except Exception as exc:  # a bug or a missing model: keep the appeal for replay
            log.exception("triage failed for %s", appeal.appeal_id)
            reason = f"{type(exc).__name__}: {exc}"
            await dead_letter(event, ErrorCode.INTERNAL, reason, appeal.channel, stage="understand")
    return done


@app.agent(topics.received)
async def understand_and_route(stream):
    """Classify batches of appeals and dispatch each one (or queue it for review)."""
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        results = await _triage_or_dead_letter(events)
        # park review cases first, so a fast decision always finds its appeal
        await pending_reviews().put_many([a for a, o in results if o.review])
        for appeal, outcome in results:
            await publish_outcome(appeal, outcome)
