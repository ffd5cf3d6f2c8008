"""Reviewers' decisions → corrections file + assignment; malformed ones → dead letters."""

from __future__ import annotations

import logging
from datetime import datetime

import orjson

from models.review import ReviewDecision
from routing.catalogue import load_catalogue
from routing.dispatch import route
from streams import topics
from streams.agents.understand_route import publish_assignment
from streams.app import app
from streams.dead_letters import dead_letter
from streams.intake_step import TZ
from streams.stores import pending_reviews
from triage.outcome import after_review

log = logging.getLogger(__name__)
CATEGORIES = (
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
)


class BadDecision(ValueError):
    """A decision that cannot be applied; the message is the dead-letter reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def parse_decision(data: bytes) -> ReviewDecision:
    """Validate a decision's JSON: required fields, a known category, a tz-aware time."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadDecision("BAD_JSON", f"review decision is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BadDecision("WRONG_TYPE", "review decision must be a JSON object")
    for name in ("appeal_id", "decision_id", "reviewer", "category", "decided_at"):
        if not isinstance(obj.get(name), str) or not obj[name].strip():
            raise BadDecision(
                "MISSING_FIELD", f"review decision: '{name}' must be a non-empty string"
            )
    if obj["category"] not in CATEGORIES:
        raise BadDecision(
            "BAD_VALUE", f"category {obj['category']!r} is not one of {'/'.join(CATEGORIES)}"
        )
    try:
        decided = datetime.fromisoformat(obj["decided_at"])
    except ValueError:
        raise BadDecision(
            "BAD_TIMESTAMP", f"decided_at {obj['decided_at']!r} is not ISO 8601"
        ) from None
    if decided.tzinfo is None:
        raise BadDecision("BAD_TIMESTAMP", "decided_at must carry a UTC offset")
    try:
        return ReviewDecision.from_data(obj)
    except (TypeError, ValueError) as exc:
        raise BadDecision("WRONG_TYPE", f"review decision: {exc}") from None


@app.agent(topics.review_decisions)
async def apply_review_decisions(stream):
    """Apply each decision once: corrections file, then the assignment it implies."""
    from understand import append_correction

    catalogue = load_catalogue()
    store = pending_reviews()
    async for event in stream.events():
        try:
            decision = parse_decision(event.value or b"")
            appeal = await store.get(decision.appeal_id)
            if appeal is None:
                raise BadDecision(
                    "UNKNOWN_APPEAL", f"appeal {decision.appeal_id} is not waiting for review"
                )
            lead = None
            if decision.department_code:
                try:
                    lead = catalogue.department(decision.department_code)
                except KeyError:
                    raise BadDecision(
                        "BAD_VALUE", f"unknown department code {decision.department_code!r}"
                    ) from None
        except BadDecision as exc:
            await dead_letter(event, exc.code, str(exc), "review", stage="review")
            continue
        if not await store.first_time(decision.decision_id):
            log.info("review decision %s already applied", decision.decision_id)
            continue
        try:
            append_correction(decision, appeal.title, appeal.content)
            assignment = after_review(appeal, decision, route, datetime.now(TZ), lead=lead)
            await publish_assignment(assignment)
        except Exception:
            await store.forget_decision(decision.decision_id)  # let the redelivery apply it
            raise
        await store.resolve(decision.appeal_id)
        log.info(
            "review %s: %s → %s", decision.decision_id, decision.appeal_id, assignment.lead_code
        )
