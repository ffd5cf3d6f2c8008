"""An SLA alert: a clock of a case reached a warning, its deadline, or the escalation point.

Records here avoid ``from __future__ import annotations``: faust reads the annotations
at class creation to coerce datetimes.
"""

from datetime import datetime

import faust

SCHEMA_VERSION = 1

#: Threshold names and the card 12345 centres show (黄牌 near due, 红牌 overdue).
THRESHOLDS = {"warn50": "预警", "warn80": "黄牌", "overdue": "红牌", "escalate": "督办"}
#: Clock kinds.
CLOCK_KINDS = {
    "case": "整体时限",
    "sign_for": "签收时限",
    "handling": "办理时限",
    "review": "复核时限",  # waiting for a reviewer, before any department (triage.review_clock)
}


class SlaAlert(faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False):
    """One threshold of one clock of one case, raised once.

    ``alert_id`` is ``<appeal_id>/<clock_id>/<threshold>`` (clock ids: ``c<round>`` for
    the case clock, ``s<hop>`` sign-for, ``h<hop>`` handling, ``review`` the wait for a
    reviewer before any assignment; ``x<n>`` follows once ``n`` extensions were approved:
    an extended deadline raises alerts of its own): the same alert published
    twice (at-least-once delivery) carries the same id, so consumers dedupe on it.
    """

    alert_id: str
    appeal_id: str
    clock: str  # one of CLOCK_KINDS
    clock_id: str
    threshold: str  # one of THRESHOLDS
    threshold_at: datetime  # when the threshold was reached
    due_at: datetime  # the clock's deadline at that moment
    raised_at: datetime  # when the scanner claimed it
    department: str | None = None  # current department ("" / None while unassigned)
    district: str | None = None
    category: str | None = None
    #: ``due_at`` falls in a year whose holiday arrangement (调休) is not declared yet: a
    #: working-time deadline there was counted on the statutory holidays alone and moves
    #: once the year is declared (see sla/calendar.py); wall-clock ones do not move
    provisional: bool = False
    schema_version: int = SCHEMA_VERSION
