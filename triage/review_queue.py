"""The human-review queue as reviewers see it, and checking a decision before it is applied.

Pure: the waiting appeals come from Redis (``stores.pending_reviews``) and the review
requests from the ``appeals.review`` topic; the stream's decision agent and the
reviewers' command (``hotline review``) check decisions with the same rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from intake.errors import ErrorCode, IntakeError
from models.appeal import Appeal
from models.review import ReviewDecision, ReviewRequest
from routing.catalogue import Catalogue, Department
from understand.dataset import CATEGORIES


@dataclass(frozen=True, slots=True)
class WaitingAppeal:
    """An appeal waiting for a reviewer, with what the classifier suggested."""

    appeal: Appeal
    request: ReviewRequest | None  # None if the request is no longer on the topic

    @property
    def requested_at(self) -> datetime:
        return self.request.requested_at if self.request else self.appeal.received_at


def waiting_list(
    waiting: Mapping[str, Appeal],
    requests: Iterable[ReviewRequest],
    deadlines: Mapping[str, int] | None = None,
) -> list[WaitingAppeal]:
    """Waiting appeals, each with its latest review request: most urgent first (earliest
    review deadline, so emergencies come before older routine appeals), then those
    without one, longest-waiting first."""
    latest: dict[str, ReviewRequest] = {}
    for r in requests:
        if r.appeal_id in waiting:
            latest[r.appeal_id] = r
    due = deadlines or {}
    items = [WaitingAppeal(a, latest.get(aid)) for aid, a in waiting.items()]
    return sorted(
        items,
        key=lambda w: (due.get(w.appeal.appeal_id, math.inf), w.requested_at, w.appeal.appeal_id),
    )


def check_decision(decision: ReviewDecision, catalogue: Catalogue) -> Department | None:
    """Raise :class:`IntakeError` (``BAD_VALUE``) for an unknown category or department
    code; return the named lead department, if any."""
    if decision.category not in CATEGORIES:
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"category {decision.category!r} is not one of {'/'.join(CATEGORIES)}",
        )
    if not decision.department_code:
        return None
    try:
        return catalogue.department(decision.department_code)
    except KeyError:
        raise IntakeError(
            ErrorCode.BAD_VALUE, f"unknown department code {decision.department_code!r}"
        ) from None
