"""The human-review queue as reviewers see it, and checking a decision before it is applied.

Pure: the waiting appeals and their review requests come from Redis
(``stores.pending_reviews``; requests of appeals parked by older versions from the
``appeals.review`` topic); the stream's decision agent and the
reviewers' command (``hotline review``) check decisions with the same rules.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from intake.errors import ErrorCode, IntakeError
from intake.fields import trim
from models.appeal import Appeal
from models.classification import EMERGENCY_SERVICES
from models.review import ReviewDecision, ReviewRequest
from routing.catalogue import Catalogue, Department
from triage.review_clock import ReviewClock, ReviewDeadline
from understand.dataset import CATEGORIES
from understand.emergency_model import POSSIBLE_EMERGENCY
from understand.taxonomy import level2_names


@dataclass(frozen=True, slots=True)
class WaitingAppeal:
    """An appeal waiting for a reviewer, with what the classifier suggested."""

    appeal: Appeal
    request: ReviewRequest | None  # None if neither Redis nor the topic has it any more

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


def waits_as_emergency(request: ReviewRequest) -> bool:
    """Whether the appeal of this review request waits the emergency's (shorter) review
    wait: flagged as an emergency (transferred) or as a possible one, as the understand
    agent decides when it parks the appeal."""
    return bool(request.emergency or request.reason == POSSIBLE_EMERGENCY)


def undated_deadlines(
    clock: ReviewClock, now: int, appeal_ids: Iterable[str], requests: Iterable[ReviewRequest]
) -> dict[str, ReviewDeadline]:
    """Review deadlines from ``now`` for waiting appeals that have none (parked by a worker
    without review alerts): an emergency's shorter wait when any of its review
    ``requests`` flags one, the routine wait otherwise (no request left to tell). None for
    appeals whose alerts are off."""
    urgent = {r.appeal_id for r in requests if waits_as_emergency(r)}
    out = {}
    for aid in appeal_ids:
        deadline = clock.deadline(now, aid in urgent)
        if deadline is not None:
            out[aid] = deadline
    return out


def check_decision(
    decision: ReviewDecision, catalogue: Catalogue, known_tags: Collection[str] = ()
) -> Department | None:
    """Raise :class:`IntakeError` (``BAD_VALUE``) for an appeal id, decision id, reviewer
    or note that is blank or too long (:data:`MAX_ID`, :data:`MAX_REVIEWER`,
    :data:`MAX_NOTE`), an unknown category, second-level category of it, department
    code, tag (``known_tags``: those the SLA policy rules read, :attr:`PolicyBook.tags`)
    or emergency service; return the named lead department, if any. A department of
    another district than the appeal's is not refused: the reviewer corrected the place
    (:func:`triage.outcome.reviewed_place`)."""
    _check_text("appeal_id", decision.appeal_id, MAX_ID)
    _check_text("decision_id", decision.decision_id, MAX_ID)
    _check_text("reviewer", decision.reviewer, MAX_REVIEWER)
    if decision.note is not None:
        _check_text("note", decision.note, MAX_NOTE, blank=True)
    if decision.category not in CATEGORIES:
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"category {decision.category!r} is not one of {'/'.join(CATEGORIES)}",
        )
    if decision.subcategory is not None and decision.subcategory not in level2_names(
        decision.category
    ):
        # it would reach the assignment and the corrections file, and pick no time limit
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"subcategory {decision.subcategory!r} is not a second-level category of "
            f"{decision.category}: {'/'.join(level2_names(decision.category))}",
        )
    tags = _strings("tags", decision.tags)
    unknown = sorted(set(tags) - set(known_tags))
    if unknown:
        # a tag no rule reads would be accepted and change nothing: the case would keep
        # the general time limits while the reviewer believes otherwise
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"unknown tag {', '.join(map(repr, unknown))}: the SLA policies read "
            f"{', '.join(sorted(known_tags)) or 'no tags'}",
        )
    _check_emergency(decision)
    _check_dismissed(decision)
    if not decision.department_code:
        return None
    try:
        return catalogue.department(decision.department_code)
    except KeyError:
        raise IntakeError(
            ErrorCode.BAD_VALUE, catalogue.unknown_code(decision.department_code)
        ) from None


#: Longest appeal or decision id a decision may carry: the ids go into every record of
#: the case, Redis keys and dead letters; a channel's ticket number is far shorter.
MAX_ID = 128
#: Longest reviewer (a name or staff number), copied into the assignment's explanation.
MAX_REVIEWER = 64
#: Longest note: a remark for the record (the corrections file), not a document.
MAX_NOTE = 2_000


def _check_text(name: str, value, limit: int, *, blank: bool = False) -> None:
    """A decision's text field is a string of at most ``limit`` characters as given, and
    not blank unless ``blank``; the reason quotes the start of a bad value only. Blank as
    :func:`intake.fields.trim` finds it; an id with spaces around it is not refused (the
    worker reads it trimmed)."""
    if not isinstance(value, str):
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"{name} must be a string, got {type(value).__name__} {value!r:.40}",
        )
    if len(value) > limit:
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"{name} is {len(value):,} characters, at most {limit:,} allowed: {value!r:.40}…",
        )
    if not blank and not trim(value):
        raise IntakeError(ErrorCode.BAD_VALUE, f"{name} is blank: it is required")


#: Flags read from the text that a reviewer may dismiss (``ReviewDecision.dismissed``).
DISMISSABLE = ("emergency", "outage")


def _strings(name: str, value) -> list[str]:
    """A decision's optional list of strings (``[]`` when absent); anything else is a bad
    value (a department system may send a string or numbers)."""
    if value is None:
        return []
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise IntakeError(
            ErrorCode.BAD_VALUE, f"{name} must be a list of strings, got {value!r:.40}"
        )
    return value


def _check_dismissed(decision: ReviewDecision) -> None:
    """Only the text's flags can be dismissed, and not one the decision also sets."""
    dismissed = _strings("dismissed", decision.dismissed)
    unknown = sorted(set(dismissed) - set(DISMISSABLE))
    if unknown:
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"cannot dismiss {', '.join(map(repr, unknown))}: only {', '.join(DISMISSABLE)}",
        )
    if "emergency" in dismissed and decision.emergency_service:
        raise IntakeError(
            ErrorCode.BAD_VALUE, "emergency both dismissed and confirmed (emergency_service)"
        )
    if "outage" in dismissed and "outage" in (decision.tags or ()):
        raise IntakeError(ErrorCode.BAD_VALUE, "outage both dismissed and given as a tag")


#: Longest emergency reason a decision may carry: it is a phrase for the emergency desk
#: (老人倒地叫不醒), not the appeal's text, which the transfer carries beside it.
MAX_EMERGENCY_REASON = 100


def _check_emergency(decision: ReviewDecision) -> None:
    """A confirmed emergency names one of the services; a reason needs a service."""
    service, reason = decision.emergency_service, decision.emergency_reason
    if service is None:
        if reason is not None:
            raise IntakeError(
                ErrorCode.BAD_VALUE,
                "emergency_reason without emergency_service: name the service "
                f"({'/'.join(EMERGENCY_SERVICES)}) that must take it",
            )
        return
    if service not in EMERGENCY_SERVICES:
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"emergency_service {service!r:.20} is not one of the strings "
            f"{', '.join(map(repr, EMERGENCY_SERVICES))}",
        )
    if reason is not None and not (
        isinstance(reason, str) and 0 < len(reason.strip()) <= MAX_EMERGENCY_REASON
    ):
        raise IntakeError(
            ErrorCode.BAD_VALUE,
            f"emergency_reason must be a phrase of 1 to {MAX_EMERGENCY_REASON} characters",
        )
