"""Turn a routing decision into the :class:`models.assignment.Assignment` event."""

from __future__ import annotations

from datetime import datetime

from models.assignment import Assignment, AssistingDepartment, assignment_id_for
from routing.dispatch import RoutingDecision


def assignment_from_decision(
    decision: RoutingDecision,
    *,
    appeal_id: str,
    assigned_at: datetime,
    hop: int = 1,
    category: str | None = None,
    subcategory: str | None = None,
    category_confidence: float | None = None,
) -> Assignment:
    """The assignment event for ``decision`` (``assigned_at`` must be timezone-aware)."""
    return Assignment(
        appeal_id=appeal_id,
        assignment_id=assignment_id_for(appeal_id, hop),
        hop=hop,
        lead_code=decision.lead.code,
        lead_name=decision.lead.name,
        rule_id=decision.rule_id,
        rule_explanation=decision.explanation,
        confidence=round(decision.confidence, 4),
        fallback=decision.fallback,
        assigned_at=assigned_at,
        category=category,
        subcategory=subcategory,
        category_confidence=category_confidence,
        assisting=[AssistingDepartment(code=d.code, name=d.name) for d in decision.assisting],
        district=decision.district.name if decision.district else None,
    )
