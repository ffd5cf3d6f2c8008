"""The assignment event: one appeal handed to one lead department (派单).

Each routing of an appeal is a *hop*: hop 1 is the first dispatch, a department sending
the appeal back (退单) and the centre re-routing it makes hop 2, and so on. The stream puts
every assignment on the lead department's topic ``assign.<lead_code>``.

Records here avoid ``from __future__ import annotations``: faust reads the annotations
at class creation to coerce nested records and datetimes.
"""

from datetime import datetime

import faust

SCHEMA_VERSION = 1


def assignment_id_for(appeal_id: str, hop: int) -> str:
    """Deterministic id, so re-processing the same appeal and hop gives the same event."""
    return f"{appeal_id}#{hop}"


class AssistingDepartment(faust.Record, serializer="json", include_metadata=False):
    """A department that assists (协办) the lead department."""

    code: str
    name: str


class Assignment(
    faust.Record, serializer="json", isodates=True, coerce=True, include_metadata=False
):
    """Who leads an appeal, who assists, and which catalogue rule decided it.

    ``confidence`` is the routing confidence (0 for fallback decisions, which the centre's
    dispatchers should review); ``category_confidence`` is the classifier's, if any.
    ``assigned_at`` must be timezone-aware (Asia/Shanghai in production).
    """

    appeal_id: str
    assignment_id: str
    hop: int
    lead_code: str
    lead_name: str
    rule_id: str
    rule_explanation: str
    confidence: float
    fallback: bool
    assigned_at: datetime
    category: str | None = None
    subcategory: str | None = None
    category_confidence: float | None = None
    assisting: list[AssistingDepartment] | None = None
    district: str | None = None
    topic: str | None = None  # 三级标签 from the taxonomy, when the text allows
    appeal_type: str | None = None  # 咨询/求助/投诉/举报/建议/表扬 (picks the SLA policy)
    #: "emergency" when flagged for 110/119/120/122, else the appeal's own ("urgent": the
    #: call-centre agent marked it 紧急/特急); the SLA policies read it
    urgency: str | None = None
    decision_id: str | None = None  # the reviewer's decision (人工复核) that made it, if any
    #: SLA policy tags: "outage" when the text reports a cut in supply (24 hours), and a
    #: reviewer's, e.g. "complex" for a 疑难复杂 case (15 working days)
    tags: list[str] | None = None
    # The appeal itself, masked as on appeals.received, so a department's system needs only
    # its own topic (not every department's appeals) to act and to reply: the channel, when
    # it came, what the citizen wrote, where, the attachments (media ids) and the reference
    # to resolve in the restricted contact store. A later hop (改派, 重办) copies them from
    # the hop before it (``stores/case_dossiers.py``).
    channel: str | None = None
    received_at: datetime | None = None
    title: str | None = None
    content: str | None = None
    address: str | None = None
    attachments: list[str] | None = None
    contact_ref: str | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.hop < 1:
            raise ValueError(f"hop must be >= 1, got {self.hop}")
        if self.assigned_at.tzinfo is None or self.assigned_at.utcoffset() is None:
            raise ValueError("assigned_at must be timezone-aware")
