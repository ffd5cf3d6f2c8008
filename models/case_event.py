"""What departments (and the centre) do with an assigned case: 签收, 退回, 挂起, 办结 …

Records here avoid ``from __future__ import annotations``: faust reads the annotations
at class creation to coerce datetimes.
"""

from datetime import datetime

import faust

SCHEMA_VERSION = 1

#: Event kinds and their Chinese names (UI labels for centre staff).
CASE_EVENT_KINDS = {
    "accept": "签收",
    "return": "退回",
    "reassign": "改派",
    "extend_request": "延期申请",
    "extend_approve": "延期批准",
    "pause": "挂起",
    "resume": "恢复",
    "reply": "答复",
    "close": "办结",
    "reopen": "重办",
}


class CaseEvent(
    faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False
):
    """One thing that happened to a case, keyed by ``appeal_id`` on its topic.

    ``event_id`` is unique per event (the producer's id, stable across re-sends) so the
    SLA engine can drop duplicates. ``department`` is the department acting (accept,
    return, extend_request, reply) or the department a reopened case goes back to;
    centre actions (reassign, extend_approve, pause, resume, close) may leave it empty.
    """

    event_id: str
    appeal_id: str
    kind: str  # one of CASE_EVENT_KINDS
    occurred_at: datetime  # tz-aware
    department: str | None = None
    actor: str | None = None
    reason: str | None = None
    extension_days: int | None = None  # working days (extend_request / extend_approve)
    target_department: str | None = None  # reassign
    schema_version: int = SCHEMA_VERSION
