"""Human review of classifications: requests to reviewers and their decisions.

Records here avoid ``from __future__ import annotations``: faust reads the annotations
at class creation to coerce nested records and datetimes.
"""

from datetime import datetime

import faust

SCHEMA_VERSION = 1


class ReviewRequest(
    faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False
):
    """An appeal whose classification a person must confirm or correct."""

    appeal_id: str
    title: str
    content: str
    suggested_category: str
    confidence: float
    #: low_confidence / no_chinese_text / no_content_words / possible_emergency (reads like a
    #: call for help the emergency rules did not flag: not transferred, reviewed first)
    reason: str
    requested_at: datetime
    suggested_subcategory: str | None = None
    alternatives: list[str] | None = None  # other likely categories, best first
    emergency: str | None = None  # e.g. "119 燃气泄漏": already transferred; review it first
    schema_version: int = SCHEMA_VERSION


class ReviewDecision(
    faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False
):
    """A reviewer's final category for an appeal; also a training example for the model."""

    appeal_id: str
    decision_id: str
    reviewer: str
    category: str
    decided_at: datetime
    subcategory: str | None = None
    department_code: str | None = None
    note: str | None = None
    #: SLA policy tags for the case, e.g. ["complex"] (疑难复杂): ``sla/data/policies.toml``
    #: rules read them to pick the time limits
    tags: list[str] | None = None
    #: the reviewer found a call for help (a ``possible_emergency``, or anything else): the
    #: service that must take it now, 110 / 119 / 120 / 122. The worker publishes the
    #: transfer on appeals.emergency ahead of the assignment (unless the emergency rules
    #: transferred the appeal to that service already) and the case gets the emergency
    #: time limits
    emergency_service: str | None = None
    #: what the reviewer found, for the emergency desk, e.g. 老人倒地叫不醒
    emergency_reason: str | None = None
    #: flags read from the text that the reviewer found wrong (``DISMISSABLE``): "outage"
    #: (no cut in supply: not the 24-hour outage limits), "emergency" (no emergency: the
    #: case's time limits and department as for any appeal; a transfer made at triage
    #: stays made)
    dismissed: list[str] | None = None
    schema_version: int = SCHEMA_VERSION
